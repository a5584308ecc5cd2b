/**
 * Seed generation speed: `npm run bench:seed -- --devices 200000 --attempts 1000000`.
 * Runs the generator on a fresh SQLite file and, when DATABASE_URL is set, on a fresh PostgreSQL
 * database, and prints rows per second for each in one table. Each database runs in its own child
 * process: column types are chosen per process (see src/db/column-types.ts).
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
import { generateDemoData } from '../src/seeding/demo-data';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '20000' },
    attempts: { type: 'string', default: '100000' },
    child: { type: 'boolean', default: false },
  },
});
const devices = Number(values.devices);
const attempts = Number(values.attempts);

/** In the child: seed the database the environment names and print the milliseconds. */
async function measureHere(): Promise<void> {
  const settings = { ...readSettings(), seedDemoData: false };
  const dataSource = await openDatabase(settings, () => undefined);
  const report = await generateDemoData(dataSource, {
    devices,
    attempts,
    seed: 'bench',
    until: new Date('2026-11-01T00:00:00Z'),
    days: 90,
  });
  await dataSource.destroy();
  console.log(report.milliseconds);
}

function measureIn(label: string, env: NodeJS.ProcessEnv): void {
  const output = execFileSync(
    process.execPath,
    [__filename, '--child', '--devices', String(devices), '--attempts', String(attempts)],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    },
  );
  const seconds = Number(output.trim().split('\n').pop()) / 1000;
  const rate = Math.round((devices + attempts) / seconds);
  console.log(
    `${label.padEnd(11)} ${String(devices).padStart(9)} ${String(attempts).padStart(10)} ${seconds.toFixed(1).padStart(7)} s ${String(rate).padStart(9)} rows/s`,
  );
}

async function main(): Promise<void> {
  if (values.child) return measureHere();
  console.log('database      devices   attempts      time       rate');
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
