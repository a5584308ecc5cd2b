/*
 * What a lookup of attempts by id alone costs on the month-partitioned table (PostgreSQL), beside
 * the same lookup that also names occurredAt (so the planner prunes to one month): EXPLAIN
 * (ANALYZE, BUFFERS) of the loader's batch (id IN (…), as activationAttemptById sends it) and of
 * node(id:)'s single row, with MONTHS monthly partitions of ROWS_PER_MONTH attempts each.
 *   DATABASE_URL=postgres://postgres@127.0.0.1/test npx ts-node --transpile-only bench/attempt-lookup.bench.ts [months] [rowsPerMonth]
 */
import { createDataSource } from '../ormconfig';
import { readDatabaseSettings, readSettings } from '../src/config';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { ensureAttemptMonths } from '../src/activations/attempt-partitions';
import { monthStart } from '../src/activations/attempt-horizon';
import { loadReferenceData } from '../src/seeding/reference-data';
import { AttemptRef, attemptRefsQuery } from '../src/activations/attempt-refs';
import { generateDemoData } from '../src/seeding/demo-data';

async function main() {
  const months = Number(process.argv[2] ?? 36);
  const perMonth = Number(process.argv[3] ?? 10_000);
  const settings = readDatabaseSettings();
  if (settings.kind !== 'postgres') throw new Error('set DATABASE_URL to a PostgreSQL server');
  const temporary = await createTemporaryDatabase(settings.url!, 'cg_lookup');
  const dataSource = createDataSource({ ...settings, url: temporary.url, timeoutMs: 600_000 });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await loadReferenceData(dataSource, { ...readSettings({}), seedDemoData: false });
    await generateDemoData(dataSource, { devices: 1_000, attempts: 0, seed: 'lookup', until: new Date(), days: 1 });
    const first = monthStart(new Date(), -(months - 1));
    await ensureAttemptMonths(
      dataSource,
      Array.from({ length: months }, (_, index) => monthStart(first, index)),
    );
    // Bare rows (the counting triggers off for the load: this measures reads, not the rollups), on
    // one connection without the request timeout.
    const runner = dataSource.createQueryRunner();
    await runner.query('SET statement_timeout = 0');
    await runner.query(`SET session_replication_role = replica`);
    await runner.query(
      `INSERT INTO "activation_attempt" ("deviceId", "occurredAt", "receivedAt", "signals", "regionSource", "outcome", "enforced", "reasonCodes")
       SELECT (SELECT min("id") FROM "device") + (n % 1000), $1::timestamptz + (n::float / $2 * $3 || ' days')::interval, now(), '{}', 'NONE', 'ALLOW', true, '[]'
       FROM generate_series(0, $2 - 1) AS n`,
      [first.toISOString(), months * perMonth, months * 30],
    );
    await runner.query('VACUUM ANALYZE "activation_attempt"');
    await runner.release();
    const partitions = await dataSource.query(
      `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = '"activation_attempt"'::regclass`,
    );
    // 100 ids spread over the months (a device page's status history reaches back), and one.
    const sample: { id: number; occurredAt: Date }[] = await dataSource.query(
      `SELECT "id", "occurredAt" FROM "activation_attempt" ORDER BY random() LIMIT 100`,
    );
    const ids = sample.map((row) => row.id);
    const instants = sample.map((row) => new Date(row.occurredAt).toISOString());
    const explain = async (label: string, sql: string, parameters: unknown[]) => {
      const runs: { planning: number; execution: number; buffers: number; scans: number }[] = [];
      for (let run = 0; run < 7; run += 1) {
        const [
          {
            'QUERY PLAN': [plan],
          },
        ] = await dataSource.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, parameters);
        let scans = 0;
        const walk = (node: Record<string, unknown>) => {
          if (String(node['Node Type']).includes('Index') && node['Actual Loops'] !== 0) scans += 1;
          for (const child of (node.Plans as Record<string, unknown>[]) ?? []) walk(child);
        };
        walk(plan.Plan);
        if (process.env.SHOW_PLAN && run === 0)
          console.log(JSON.stringify(plan.Plan, (key, value) => (key === 'Output' ? undefined : value)).slice(0, 1500));
        runs.push({
          planning: plan['Planning Time'],
          execution: plan['Execution Time'],
          buffers: Number(plan.Plan['Shared Hit Blocks']) + Number(plan.Plan['Shared Read Blocks']),
          scans,
        });
      }
      runs.sort((a, b) => a.planning + a.execution - (b.planning + b.execution));
      const median = runs[3];
      console.log(
        `${label.padEnd(44)} partitions scanned ${String(median.scans).padStart(3)}  buffers ${String(median.buffers).padStart(5)}  planning ${median.planning.toFixed(3)} ms  execution ${median.execution.toFixed(3)} ms  total ${(median.planning + median.execution).toFixed(3)} ms`,
      );
      return median.planning + median.execution;
    };
    console.log(`${partitions[0].n} partitions (incl. default), ${months * perMonth} attempts`);
    const list = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => `$${from + index}`).join(', ');
    const batchById = await explain(
      'loader batch of 100, id IN (…)',
      `SELECT * FROM "activation_attempt" WHERE "id" IN (${list(1, 100)})`,
      ids,
    );
    // The same batch where each reference carries its attempt's occurredAt: a nested loop whose
    // inner side is pruned at run time to the one partition of each (id, occurredAt).
    const batchPruned = await explain(
      'loader batch of 100, (id, occurredAt) pairs',
      `SELECT a.* FROM unnest($1::int[], $2::timestamptz[]) AS k(id, at) JOIN "activation_attempt" a ON a."id" = k.id AND a."occurredAt" = k.at`,
      [ids, instants],
    );
    // The same batch through a table of id → occurredAt (its primary key on id): one probe there,
    // then one pruned probe of the attempts per id.
    await dataSource.query(
      `CREATE TABLE "attempt_month_probe" AS SELECT "id", "occurredAt" FROM "activation_attempt"; ALTER TABLE "attempt_month_probe" ADD PRIMARY KEY ("id"); ANALYZE "attempt_month_probe"`,
    );
    const batchThroughTable = await explain(
      'loader batch of 100, through an id → occurredAt table',
      `SELECT a.* FROM "attempt_month_probe" r JOIN "activation_attempt" a ON a."id" = r."id" AND a."occurredAt" = r."occurredAt" WHERE r."id" = ANY($1::int[])`,
      [ids],
    );
    const oneById = await explain('node(id:), id = $1', `SELECT * FROM "activation_attempt" WHERE "id" = $1`, [ids[0]]);
    const onePruned = await explain(
      'node(id:), id = $1 AND occurredAt = $2',
      `SELECT * FROM "activation_attempt" WHERE "id" = $1 AND "occurredAt" = $2`,
      [ids[0], instants[0]],
    );
    const throughTable = await explain(
      'node(id:), through an id → occurredAt table',
      `SELECT a.* FROM "attempt_month_probe" r JOIN "activation_attempt" a ON a."id" = r."id" AND a."occurredAt" = r."occurredAt" WHERE r."id" = $1`,
      [ids[0]],
    );
    // What the service sends since the fix (src/activations/attempt-refs.ts): the loader's one
    // statement for references carrying occurredAt (status changes, locks, live events), for IDs
    // naming the month (node(id:)), and for older IDs naming neither.
    const loaderStatement = async (label: string, refs: AttemptRef[]) => {
      const [sql, parameters] = attemptRefsQuery(dataSource.manager, refs).getQueryAndParameters();
      return explain(label, sql, parameters);
    };
    const monthOf = (instant: string) => monthStart(new Date(instant));
    const loaderPairs = await loaderStatement(
      'loader: 100 refs with occurredAt',
      sample.map((row) => ({ id: row.id, occurredAt: new Date(row.occurredAt) })),
    );
    const loaderMonths = await loaderStatement(
      'loader: 100 refs with the month (IDs)',
      instants.map((instant, index) => ({ id: ids[index], month: monthOf(instant) })),
    );
    const loaderLegacy = await loaderStatement(
      'loader: 100 refs by id alone (old IDs)',
      ids.map((id) => ({ id })),
    );
    const nodeNamed = await loaderStatement('node(id:) naming the month', [
      { id: ids[0], month: monthOf(instants[0]) },
    ]);
    const nodeLegacy = await loaderStatement('node(id:) of an older ID', [{ id: ids[0] }]);
    console.log(
      `loader ratios to id alone: batch with occurredAt ${(loaderLegacy / loaderPairs).toFixed(2)}, with months ${(loaderLegacy / loaderMonths).toFixed(2)}; node(id:) ${(nodeLegacy / nodeNamed).toFixed(2)}`,
    );
    console.log(
      `ratios by id alone / pruned: batch ${(batchById / batchPruned).toFixed(2)} (through the table ${(batchById / batchThroughTable).toFixed(2)}), single ${(oneById / onePruned).toFixed(2)} (through the table ${(oneById / throughTable).toFixed(2)})`,
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await temporary.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
