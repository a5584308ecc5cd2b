/**
 * Reporting speed: `npm run bench:reporting -- [--devices 200000] [--attempts 1000000]` (add
 * DATABASE_URL=postgres://… for PostgreSQL too). Seeds a fresh database with the demo generator
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
import { internalViewer } from '../src/auth/viewer';
import { readSettings, Settings } from '../src/config';
import { createContext } from '../src/context';
import { createServices } from '../src/services';
import { openDatabase } from '../src/database';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { generateDemoData } from '../src/seeding/demo-data';
import { startProgress } from '../src/ops/progress';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '200000' },
    attempts: { type: 'string', default: '1000000' },
    child: { type: 'string' },
  },
});
const UNTIL = new Date('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const from90 = new Date(UNTIL.getTime() - 90 * DAY);
const from30 = new Date(UNTIL.getTime() - 30 * DAY);

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
  const seeded = await generateDemoData(dataSource, {
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
  const graphql = async (query: string, variables?: Record<string, unknown>) => {
    const contextValue = createContext(services, 'bench', internalViewer('bench'));
    const response = await apollo.executeOperation({ query, variables }, { contextValue });
    const result = response.body.kind === 'single' ? response.body.singleResult : null;
    if (result?.errors) throw new Error(JSON.stringify(result.errors));
  };
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
    rows.push([name, await median(report), await median(plain)]);
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
  const plainScan = await median(
    () =>
      dataSource.query(
        `SELECT a."signals" FROM "activation_attempt" a WHERE a."occurredAt" >= ${p(1)} AND a."occurredAt" < ${p(2)}`,
        [stored(from30), stored(UNTIL)],
      ),
    1,
  );

  console.log(
    `\n${label}: ${seeded.devices.toLocaleString('en')} devices, ${seeded.attempts.toLocaleString('en')} attempts over 120 days (seeded in ${(seeded.milliseconds / 1000).toFixed(0)} s)`,
  );
  // The goals at 10^7 attempts (issue 21), printed beside each figure.
  const goals: Record<string, string> = {
    'activationStats by region and day, 90 days': '≤ 200 ms',
    'policyImpact of the export policy': '≤ 200 ms',
    'lockedDeviceStats by region, policy and cause': '≤ 200 ms',
    'reviewQueueStats by country': '≤ 200 ms',
  };
  for (const [name, report, plain] of rows) {
    console.log(
      `  ${name.padEnd(72)} ${report.toFixed(0).padStart(6)} ms   plain GROUP BY ${plain.toFixed(0).padStart(6)} ms   ratio ${(report / plain).toFixed(2)}   goal ${goals[name] ?? '-'}`,
    );
  }
  console.log(
    `  ${'simulatePolicy over 30 days (a LOCK policy on TR)'.padEnd(72)} ${simulation.toFixed(0).padStart(6)} ms   reading the window's signals ${plainScan.toFixed(0).padStart(6)} ms   goal ≤ 20,000 ms at 10^7`,
  );
  await apollo.stop();
  await services.close();
  await dataSource.destroy();
}

/** Column types follow DATABASE_URL per process, so each database is measured in a child process. */
function runChild(label: string, env: NodeJS.ProcessEnv): void {
  execFileSync(
    process.execPath,
    [__filename, '--child', label, '--devices', values.devices!, '--attempts', values.attempts!],
    {
      env: { ...process.env, ...env },
      stdio: 'inherit',
    },
  );
}

async function main(): Promise<void> {
  if (values.child) return benchOn(values.child, { ...readSettings(), logLevel: 'silent' });
  console.log(`machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}`);
  const directory = mkdtempSync(join(tmpdir(), 'reporting-bench-'));
  try {
    runChild('SQLite', { DATABASE_URL: '', SQLITE_PATH: join(directory, 'bench.sqlite') });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  if (!process.env.DATABASE_URL) return;
  const database = await createTemporaryDatabase(process.env.DATABASE_URL, 'cg_reporting_bench');
  try {
    runChild('PostgreSQL', { DATABASE_URL: database.url });
  } finally {
    await database.drop();
  }
}

void main();
