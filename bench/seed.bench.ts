/**
 * Ingest speed: `npm run bench:seed -- --devices 200000 --attempts 1000000` (add
 * DATABASE_URL=postgres://… for PostgreSQL too; `--only sqlite|postgres` runs one). Seeds a fresh database with the generator — each
 * attempt generated, decided by the engine and written through the bulk path (COPY on PostgreSQL,
 * one prepared INSERT on SQLite) with the rollups and distinct-device tables kept by the triggers —
 * and then writes the same rows again, bare, into a twin table with the same columns and indexes
 * but no triggers and no foreign keys: PostgreSQL by COPY from a file of them, SQLite by one
 * prepared INSERT in one transaction. Prints both rates and their ratio, measured in one run, and
 * the database's size per million attempts. Beside the wall clock, the processor time each spent
 * (bench/processor-time.ts: this process with its generator threads, and PostgreSQL's backends
 * serving the bench database), which the machine's load moves much less, and the load average.
 * Each database runs in its own child process: column types are chosen per process (see
 * src/db/column-types.ts).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';
import { startProgress } from '../src/ops/progress';
import { generateDemoData } from '../src/seeding/demo-data';
import { bareCopy, bareInsert, databaseBytes } from './bare-ingest';
import { startDatabaseProcessMeter } from './processor-time';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '20000' },
    attempts: { type: 'string', default: '100000' },
    child: { type: 'string' },
    only: { type: 'string' },
  },
});
const devices = Number(values.devices);
const attempts = Number(values.attempts);

interface ProcessorTime {
  /** This process, its generator threads included. */
  serviceMs: number;
  /** PostgreSQL's backends serving the bench database; null on SQLite (it runs in the service). */
  databaseMs: number | null;
}

interface Measured {
  seedMilliseconds: number;
  attemptMilliseconds: number;
  bareMilliseconds: number;
  bytes: number;
  attemptProcessor: ProcessorTime;
  bareProcessor: ProcessorTime;
  /** The 1-minute load average at the start and at the end. */
  load: [number, number];
}

/** Runs `work` and gives its processor time: this process's, and the backends' of `database` (PostgreSQL). */
async function metered<T>(database: string | null, work: () => Promise<T>): Promise<[T, ProcessorTime]> {
  const service = process.cpuUsage();
  const stopDatabase = database ? startDatabaseProcessMeter(database) : null;
  const result = await work();
  const { user, system } = process.cpuUsage(service);
  return [result, { serviceMs: (user + system) / 1000, databaseMs: stopDatabase ? stopDatabase() : null }];
}

/** In the child: seed the database the environment names, then the bare baseline; prints the figures as JSON. */
async function measureHere(label: string): Promise<void> {
  const settings = { ...readSettings(), seedDemoData: false };
  const dataSource = await openDatabase(settings, () => undefined);
  const loadAtStart = loadavg()[0];
  const database =
    dataSource.options.type === 'postgres'
      ? String((await dataSource.query('SELECT current_database() AS "name"'))[0].name)
      : null;
  let attemptProcessor: ProcessorTime = { serviceMs: 0, databaseMs: null };
  const report = await generateDemoData(dataSource, {
    devices,
    attempts,
    seed: 'bench',
    until: new Date('2026-11-01T00:00:00Z'),
    days: 90,
    progress: startProgress(`${label} seeding`, attempts, { unit: 'attempts' }),
    aroundAttempts: async (write) => {
      const [written, spent] = await metered(database, write);
      attemptProcessor = spent;
      return written;
    },
  });
  const bytes = await databaseBytes(dataSource);
  const directory = mkdtempSync(join(tmpdir(), 'seed-bench-copy-'));
  try {
    let bareMilliseconds: number;
    let bareProcessor: ProcessorTime = { serviceMs: 0, databaseMs: null };
    if (database)
      bareMilliseconds = await bareCopy(dataSource, directory, async (copy) => {
        const [copied, spent] = await metered(database, copy);
        bareProcessor = spent;
        return copied;
      });
    else [bareMilliseconds, bareProcessor] = await metered(null, async () => bareInsert(dataSource));
    const measured: Measured = {
      seedMilliseconds: report.milliseconds,
      attemptMilliseconds: report.attemptMilliseconds,
      bareMilliseconds,
      bytes,
      attemptProcessor,
      bareProcessor,
      load: [loadAtStart, loadavg()[0]],
    };
    console.log(JSON.stringify(measured));
  } finally {
    rmSync(directory, { recursive: true, force: true });
    await dataSource.destroy();
  }
}

function measureIn(label: string, env: NodeJS.ProcessEnv): void {
  const output = execFileSync(
    process.execPath,
    [__filename, '--child', label, '--devices', String(devices), '--attempts', String(attempts)],
    { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  const measured = JSON.parse(output.trim().split('\n').pop()!) as Measured;
  const rate = attempts / (measured.attemptMilliseconds / 1000);
  const bareRate = attempts / (measured.bareMilliseconds / 1000);
  const perMillion = measured.bytes / (attempts / 1e6) / 1e6;
  console.log(
    `${label.padEnd(11)} ${devices.toLocaleString('en').padStart(10)} ${attempts.toLocaleString('en').padStart(11)} ` +
      `${(measured.seedMilliseconds / 1000).toFixed(1).padStart(8)} s ${Math.round(rate).toLocaleString('en').padStart(9)}/s ` +
      `${Math.round(bareRate).toLocaleString('en').padStart(9)}/s ${(rate / bareRate).toFixed(2).padStart(6)} ${perMillion.toFixed(0).padStart(7)} MB`,
  );
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const { attemptProcessor: bulk, bareProcessor: bare } = measured;
  // Bare: PostgreSQL's backends (the bench only streams a file to them); SQLite's insert runs in this process.
  const [bulkDatabase, bareDatabase] =
    bulk.databaseMs === null ? [bulk.serviceMs, bare.serviceMs] : [bulk.databaseMs, bare.databaseMs!];
  console.log(
    `${''.padEnd(11)} processor time: attempts ${bulk.databaseMs === null ? '' : `database ${seconds(bulk.databaseMs)}, `}` +
      `service ${seconds(bulk.serviceMs)} (generator threads included); bare ${seconds(bareDatabase)}; ` +
      `database ratio ${(bareDatabase / bulkDatabase).toFixed(2)}; load ${measured.load.map((load) => load.toFixed(1)).join(' → ')}`,
  );
}

async function main(): Promise<void> {
  if (values.child) return measureHere(values.child);
  console.log(
    'database       devices    attempts  seeding  attempts    bare (same rows)  ratio  size per 10^6 attempts',
  );
  if (values.only !== 'postgres') {
    const directory = mkdtempSync(join(tmpdir(), 'seed-bench-'));
    try {
      measureIn('SQLite', { DATABASE_URL: '', SQLITE_PATH: join(directory, 'bench.sqlite') });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  const url = process.env.DATABASE_URL;
  if (!url || values.only === 'sqlite') return;
  const database = await createTemporaryDatabase(url, 'cg_seed_bench');
  try {
    measureIn('PostgreSQL', { DATABASE_URL: database.url });
  } finally {
    await database.drop();
  }
}

void main();
