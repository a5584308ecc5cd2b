/**
 * Ingest speed: `npm run bench:seed -- --devices 200000 --attempts 1000000` (add
 * DATABASE_URL=postgres://… for PostgreSQL too). Seeds a fresh database with the generator — each
 * attempt generated, decided by the engine and written through the bulk path (COPY on PostgreSQL,
 * one prepared INSERT on SQLite) with the rollups and distinct-device tables kept by the triggers —
 * and then writes the same rows again, bare, into a twin table with the same columns and indexes
 * but no triggers and no foreign keys: PostgreSQL by COPY from a file of them, SQLite by one
 * prepared INSERT in one transaction. Prints both rates and their ratio, measured in one run, and
 * the database's size per million attempts. Each database runs in its own child process: column
 * types are chosen per process (see src/db/column-types.ts).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';
import { startProgress } from '../src/ops/progress';
import { generateDemoData } from '../src/seeding/demo-data';
import { bareCopy, bareInsert, databaseBytes } from './bare-ingest';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '20000' },
    attempts: { type: 'string', default: '100000' },
    child: { type: 'string' },
  },
});
const devices = Number(values.devices);
const attempts = Number(values.attempts);

interface Measured {
  seedMilliseconds: number;
  attemptMilliseconds: number;
  bareMilliseconds: number;
  bytes: number;
}

/** In the child: seed the database the environment names, then the bare baseline; prints the figures as JSON. */
async function measureHere(label: string): Promise<void> {
  const settings = { ...readSettings(), seedDemoData: false };
  const dataSource = await openDatabase(settings, () => undefined);
  const report = await generateDemoData(dataSource, {
    devices,
    attempts,
    seed: 'bench',
    until: new Date('2026-11-01T00:00:00Z'),
    days: 90,
    progress: startProgress(`${label} seeding`, attempts, { unit: 'attempts' }),
  });
  const bytes = await databaseBytes(dataSource);
  const directory = mkdtempSync(join(tmpdir(), 'seed-bench-copy-'));
  try {
    const bareMilliseconds =
      dataSource.options.type === 'postgres' ? await bareCopy(dataSource, directory) : bareInsert(dataSource);
    const measured: Measured = {
      seedMilliseconds: report.milliseconds,
      attemptMilliseconds: report.attemptMilliseconds,
      bareMilliseconds,
      bytes,
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
}

async function main(): Promise<void> {
  if (values.child) return measureHere(values.child);
  console.log(
    'database       devices    attempts  seeding  attempts    bare (same rows)  ratio  size per 10^6 attempts',
  );
  const directory = mkdtempSync(join(tmpdir(), 'seed-bench-'));
  try {
    measureIn('SQLite', { DATABASE_URL: '', SQLITE_PATH: join(directory, 'bench.sqlite') });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const database = await createTemporaryDatabase(url, 'cg_seed_bench');
  try {
    measureIn('PostgreSQL', { DATABASE_URL: database.url });
  } finally {
    await database.drop();
  }
}

void main();
