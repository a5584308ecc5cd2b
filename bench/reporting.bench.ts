/**
 * Reporting speed: `npm run bench:reporting -- [--devices 200000] [--attempts 1000000]
 * [--only sqlite|postgres] [--reports] [--simulation] [--device-page] [--sweep [--no-dry-run]]` (add DATABASE_URL=postgres://… for PostgreSQL too). Seeds a fresh database with the demo generator
 * (attempts over 120 days), then times each report through the GraphQL server in-process beside
 * the plain SQL GROUP BY over the raw table that computes the same figures, on the same database
 * in the same run (median of 5 after a warm-up).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { createApolloServer } from '../src/app';
import { inProcessGraphql } from './in-process-graphql';
import { readSettings, Settings } from '../src/config';
import { createServices } from '../src/services';
import { openDatabase } from '../src/database';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { generateDemoData } from '../src/seeding/demo-data';
import { startProgress } from '../src/ops/progress';
import { ingestAttempts, BulkAttempt } from '../src/activations/attempt-ingest';
import { DecisionOutcome, RegionSource } from '../src/activations/activation-attempt.entity';
import { StatementCounter } from '../src/db/statement-counter';
import { Device } from '../src/devices/device.entity';
import { markets } from '../src/seeding/places';
import { bareCopy, bareInsert, databaseBytes } from './bare-ingest';
import { startProcessorMeter } from './processor-time';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '200000' },
    attempts: { type: 'string', default: '1000000' },
    /** One database only (sqlite or postgres): the two can then run side by side, or one again. */
    only: { type: 'string' },
    /**
     * With --child: the database DATABASE_URL or SQLITE_PATH names is seeded already (by a run that
     * stopped after seeding): measure it as it is, without seeding it again (no ingest figures).
     */
    reuse: { type: 'boolean', default: false },
    /**
     * The read-only reports only (activationStats, policyImpact, lockedDeviceStats,
     * reviewQueueStats) beside their plain GROUP BYs: nothing is written (no bare copy, no device
     * page's attempts, no simulation or sweep), so it can measure a shared database with --reuse.
     */
    reports: { type: 'boolean', default: false },
    /** With --reports: only the four reports the issue sets a goal for (at 10^7 each other pass takes minutes). */
    goals: { type: 'boolean', default: false },
    /**
     * Runs of each plain GROUP BY after its warm-up (median); the reports always get 5. At 10^7 one
     * plain pass takes tens of seconds; 0 runs none (the reports alone, on a machine without the time).
     */
    'plain-runs': { type: 'string', default: '5' },
    /**
     * Only these figures (with --reuse, on a database seeded before): simulatePolicy, the LOCK
     * sweep (which locks devices: run it on a copy). Without either, every figure.
     */
    simulation: { type: 'boolean', default: false },
    /** The device page (gives the first device 10,000 attempts: after --reports and --simulation on a shared database). */
    'device-page': { type: 'boolean', default: false },
    sweep: { type: 'boolean', default: false },
    /**
     * With --sweep: no dry run before it (at 10^7 it counts 1.9 million candidates, minutes; a
     * before/after pair of sweeps needs that figure once).
     */
    'no-dry-run': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});
if (values.only && !['sqlite', 'postgres'].includes(values.only))
  throw new Error(`--only takes sqlite or postgres; got "${values.only}"`);
