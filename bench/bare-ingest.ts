/**
 * The baselines the ingest benchmarks compare with (bench:seed, bench:reporting): the same rows
 * written bare — no triggers, no foreign keys, a table with the same columns, indexes and (on
 * PostgreSQL) partitions — and the database's size.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { DEFAULT_ROWS_PER_STATEMENT } from '../src/activations/attempt-ingest';
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
 * PostgreSQL: the attempts to files in COPY's format (not timed), then the files COPY'd into the
 * twin (timed, and wrapped in `around`: bench:seed meters it). The twin is the attempts' table
 * without what the bulk path adds to a bare write: the same columns and indexes, partitioned by the
 * same month bounds (each partition with the attempts' indexes), no triggers, no reference check.
 * It starts empty as a seed's partitions do, and takes the rows as the bulk path wrote them: in id
 * order, in COPY statements of the bulk path's size (DEFAULT_ROWS_PER_STATEMENT). Until session 12
 * the twin was one unpartitioned table taking every row in one COPY, in partition order: a write
 * the attempts never get (no partition routing, one statement, rows in month order), so the ratio
 * mixed what the counting costs with what the table's shape costs (README, Scale, Ingest).
 */
export async function bareCopy(
  dataSource: DataSource,
  directory: string,
  around: <T>(copy: () => Promise<T>) => Promise<T> = (copy) => copy(),
): Promise<number> {
  const client = await openBulkConnection(dataSource);
  const files: string[] = [];
  try {
    const { rows: partitions } = await client.query<{ bound: string }>(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS "bound"
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = '"activation_attempt"'::regclass ORDER BY c.relname`,
    );
    // A run that failed before its DROP left the twin (and its partitions) behind.
    await client.query(`DROP TABLE IF EXISTS "${BARE_TABLE}"`);
    await client.query(
      `CREATE TABLE "${BARE_TABLE}" (LIKE "activation_attempt" INCLUDING DEFAULTS INCLUDING INDEXES)` +
        (partitions.length ? ' PARTITION BY RANGE ("occurredAt")' : ''),
    );
    for (const [index, { bound }] of partitions.entries())
      await client.query(`CREATE TABLE "${BARE_TABLE}_${index}" PARTITION OF "${BARE_TABLE}" ${bound}`);
    // The rows in id order (the order the bulk path wrote them), a statement's worth per file.
    for (let after = 0; ;) {
      const { rows } = await client.query<{ last: number | null }>(
        `SELECT max("id") AS "last" FROM (SELECT "id" FROM "activation_attempt" WHERE "id" > $1 ORDER BY "id" LIMIT $2) s`,
        [after, DEFAULT_ROWS_PER_STATEMENT],
      );
      if (rows[0].last === null) break;
      const file = join(directory, `attempts-${files.length}.copy`);
      await pipeline(
        client.query(
          copyTo(
            `COPY (SELECT * FROM "activation_attempt" WHERE "id" > ${Number(after)} AND "id" <= ${Number(rows[0].last)} ORDER BY "id") TO STDOUT`,
          ),
        ),
        createWriteStream(file),
      );
      files.push(file);
      after = Number(rows[0].last);
    }
    const started = Date.now();
    await around(async () => {
      await client.query('BEGIN');
      for (const file of files)
        await pipeline(createReadStream(file), client.query(copyFrom(`COPY "${BARE_TABLE}" FROM STDIN`)));
      await client.query('COMMIT');
    });
    return Date.now() - started;
  } finally {
    // Not left for the next run's --reuse to trip over, nor counted in the database's size.
    await client.query('ROLLBACK').catch(() => undefined);
    await client.query(`DROP TABLE IF EXISTS "${BARE_TABLE}"`).catch(() => undefined);
    await client.end();
    for (const file of files) rmSync(file, { force: true });
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
