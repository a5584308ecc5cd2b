/**
 * The baselines the ingest benchmarks compare with (bench:seed, bench:reporting): the same rows
 * written bare — no triggers, no foreign keys, one table with the same columns and indexes — and
 * the database's size.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { openBulkConnection, sqliteDatabaseOf } from '../src/db/pool';

const BARE_TABLE = 'bench_bare_attempt';

export async function databaseBytes(dataSource: DataSource): Promise<number> {
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
 * twin table (timed, and wrapped in `around`: bench:seed meters it): one table with the same
 * columns and indexes, not partitioned, no triggers.
 */
export async function bareCopy(
  dataSource: DataSource,
  directory: string,
  around: <T>(copy: () => Promise<T>) => Promise<T> = (copy) => copy(),
): Promise<number> {
  const client = await openBulkConnection(dataSource);
  const file = join(directory, 'attempts.copy');
  try {
    await client.query(`CREATE TABLE "${BARE_TABLE}" (LIKE "activation_attempt" INCLUDING DEFAULTS INCLUDING INDEXES)`);
    await pipeline(
      client.query(copyTo('COPY (SELECT * FROM "activation_attempt") TO STDOUT')),
      createWriteStream(file),
    );
    const started = Date.now();
    await around(() => pipeline(createReadStream(file), client.query(copyFrom(`COPY "${BARE_TABLE}" FROM STDIN`))));
    const milliseconds = Date.now() - started;
    await client.query(`DROP TABLE "${BARE_TABLE}"`);
    return milliseconds;
  } finally {
    await client.end();
    rmSync(file, { force: true });
  }
}

/** SQLite: the attempts read back in id order and inserted by one prepared statement in one transaction (timed). */
export function bareInsert(dataSource: DataSource): number {
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