const UNTIL = new Date('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const from90 = new Date(UNTIL.getTime() - 90 * DAY);
const from30 = new Date(UNTIL.getTime() - 30 * DAY);

/** The issue's goals at 10^7 attempts (issue 21), printed beside each figure. */
const GOALS = new Map([
  ['activationStats by region and day, 90 days', '≤ 200 ms'],
  ['policyImpact of the export policy', '≤ 200 ms'],
  ['lockedDeviceStats by region, policy and cause', '≤ 200 ms'],
  ['reviewQueueStats by country', '≤ 200 ms'],
]);

async function median(work: () => Promise<unknown>, runs = 5): Promise<number> {
  await work();
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

async function benchOn(label: string, settings: Settings): Promise<void> {
  const dataSource: DataSource = await openDatabase({ ...settings, seedDemoData: false }, () => undefined);
  const seeded = values.reuse
    ? await alreadySeeded(dataSource)
    : await generateDemoData(dataSource, {
        devices: Number(values.devices),
        attempts: Number(values.attempts),
        seed: 'reporting-bench',
        until: UNTIL,
        days: 120,
        progress: startProgress(`${label} seeding`, Number(values.attempts), { unit: 'attempts' }),
      });
  const apollo = await createApolloServer(settings);
  await apollo.start();
  const services = createServices(dataSource, settings);
  if (values.simulation || values['device-page'] || values.sweep) {
    await measureSelected(label, dataSource, services, apollo);
    return;
  }
  const postgresDatabase = settings.database.kind === 'postgres';
  // Ingest beside the bare write of the same rows, and the size, before anything else is added.
  const bytes = await databaseBytes(dataSource);
  const parts = await sizeByPart(dataSource);
  let bareMilliseconds = NaN;
  if (!values.reports) {
    const bareDirectory = mkdtempSync(join(tmpdir(), 'reporting-bench-bare-'));
    bareMilliseconds = postgresDatabase ? await bareCopy(dataSource, bareDirectory) : bareInsert(dataSource);
    rmSync(bareDirectory, { recursive: true, force: true });
  }
  console.error(`${label} so far: ${bytes} bytes; the bare write of the attempts ${bareMilliseconds} ms`);

  const graphqlAs = inProcessGraphql(apollo, services);
  const graphql = (query: string, variables?: Record<string, unknown>) => graphqlAs('bench', query, variables);
  const postgres = settings.database.kind === 'postgres';
  const p = (index: number) => (postgres ? `$${index}` : '?');
  const stored = (date: Date) => (postgres ? date : date.toISOString().replace('T', ' ').replace('Z', ''));
  const day = postgres
    ? `date_trunc('day', a."occurredAt" AT TIME ZONE 'UTC')`
    : `strftime('%Y-%m-%d', a."occurredAt")`;
  const counts = `COUNT(*), COUNT(DISTINCT a."deviceId"), SUM(CASE WHEN a."outcome" = 'LOCK' AND a."enforced" THEN 1 ELSE 0 END)`;
  const rows: [string, number, number][] = [];
  const plainByRegionAndDay = () =>
    dataSource.query(
      `SELECT ${day}, a."resolvedRegionId", ${counts} FROM "activation_attempt" a WHERE a."occurredAt" >= ${p(1)} AND a."occurredAt" < ${p(2)} GROUP BY 1, 2`,
      [stored(from90), stored(UNTIL)],
    );
  const measure = async (name: string, report: () => Promise<unknown>, plain: () => Promise<unknown>) => {
    if (values.goals && !GOALS.has(name)) return;
    const plainRuns = Number(values['plain-runs']);
    rows.push([name, await median(report), plainRuns > 0 ? await median(plain, plainRuns) : NaN]);
    // Also as it is measured (on stderr): a 10^7 run takes hours on a loaded machine, and a figure
    // measured before it stops is still a figure.
    const [, reportMs, plainMs] = rows[rows.length - 1];
    console.error(
      `${label} so far: ${name}: ${reportMs.toFixed(0)} ms, plain ${Number.isNaN(plainMs) ? 'not run' : `${plainMs.toFixed(0)} ms`}`,
    );
  };

  // The same report with and without distinct devices: only the latter can come from the rollup.
  const byRegionAndDay = (devices: string) => () =>
    graphql(
      `query ($from: DateTime!, $to: DateTime!) {
        activationStats(filter: { from: $from, to: $to }, groupBy: [REGION], interval: DAY) {
          rows { bucketStart region { code } attempts ${devices} locks reviews monitorWouldLocks }
          totals { attempts ${devices} }
        }
      }`,
      { from: from90, to: UNTIL },
    );
  await measure('activationStats by region and day, 90 days', byRegionAndDay('devices'), plainByRegionAndDay);
  await measure('the same without distinct devices (from the daily rollup)', byRegionAndDay(''), plainByRegionAndDay);
  const month = postgres
    ? `date_trunc('month', a."occurredAt" AT TIME ZONE 'UTC')`
    : `strftime('%Y-%m', a."occurredAt")`;
  await measure(
    'monthly active devices, 90 days (from the day chains)',
    () =>
      graphql(
        `
          query ($from: DateTime!, $to: DateTime!) {
            activationStats(filter: { from: $from, to: $to }, interval: MONTH) {
              rows {
                bucketStart
                devices
              }
              totals {
                devices
              }
            }
          }
        `,
        { from: from90, to: UNTIL },
      ),
    () =>
      dataSource.query(
        `SELECT ${month}, COUNT(DISTINCT a."deviceId") FROM "activation_attempt" a WHERE a."occurredAt" >= ${p(1)} AND a."occurredAt" < ${p(2)} GROUP BY 1`,
        [stored(from90), stored(UNTIL)],
      ),
  );
  await measure(
    'activationStats by model and partner, 90 days, in Europe/Berlin weeks',
    () =>
      graphql(
        `
          query ($from: DateTime!, $to: DateTime!) {
            activationStats(
              filter: { from: $from, to: $to }
              groupBy: [MODEL, PARTNER]
              interval: WEEK
              timeZone: "Europe/Berlin"
            ) {
              rows {
                bucketStart
                attempts
                devices
              }
            }
          }
        `,
        { from: from90, to: UNTIL },
      ),
    () =>
      dataSource.query(
        `SELECT d."modelId", d."partnerId", ${counts} FROM "activation_attempt" a JOIN "device" d ON d."id" = a."deviceId" WHERE a."occurredAt" >= ${p(1)} AND a."occurredAt" < ${p(2)} GROUP BY 1, 2`,
        [stored(from90), stored(UNTIL)],
      ),
  );
  await measure(
    'policyImpact of the export policy',
    () =>
      graphql(`
        {
          policyImpact(policyKey: "export-restricted-territories") {
            outcome
            region {
              code
            }
            attempts
            devices
          }
        }
      `),
    () =>
      dataSource.query(
        `SELECT a."policyVersionId", a."outcome", a."resolvedRegionId", COUNT(*), COUNT(DISTINCT a."deviceId") FROM "activation_attempt" a WHERE a."policyVersionId" IS NOT NULL GROUP BY 1, 2, 3`,
      ),
  );
  await measure(
    'lockedDeviceStats by region, policy and cause',
    () =>
      graphql(`
        {
          lockedDeviceStats(groupBy: [REGION, POLICY, CAUSE]) {
            rows {
              region {
                code
              }
              policy {
                key
              }
              cause
              devices
              oldestLockedAt
            }
          }
        }
      `),
    () =>
      dataSource.query(
        `SELECT a."resolvedRegionId", v."policyId", COUNT(*), MIN(d."lockedAt") FROM "device" d LEFT JOIN "activation_attempt" a ON a."id" = d."lockedByAttemptId" LEFT JOIN "policy_version" v ON v."id" = a."policyVersionId" WHERE d."status" = 'LOCKED' GROUP BY 1, 2`,
      ),
  );
  await measure(
    'reviewQueueStats by country',
    () =>
      graphql(`
        {
          reviewQueueStats(groupBy: [COUNTRY]) {
            rows {
              country {
                code
              }
              waiting
              waitingOverDay
              oldestReceivedAt
            }
          }
        }
      `),
    () =>
      dataSource.query(
        `SELECT COALESCE(r."parentId", r."id"), COUNT(*), MIN(a."receivedAt") FROM "activation_attempt" a LEFT JOIN "region" r ON r."id" = a."resolvedRegionId" WHERE a."reviewStatus" = 'OPEN' GROUP BY 1`,
      ),
  );
  const printReports = () => {
    for (const [name, report, plain] of rows) {
      console.log(
        `  ${name.padEnd(72)} ${report.toFixed(0).padStart(6)} ms   ` +
          (Number.isNaN(plain)
            ? 'plain GROUP BY not run'
            : `plain GROUP BY ${plain.toFixed(0).padStart(6)} ms   ratio ${(report / plain).toFixed(2)}`) +
          `   goal ${GOALS.get(name) ?? '-'}`,
      );
    }
  };
  if (values.reports) {
    console.log(
      `\n${label}: ${seeded.devices.toLocaleString('en')} devices, ${seeded.attempts.toLocaleString('en')} attempts (the reports only; nothing written)`,
    );
    printReports();
    printSize({ ...parts, whole: bytes }, seeded.attempts);
    await apollo.stop();
    await services.close();
    await dataSource.destroy();
    return;
  }
  const { simulation, plainScan } = await measureSimulation(dataSource, graphql, postgres);
  console.error(
    `${label} so far: simulatePolicy ${simulation.toFixed(0)} ms, reading its signals ${plainScan.toFixed(0)} ms`,
  );
  const devicePage = await measureDevicePage(dataSource, graphql);
  console.error(`${label} so far: device page ${JSON.stringify(devicePage)}`);
  const sweep = await measureSweep(graphqlAs, services);

  console.log(
    `\n${label}: ${seeded.devices.toLocaleString('en')} devices, ${seeded.attempts.toLocaleString('en')} attempts over 120 days (seeded in ${(seeded.milliseconds / 1000).toFixed(0)} s)`,
  );
  printReports();
  console.log(
    `  ${'simulatePolicy over 30 days (a LOCK policy on TR)'.padEnd(72)} ${simulation.toFixed(0).padStart(6)} ms   reading the window's signals ${plainScan.toFixed(0).padStart(6)} ms   goal ≤ 20,000 ms at 10^7`,
  );
  const attempts = seeded.attempts;
  const rate = attempts / (seeded.attemptMilliseconds / 1000);
  const bareRate = attempts / (bareMilliseconds / 1000);
  console.log(
    `  ${'ingest (generated, decided, written with rollups)'.padEnd(72)} ${values.reuse ? '(seeded before: only the bare write measured) ' : ''}${Math.round(rate).toLocaleString('en').padStart(6)} /s   bare ${postgresDatabase ? 'COPY' : 'insert'} of the same rows ${Math.round(bareRate).toLocaleString('en')} /s   ratio ${(rate / bareRate).toFixed(2)}   goal ≥ 50,000/s, ratio ≥ 0.5`,
  );
  printSize({ ...parts, whole: bytes }, attempts);
  printDevicePage(devicePage);
  console.log(sweepLine(sweep));
  await apollo.stop();
  await services.close();
  await dataSource.destroy();
}

/** simulatePolicy over 30 days beside reading the window's signals, each once. */
async function measureSimulation(dataSource: DataSource, graphql: GraphQL, postgres: boolean) {
  const p = (index: number) => (postgres ? `$${index}` : '?');
  const stored = (date: Date) => (postgres ? date : date.toISOString().replace('T', ' ').replace('Z', ''));
  // The service's own processor time beside the wall clock: on a shared machine the wall clock
  // says how much of the cores the process was given as much as what the work cost.
  const cpuBefore = process.cpuUsage();
  const simulation = await median(
    () =>
      graphql(
        `
          query ($from: DateTime!, $to: DateTime!) {
            simulatePolicy(
              input: {
                policy: {
                  policyKey: "turkey"
                  action: LOCK
                  mode: ENFORCE
                  regionCodes: ["TR"]
                  effectiveFrom: "2020-01-01T00:00:00Z"
                }
                from: $from
                to: $to
              }
            ) {
              attempts
              changedAttempts
              changedDevices
            }
          }
        `,
        { from: from30, to: UNTIL },
      ),
    1,
  );
  const cpu = process.cpuUsage(cpuBefore);
  // The warm-up run and the measured one: half of it is one run's.
  const cpuMs = (cpu.user + cpu.system) / 1000 / 2;
  const plainScan = await median(
    () =>
      dataSource.query(
        `SELECT a."signals" FROM "activation_attempt" a WHERE a."occurredAt" >= ${p(1)} AND a."occurredAt" < ${p(2)}`,
        [stored(from30), stored(UNTIL)],
      ),
    1,
  );
  return { simulation, plainScan, cpuMs };
}

/** --simulation, --sweep: only those figures, on a database seeded before. */
async function measureSelected(
  label: string,
  dataSource: DataSource,
  services: ReturnType<typeof createServices>,
  apollo: Awaited<ReturnType<typeof createApolloServer>>,
) {
  const graphqlAs = inProcessGraphql(apollo, services);
  const seeded = await alreadySeeded(dataSource);
  console.log(
    `\n${label}: ${seeded.devices.toLocaleString('en')} devices, ${seeded.attempts.toLocaleString('en')} attempts${values.reuse ? ' (seeded before)' : ''}`,
  );
  if (values.simulation) {
    const { simulation, plainScan, cpuMs } = await measureSimulation(
      dataSource,
      (query, variables) => graphqlAs('bench', query, variables),
      settingsArePostgres(dataSource),
    );
    console.log(
      `  ${'simulatePolicy over 30 days (a LOCK policy on TR)'.padEnd(72)} ${simulation.toFixed(0).padStart(6)} ms (service CPU ${cpuMs.toFixed(0)} ms)   reading the window's signals ${plainScan.toFixed(0).padStart(6)} ms   goal ≤ 20,000 ms at 10^7`,
    );
  }
  if (values['device-page']) {
    const devicePage = await measureDevicePage(dataSource, (query, variables) => graphqlAs('bench', query, variables));
    printDevicePage(devicePage);
  }
  if (values.sweep) {
    const sweep = await measureSweep(graphqlAs, services);
    console.log(sweepLine(sweep));
  }
  await apollo.stop();
  await services.close();
  await dataSource.destroy();
}

function printDevicePage(devicePage: Awaited<ReturnType<typeof measureDevicePage>>) {
  console.log(
    `  ${`device page, 50 attempts of a device with ${devicePage.attempts.toLocaleString('en')}`.padEnd(72)} first ${devicePage.firstMs.toFixed(0)} ms / ${devicePage.firstStatements} statements, page at ${devicePage.depth.toLocaleString('en')} ${devicePage.deepMs.toFixed(0)} ms / ${devicePage.deepStatements} statements   a device with ${devicePage.fewAttempts}: ${devicePage.fewMs.toFixed(0)} ms / ${devicePage.fewStatements} statements`,
  );
}

/** The attempts' tables (with their key table) and the counts kept for reports, as sizeByPart adds them up. */
const ATTEMPT_TABLES = ['activation_attempt', 'activation_idempotency_key'];
const REPORT_COUNT_TABLES = [
  'activation_hourly_rollup',
  'activation_daily_rollup',
  'activation_device_day',
  'activation_device_day_link',
  'activation_group_device_day',
  'activation_daily_devices',
  'policy_impact_rollup',
  'policy_impact_device',
];

/**
 * Bytes of the attempts (every month's partition on PostgreSQL, with indexes and TOAST; the key
 * table) and of the counts kept for reports (rollups, day chains, presence rows), beside the whole
 * database. SQLite: from its dbstat table (pages of each table and its indexes).
 */
async function sizeByPart(dataSource: DataSource): Promise<{ attempts: number; counts: number }> {
  const byTable = new Map<string, number>();
  if (dataSource.options.type === 'postgres') {
    const rows: { table: string; bytes: string }[] = await dataSource.query(
      `SELECT COALESCE(root."relname", c."relname") AS "table", SUM(pg_total_relation_size(c."oid")) AS "bytes"
         FROM pg_class c
         LEFT JOIN pg_inherits i ON i."inhrelid" = c."oid"
         LEFT JOIN pg_class root ON root."oid" = i."inhparent"
        WHERE c."relkind" = 'r' AND c."relnamespace" = 'public'::regnamespace
        GROUP BY 1`,
    );
    for (const row of rows) byTable.set(row.table, Number(row.bytes));
  } else {
    const rows: { table: string; bytes: number }[] = await dataSource.query(
      `SELECT m."tbl_name" AS "table", SUM(s."pgsize") AS "bytes" FROM dbstat s JOIN sqlite_master m ON m."name" = s."name" GROUP BY 1`,
    );
    for (const row of rows) byTable.set(row.table, Number(row.bytes));
  }
  const sum = (tables: string[]) => tables.reduce((total, table) => total + (byTable.get(table) ?? 0), 0);
  return {
    attempts: sum(ATTEMPT_TABLES),
    counts: sum(REPORT_COUNT_TABLES),
  };
}

function printSize(parts: { attempts: number; counts: number; whole: number }, attempts: number) {
  const perMillion = (bytes: number) => `${(bytes / (attempts / 1e6) / 1e6).toFixed(0)} MB`;
  console.log(
    `  ${'database size per 10^6 attempts'.padEnd(72)} ${perMillion(parts.whole).padStart(9)}   of which the attempts (with indexes, keys) ${perMillion(parts.attempts)}, the counts kept for reports ${perMillion(parts.counts)}`,
  );
}

function settingsArePostgres(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

/** What a database seeded before holds (--reuse): its times are unknown. */
async function alreadySeeded(dataSource: DataSource) {
  const [{ devices }] = await dataSource.query(`SELECT COUNT(*) AS "devices" FROM "device"`);
  const [{ attempts }] = await dataSource.query(`SELECT COUNT(*) AS "attempts" FROM "activation_attempt"`);
  return { devices: Number(devices), attempts: Number(attempts), milliseconds: NaN, attemptMilliseconds: NaN };
}

type GraphQL = (query: string, variables?: Record<string, unknown>) => Promise<Record<string, any>>;

/**
 * A device given 10,000 attempts (through the bulk path), its first page and a page 5,000 deep
 * (reached by cursor, as a client pages), each with its statement count, beside a device with few.
 */
async function measureDevicePage(dataSource: DataSource, graphql: GraphQL) {
  const ATTEMPTS = 10_000;
  const PAGE = 50;
  const [busy, quiet] = await dataSource.getRepository(Device).find({ order: { id: 'ASC' }, take: 2 });
  const start = from90.getTime();
  const rows: BulkAttempt[] = Array.from({ length: ATTEMPTS }, (_, index) => ({
    deviceId: busy.id,
    occurredAt: new Date(start + Math.floor((index * (UNTIL.getTime() - start)) / ATTEMPTS)),
    receivedAt: new Date(start + Math.floor((index * (UNTIL.getTime() - start)) / ATTEMPTS) + 1_000),
    signals: { ipCountry: 'DE' },
    signalsPurgedAt: null,
    resolvedRegionId: null,
    regionSource: RegionSource.IP,
    outcome: DecisionOutcome.ALLOW,
    enforced: true,
    policyVersionId: null,
    reasonCodes: [],
    reviewStatus: null,
    idempotencyKey: null,
  }));
  await ingestAttempts(dataSource, [rows]);
  const counter = dataSource.logger as StatementCounter;
  const PAGE_QUERY = `query ($imei: String!, $first: Int!, $after: String) {
    device(imei: $imei) {
      attempts(first: $first, after: $after) {
        nodes { id occurredAt outcome reasonCodes resolvedRegion { code } policyVersion { number } }
        pageInfo { endCursor hasNextPage }
      }
    }
  }`;
  const page = async (imei: string, after: string | null) => {
    const before = counter.count;
    const started = process.hrtime.bigint();
    const data = await graphql(PAGE_QUERY, { imei, first: PAGE, after });
    return {
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      statements: counter.count - before,
      endCursor: data.device.attempts.pageInfo.endCursor as string,
    };
  };
  await page(busy.imei, null);
  const first = await page(busy.imei, null);
  let cursor: string | null = first.endCursor;
  let deep = first;
  const depth = ATTEMPTS / 2;
  for (let seen = PAGE; seen < depth; seen += PAGE) {
    deep = await page(busy.imei, cursor);
    cursor = deep.endCursor;
  }
  await page(quiet.imei, null);
  const few = await page(quiet.imei, null);
  const [{ count }] = await dataSource.query(
    `SELECT COUNT(*) AS "count" FROM "activation_attempt" WHERE "deviceId" = ${Number(quiet.id)}`,
  );
  return {
    attempts: ATTEMPTS,
    depth,
    firstMs: first.ms,
    firstStatements: first.statements,
    deepMs: deep.ms,
    deepStatements: deep.statements,
    fewAttempts: Number(count),
    fewMs: few.ms,
    fewStatements: few.statements,
  };
}

/**
 * A LOCK policy on the demo's markets, approved by a second person and enforced, then its
 * LOCK_ACTIVE_DEVICES sweep: counted by a dry run, then run to the end (batches, pauses and all).
 */
async function measureSweep(
  graphqlAs: (viewer: string, query: string, variables?: Record<string, unknown>) => Promise<Record<string, any>>,
  services: ReturnType<typeof createServices>,
) {
  const graphql: GraphQL = (query, variables) => graphqlAs('bench', query, variables);
  const approve = async (changeRequest: { id: string } | null) => {
    if (!changeRequest) return;
    await graphqlAs(
      'second reviewer',
      `mutation ($id: ID!) { approvePolicyChange(input: { id: $id, comment: "bench" }) { userErrors { message } } }`,
      { id: changeRequest.id },
    );
  };
  const created = await graphql(
    `
      mutation ($codes: [String!]!) {
        createPolicy(
          input: {
            key: "bench-sweep"
            title: "Bench sweep"
            description: "d"
            legalBasis: "l"
            action: LOCK
            mode: MONITOR
            effectiveFrom: "2020-01-01T00:00:00Z"
            regionCodes: $codes
            lockMessage: "Not for this market"
          }
        ) {
          policy {
            id
          }
          userErrors {
            message
          }
        }
      }
    `,
    { codes: markets.map((market) => market.regionCode) },
  );
  const id = created.createPolicy.policy.id;
  const activated = await graphql(
    `
      mutation ($id: ID!) {
        activatePolicy(input: { id: $id }) {
          changeRequest {
            id
          }
          userErrors {
            message
          }
        }
      }
    `,
    { id },
  );
  await approve(activated.activatePolicy.changeRequest);
  const enforced = await graphql(
    `
      mutation ($id: ID!) {
        updatePolicy(input: { id: $id, mode: ENFORCE }) {
          changeRequest {
            id
          }
          userErrors {
            message
          }
        }
      }
    `,
    { id },
  );
  await approve(enforced.updatePolicy.changeRequest);
  const START = `mutation ($dryRun: Boolean!) { startSweep(input: { policyKey: "bench-sweep", action: LOCK_ACTIVE_DEVICES, dryRun: $dryRun }) {
    sweep { id } preview { total changed } userErrors { message } } }`;
  let started = process.hrtime.bigint();
  const dryRun = values['no-dry-run'] ? null : await graphql(START, { dryRun: true });
  const dryRunMilliseconds = dryRun ? Number(process.hrtime.bigint() - started) / 1e6 : null;
  const processor = await startProcessorMeter(services.dataSource);
  started = process.hrtime.bigint();
  const run = await graphql(START, { dryRun: false });
  if (run.startSweep.userErrors.length) throw new Error(JSON.stringify(run.startSweep.userErrors));
  // Its progress from the sweep's own row (at 10^7 a sweep runs for many minutes): read every 2 s
  // while it runs, not measured apart from the sweep (a statement per read).
  const progress = startProgress('LOCK sweep', Number(dryRun?.startSweep.preview.total ?? 0), { unit: 'devices' });
  let shown = 0;
  let reading: Promise<void> | null = null;
  const readProgress = () =>
    graphql(
      `
        query ($id: ID!) {
          sweep(id: $id) {
            processed
            total
          }
        }
      `,
      { id: run.startSweep.sweep.id },
    ).then((answer) => {
      // The sweep's own total (its count as it started), not the dry run's estimate: the bar ends at 100 %.
      if (answer.sweep?.total) progress.setTotal(Number(answer.sweep.total));
      const processed = Number(answer.sweep?.processed ?? shown);
      progress.advance(processed - shown);
      shown = processed;
    });
  const poll = setInterval(() => {
    reading ??= readProgress()
      // A failed read leaves the bar where it was; the sweep itself is not disturbed by it.
      .catch((error) =>
        console.error(`LOCK sweep progress not read: ${error instanceof Error ? error.message : error}`),
      )
      .finally(() => (reading = null));
  }, 2_000);
  try {
    await services.sweeps.idle();
  } finally {
    clearInterval(poll);
    await reading;
  }
  await readProgress();
  progress.stop();
  const milliseconds = Number(process.hrtime.bigint() - started) / 1e6;
  const { serviceMs, databaseMs } = await processor();
  const finished = await graphql(
    `
      query ($id: ID!) {
        sweep(id: $id) {
          status
          total
          processed
          changed
        }
      }
    `,
    {
      id: run.startSweep.sweep.id,
    },
  );
  if (finished.sweep.status !== 'COMPLETED') throw new Error(`sweep ended ${finished.sweep.status}`);
  const total = finished.sweep.total ?? dryRun?.startSweep.preview.total;
  // Printed as "NaN devices" otherwise (--no-dry-run and a sweep row without its total).
  if (total === null || total === undefined) throw new Error('the finished sweep has no total');
  return {
    total: Number(total),
    changed: Number(finished.sweep.changed),
    milliseconds,
    dryRunMilliseconds,
    serviceMs,
    databaseMs,
  };
}

/**
 * The sweep's line: wall clock, devices per second and what 2,000,000 devices take at that rate
 * (the issue's goal), and the processor time the service and PostgreSQL's backends spent, which a
 * shared machine's load moves much less than the wall clock.
 */
function sweepLine(sweep: Awaited<ReturnType<typeof measureSweep>>): string {
  const perSecond = sweep.total / (sweep.milliseconds / 1000);
  const processor =
    `processor: service ${(sweep.serviceMs / 1000).toFixed(1)} s` +
    (sweep.databaseMs === null ? '' : `, PostgreSQL ${(sweep.databaseMs / 1000).toFixed(1)} s`);
  return (
    `  ${`LOCK sweep over ${sweep.total.toLocaleString('en')} devices (${sweep.changed.toLocaleString('en')} locked)`.padEnd(72)} ` +
    `${(sweep.milliseconds / 1000).toFixed(1).padStart(6)} s   ${Math.round(perSecond).toLocaleString('en')} devices/s, ` +
    `2,000,000 in ${(2_000_000 / perSecond).toFixed(0)} s   ${processor}   ` +
    (sweep.dryRunMilliseconds === null
      ? ''
      : `its dry run (counting) ${(sweep.dryRunMilliseconds / 1000).toFixed(1)} s   `) +
    `goal ≤ 300 s at 2,000,000 devices`
  );
}

/** Column types follow DATABASE_URL per process, so each database is measured in a child process. */
function runChild(label: string, env: NodeJS.ProcessEnv): void {
  execFileSync(
    process.execPath,
    [
      __filename,
      '--child',
      label,
      '--devices',
      values.devices!,
      '--attempts',
      values.attempts!,
      ...(values.reports ? ['--reports'] : []),
      ...(values.goals ? ['--goals'] : []),
      '--plain-runs',
      values['plain-runs']!,
      ...(values.simulation ? ['--simulation'] : []),
      ...(values['device-page'] ? ['--device-page'] : []),
      ...(values.sweep ? ['--sweep'] : []),
      ...(values['no-dry-run'] ? ['--no-dry-run'] : []),
    ],
    {
      env: { ...process.env, ...env },
      stdio: 'inherit',
    },
  );
}

async function main(): Promise<void> {
  // The plain GROUP BYs and the reports that pass over the attempts take longer than the
  // service's 5 s database timeout at 10^7 attempts: they are measured, not cut off.
  process.env.DATABASE_TIMEOUT_MS ??= '600000';
  if (values.child) return benchOn(values.child, { ...readSettings(), logLevel: 'silent' });
  console.log(`machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}`);
  if (values.only !== 'postgres') {
    const directory = mkdtempSync(join(tmpdir(), 'reporting-bench-'));
    try {
      runChild('SQLite', { DATABASE_URL: '', SQLITE_PATH: join(directory, 'bench.sqlite') });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  if (!process.env.DATABASE_URL || values.only === 'sqlite') return;
  const database = await createTemporaryDatabase(process.env.DATABASE_URL, 'cg_reporting_bench');
  try {
    runChild('PostgreSQL', { DATABASE_URL: database.url });
  } finally {
    await database.drop();
  }
}

void main();
