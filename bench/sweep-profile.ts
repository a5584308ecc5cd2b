/**
 * Where a LOCK sweep batch spends its time: `DATABASE_URL=… (or SQLITE_PATH=…) npx ts-node --transpile-only
 * bench/sweep-profile.ts [--batches 20] [--batch-size 1000] [--count] [--explain]` on a seeded database
 * (`--count`: every candidate counted, as a dry run does, beside the estimate a sweep starts with). Creates (once) the
 * bench's "bench-sweep" policy on the demo markets, then runs batches phase by phase as the runner
 * does, each in a transaction rolled back at the end (the database is left as it was, but for the
 * policy). Prints the median time of each phase.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createApolloServer } from '../src/app';
import { inProcessGraphql } from './in-process-graphql';
import { readSettings } from '../src/config';
import { createServices } from '../src/services';
import { openDatabase } from '../src/database';
import { internalScope } from '../src/common/request-scope';
import { Policy } from '../src/policies/policy.entity';
import { markets } from '../src/seeding/places';
import { processorMs } from './processor-time';
import { Sweep, SweepAction, SweepStatus } from '../src/sweeps/sweep.entity';
import { lockSweep } from '../src/sweeps/sweep-runner';
import {
  applyChanges,
  countCandidates,
  estimateCandidates,
  nextCandidates,
  emptyBreakdown,
  plannedChanges,
  sweepScope,
} from '../src/sweeps/sweep.service';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '20' },
    'batch-size': { type: 'string', default: '1000' },
    count: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
  },
});

async function main() {
  process.env.DATABASE_TIMEOUT_MS ??= '600000';
  const settings = { ...readSettings(), logLevel: 'silent' as const };
  const dataSource = await openDatabase({ ...settings, seedDemoData: false }, () => undefined);
  const apollo = await createApolloServer(settings);
  await apollo.start();
  const services = createServices(dataSource, settings);
  const graphqlAs = inProcessGraphql(apollo, services);
  let policy = await dataSource.getRepository(Policy).findOneBy({ key: 'bench-sweep' });
  if (!policy) {
    const approve = async (changeRequest: { id: string } | null) => {
      if (changeRequest)
        await graphqlAs(
          'second reviewer',
          `mutation ($id: ID!) { approvePolicyChange(input: { id: $id, comment: "bench" }) { userErrors { message } } }`,
          { id: changeRequest.id },
        );
    };
    const created = await graphqlAs(
      'bench',
      `mutation ($codes: [String!]!) { createPolicy(input: { key: "bench-sweep", title: "Bench sweep", description: "d",
        legalBasis: "l", action: LOCK, mode: MONITOR, effectiveFrom: "2020-01-01T00:00:00Z", regionCodes: $codes,
        lockMessage: "Not for this market" }) { policy { id } userErrors { message } } }`,
      { codes: markets.map((market) => market.regionCode) },
    );
    const id = created.createPolicy.policy.id;
    const activated = await graphqlAs(
      'bench',
      `mutation ($id: ID!) { activatePolicy(input: { id: $id }) { changeRequest { id } userErrors { message } } }`,
      { id },
    );
    await approve(activated.activatePolicy.changeRequest);
    const enforced = await graphqlAs(
      'bench',
      `mutation ($id: ID!) { updatePolicy(input: { id: $id, mode: ENFORCE }) { changeRequest { id } userErrors { message } } }`,
      { id },
    );
    await approve(enforced.updatePolicy.changeRequest);
    policy = await dataSource.getRepository(Policy).findOneByOrFail({ key: 'bench-sweep' });
  }
  const context = internalScope(dataSource, settings, 'sweep profile', 'sweep-profile');
  const phases = new Map<string, number[]>();
  const record = (name: string, ms: number) => (phases.get(name) ?? phases.set(name, []).get(name)!).push(ms);
  // Processor time beside the wall clock (the load moves the wall clock of the same work by 2× here): the
  // service's (this process, every thread) and the batch's backend's (its /proc on this machine), per phase.
  let backend: number | null = null;
  const time = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    const service = process.cpuUsage();
    const server = backend === null ? null : processorMs(backend);
    const result = await work();
    record(name, Number(process.hrtime.bigint() - started) / 1e6);
    if (name.startsWith('  sql:')) return result;
    const { user, system } = process.cpuUsage(service);
    record(`${name} [service cpu]`, (user + system) / 1000);
    const serverNow = backend === null ? null : processorMs(backend);
    if (server !== null && serverNow !== null) record(`${name} [server cpu]`, serverNow - server);
    return result;
  };
  if (values.count) {
    const started = process.hrtime.bigint();
    const scope = await sweepScope(
      dataSource.manager,
      await services.evaluator.current(),
      'bench-sweep',
      SweepAction.LOCK_ACTIVE_DEVICES,
    );
    const total = await countCandidates(dataSource.manager, scope);
    console.log(`countCandidates: ${total} in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
    // What a sweep's start does instead: the devices in the status, and a sample of candidates beyond 10,000.
    const estimating = process.hrtime.bigint();
    const estimate = await estimateCandidates(dataSource.manager, scope);
    console.log(
      `estimateCandidates: ${estimate} (${(((estimate - total) / Math.max(total, 1)) * 100).toFixed(2)} %) in ` +
        `${(Number(process.hrtime.bigint() - estimating) / 1e6).toFixed(0)} ms`,
    );
  }
  const limit = Number(values['batch-size']);
  let cursor = 0;
  let examined = 0;
  let changed = 0;
  const rollback = new Error('rollback');
  for (let batch = 0; batch < Number(values.batches); batch += 1) {
    const started = process.hrtime.bigint();
    await dataSource
      .transaction(async (manager) => {
        const sweep =
          (await manager.findOneBy(Sweep, { policyId: policy!.id, status: SweepStatus.PAUSED })) ??
          (await manager.save(
            manager.create(Sweep, {
              policyId: policy!.id,
              action: SweepAction.LOCK_ACTIVE_DEVICES,
              status: SweepStatus.PAUSED,
              note: 'profile',
              total: 0,
              processed: 0,
              changed: 0,
              failed: 0,
              breakdown: emptyBreakdown(),
              cursor: 0,
              leaseOwner: null,
              leaseUntil: null,
              startedBy: 'profile',
              startedAt: new Date(),
              updatedAt: new Date(),
              finishedAt: null,
            }),
          ));
        const runner = manager.queryRunner!;
        const query = runner.query.bind(runner);
        if (dataSource.options.type === 'postgres')
          backend = Number(((await query('SELECT pg_backend_pid() AS pid')) as { pid: number }[])[0].pid);
        runner.query = (async (sql: string, parameters?: unknown[], structured?: boolean) => {
          // Named from its first characters only: SQLite's multi-row statements run to 100 kB, and a
          // regex over the whole text cost about as much as running the statement.
          const name = `  sql: ${sql.slice(0, 80).replace(/\s+/g, ' ').slice(0, 40)}`;
          if (
            values.explain &&
            /^(INSERT|UPDATE|WITH|SELECT (d\.|"(d|a|Device)"))/.test(sql) &&
            dataSource.options.type === 'postgres'
          ) {
            await query('SAVEPOINT explain');
            const plan: { 'QUERY PLAN': string }[] = await query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, parameters);
            await query('ROLLBACK TO SAVEPOINT explain');
            const text = plan.map((row) => row['QUERY PLAN']).join('\n');
            const execution = Number(/Execution Time: ([\d.]+)/.exec(text)?.[1]);
            (phases.get(`${name} [server]`) ?? phases.set(`${name} [server]`, []).get(`${name} [server]`)!).push(
              execution,
            );
            if (batch === 0) console.log(`${sql.slice(0, 300)}\n${text}\n`);
          }
          return time(name, () => query(sql, parameters, structured as never));
        }) as typeof runner.query;
        await time('lock sweep row', () => lockSweep(manager, sweep.id));
        const scope = await time('policy + scope', async () => {
          await manager.findOneByOrFail(Policy, { id: sweep.policyId });
          return sweepScope(
            manager,
            await services.evaluator.current(),
            'bench-sweep',
            SweepAction.LOCK_ACTIVE_DEVICES,
          );
        });
        const candidates = await time('candidates with devices and evidence', () =>
          nextCandidates(manager, scope, cursor, limit),
        );
        const ids = candidates.devices.map((device) => device.id);
        if (!ids.length) throw rollback;
        const planned = await time('judging', async () => plannedChanges(scope, candidates, new Date()));
        const applied = await time('apply changes (update, history, events, audit)', () =>
          applyChanges(manager, context, sweep, planned),
        );
        await time('sweep row update', () =>
          manager.update(Sweep, { id: sweep.id }, { cursor: ids[ids.length - 1], updatedAt: new Date() }),
        );
        cursor = ids[ids.length - 1];
        examined += ids.length;
        changed += applied.length;
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
    (phases.get('batch (rolled back)') ?? phases.set('batch (rolled back)', []).get('batch (rolled back)')!).push(
      Number(process.hrtime.bigint() - started) / 1e6,
    );
  }
  console.log(
    `${examined} devices examined, ${changed} would change, in ${phases.get('batch (rolled back)')?.length} batches of ${limit}`,
  );
  for (const [name, times] of phases) {
    const sorted = [...times].sort((a, b) => a - b);
    const total = times.reduce((sum, t) => sum + t, 0);
    console.log(
      `  ${name.padEnd(50)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(1).padStart(8)} ms   total ${total.toFixed(0).padStart(7)} ms`,
    );
  }
  await apollo.stop();
  await services.close();
  await dataSource.destroy();
}

void main();
