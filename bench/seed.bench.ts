/**
 * Seed generation speed: `npm run bench:seed -- --devices 200000 --attempts 1000000`.
 * Runs the generator on a fresh SQLite file and, when DATABASE_URL is set, on a fresh PostgreSQL
 * database beside it, and prints rows per second for each in one table.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { DatabaseSettings, readDatabaseSettings } from '../src/config';
import { openDatabase } from '../src/database';
import { generateDemoData } from '../src/seeding/demo-data';

async function measure(label: string, database: DatabaseSettings, devices: number, attempts: number) {
  const settings = { port: 0, production: false, database, maxPageSize: 100, seedDemoData: false };
  const dataSource = await openDatabase(settings, () => undefined);
  const report = await generateDemoData(dataSource, {
    devices,
    attempts,
    seed: 'bench',
    until: new Date('2026-11-01T00:00:00Z'),
    days: 90,
  });
  await dataSource.destroy();
  const seconds = report.milliseconds / 1000;
  console.log(
    `${label.padEnd(11)} ${String(devices).padStart(9)} ${String(attempts).padStart(10)} ${seconds.toFixed(1).padStart(8)} s ${Math.round(
      (devices + attempts) / seconds,
    )
      .toString()
      .padStart(10)} rows/s`,
  );
}

async function main() {
  const { values } = parseArgs({
    options: { devices: { type: 'string', default: '20000' }, attempts: { type: 'string', default: '100000' } },
  });
  const devices = Number(values.devices);
  const attempts = Number(values.attempts);
  console.log('database      devices   attempts     time      rate');
  const directory = mkdtempSync(join(tmpdir(), 'seed-bench-'));
  try {
    await measure(
      'SQLite',
      { ...readDatabaseSettings({}), sqlitePath: join(directory, 'bench.sqlite') },
      devices,
      attempts,
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `cg_bench_${process.pid}`;
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const benchUrl = new URL(url);
    benchUrl.pathname = `/${name}`;
    try {
      await measure(
        'PostgreSQL',
        { ...readDatabaseSettings({ DATABASE_URL: benchUrl.toString() }) },
        devices,
        attempts,
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }
}

void main();
