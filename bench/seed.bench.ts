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
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { openBulkConnection, sqliteDatabaseOf } from '../src/db/pool';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';
import { startProgress } from '../src/ops/progress';
import { generateDemoData } from '../src/seeding/demo-data';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '20000' },
    attempts: { type: 'string', default: '100000' },
    child: { type: 'string' },
  },
});
const devices = Number(values.devices);
const attempts = Number(values.attempts);
const BARE_TABLE = 'bench_bare_attempt';

interface Measured {
  seedMilliseconds: number;
  attemptMilliseconds: number;
  bareMilliseconds: number;
  bytes: number;
}

async function databaseBytes(dataSource: DataSource): Promise<number> {
  if (dataSource.options.type === 'postgres') {
    const [row] = await dataSource.query('SELECT pg_database_size(current_database()) AS "bytes"');
    return Number(row.bytes);
  }
  const sqlite = sqliteDatabaseOf(dataSource)!;
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  return Number(sqlite.pragma('page_count', { simple: true })) * Number(sqlite.pragma('page_size', { simple: true }));
}

/**
 * PostgreSQL: the attempts to a file in COPY's format (not timed), then the file COPY'd into the
 * twin table (timed): one table with the same columns and indexes, not partitioned, no triggers.
 */
async function bareCopy(dataSource: DataSource, directory: string): Promise<number> {
  const client = await openBulkConnection(dataSource);
  const file = join(directory, 'attempts.copy');
  try {
    await client.query(`CREATE TABLE "${BARE_TABLE}" (LIKE "activation_attempt" INCLUDING DEFAULTS INCLUDING INDEXES)`);
    await pipeline(
      client.query(copyTo('COPY (SELECT * FROM "activation_attempt") TO STDOUT')),
      createWriteStream(file),
    );
    const started = Date.now();
    await pipeline(createReadStream(file), client.query(copyFrom(`COPY "${BARE_TABLE}" FROM STDIN`)));
    const milliseconds = Date.now() - started;
    await client.query(`DROP TABLE "${BARE_TABLE}"`);
    return milliseconds;
  } finally {
    await client.end();
    rmSync(file, { force: true });
  }
}

/** SQLite: the attempts read back in id order and inserted by one prepared statement in one transaction (timed). */
function bareInsert(dataSource: DataSource): number {
  const sqlite = sqliteDatabaseOf(dataSource)!;
  const schema = sqlite
    .prepare(
      `SELECT "type", "sql" FROM sqlite_master WHERE "tbl_name" = 'activation_attempt' AND "type" IN ('table', 'index') AND "sql" IS NOT NULL`,
    )
    .all() as { type: string; sql: string }[];
  for (const { sql } of schema.sort((a, b) => (a.type === 'table' ? -1 : b.type === 'table' ? 1 : 0))) {
    // The twin: same columns and indexes, no foreign keys (they would be checked per row) and no triggers.
    const twin = sql
      .replace(/"activation_attempt"/g, `"${BARE_TABLE}"`)
      .replace(/INDEX "([^"]+)"/, `INDEX "bare_$1"`)
      .replace(/, CONSTRAINT "[^"]+" FOREIGN KEY \([^)]*\) REFERENCES "[^"]+" \([^)]*\)[A-Z ]*/g, '');
    sqlite.exec(twin);
  }
  const columns = (sqlite.prepare('SELECT * FROM "activation_attempt" LIMIT 1').columns() as { name: string }[]).map(
    (column) => `"${column.name}"`,
  );
  const insert = sqlite.prepare(
    `INSERT INTO "${BARE_TABLE}" (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  const read = sqlite
    .prepare(`SELECT ${columns.join(', ')} FROM "activation_attempt" WHERE "id" > ? ORDER BY "id" LIMIT 20000`)
    .raw();
  const started = Date.now();
  sqlite.transaction(() => {
    let after = 0;
    for (;;) {
      const rows = read.all(after) as unknown[][];
      if (rows.length === 0) break;
      for (const row of rows) insert.run(row);
      after = Number(rows[rows.length - 1][0]);
    }
  })();
  const milliseconds = Date.now() - started;
  sqlite.exec(`DROP TABLE "${BARE_TABLE}"`);
  return milliseconds;
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
