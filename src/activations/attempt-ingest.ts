import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { EntityStatements } from '../db/prepared';
import { openBulkConnection, sqliteDatabaseOf } from '../db/pool';
import { onSqliteConnection } from '../db/transactions';
import { Progress, silentProgress } from '../ops/progress';
import { SqliteBatchCounts } from './sqlite-batch-counts';
import { attemptPartitions, attemptsArePartitioned, ensureAttemptMonths } from './attempt-partitions';
import { ActivationAttempt } from './activation-attempt.entity';
import {
  BulkAttempt,
  COLUMNS,
  EncodedAttempts,
  encodeAttempts,
  IngestDialect,
  rowWidth,
  valueIndex,
} from './attempt-encoding';

export type { BulkAttempt, EncodedAttempts } from './attempt-encoding';

/*
 * The bulk path for attempts: history loaded in the millions (the seed generator, imports of
 * historic attempts, tests), not decisions. PostgreSQL takes the rows through COPY, SQLite through
 * one prepared INSERT in large transactions. The rollups and distinct-device tables come out as a
 * decision leaves them: PostgreSQL's triggers are per statement and see a COPY's rows as one
 * transition table, so they count once per COPY of tens of thousands of rows; SQLite's count per
 * row, so the load sets them aside and counts each transaction's rows at its commit with the same
 * set-based statements (sqlite-batch-counts.ts). On PostgreSQL each month gets its partition
 * before its first row.
 */

/** Rows per COPY statement on PostgreSQL unless IngestOptions.rowsPerStatement says otherwise. */
export const DEFAULT_ROWS_PER_STATEMENT = 50_000;

export interface IngestOptions {
  /** Whether the rows carry their ids (all of them). */
  explicitIds?: boolean;
  /**
   * Rows per transaction. The default, no limit, makes the load all or nothing; the seed generator
   * commits every few hundred thousand rows so that SQLite's write-ahead log stays small.
   */
  rowsPerTransaction?: number;
  /** Rows per COPY statement on PostgreSQL: the triggers' work is per statement, the memory they use grows with it. */
  rowsPerStatement?: number;
  progress?: Progress;
  /**
   * SQLite: count each row through the per-row triggers, as a decision is counted, instead of the
   * whole batch at its commit (the default, same result; see sqlite-batch-counts.ts). For tests
   * that compare the two.
   */
  countPerRow?: boolean;
}

function quotedColumns(dataSource: DataSource, explicitIds: boolean): string {
  // Column names come from the entity, so the bulk path cannot drift from it.
  const statements = new EntityStatements(dataSource, ActivationAttempt);
  return [...(explicitIds ? (['id'] as const) : []), ...COLUMNS]
    .map((property) => statements.column(property))
    .join(', ');
}

/** Which encoding a database takes. */
export function ingestDialect(dataSource: DataSource): IngestDialect {
  return dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * Writes the attempts `chunks` yields (the source may be generated or parsed as it is read: it is
 * pulled a chunk at a time) and returns how many were written. A chunk is rows, or rows encoded
 * already for this database (encodeAttempts, on another thread). A failure — of the source or of
 * the database — rolls back the open transaction; with the default `rowsPerTransaction` nothing stays.
 */
export async function ingestAttempts(
  dataSource: DataSource,
  chunks: AsyncIterable<BulkAttempt[] | EncodedAttempts> | Iterable<BulkAttempt[] | EncodedAttempts>,
  options: IngestOptions = {},
): Promise<number> {
  const explicitIds = options.explicitIds ?? false;
  const rowsPerTransaction = options.rowsPerTransaction ?? Infinity;
  const progress = options.progress ?? silentProgress;
  const columns = quotedColumns(dataSource, explicitIds);
  const dialect = ingestDialect(dataSource);
  const encoded = (chunk: BulkAttempt[] | EncodedAttempts): EncodedAttempts => {
    if (Array.isArray(chunk)) return encodeAttempts(chunk, dialect, explicitIds);
    if (chunk.dialect !== dialect || chunk.explicitIds !== explicitIds)
      throw new Error(
        `a chunk encoded for ${chunk.dialect}${chunk.explicitIds ? ' with ids' : ''} cannot be written to ${dialect}${explicitIds ? ' with ids' : ''}`,
      );
    return chunk;
  };
  if (dialect === 'postgres') {
    const client = await openBulkConnection(dataSource);
    const rowsPerStatement = options.rowsPerStatement ?? DEFAULT_ROWS_PER_STATEMENT;
    let written = 0;
    let copy: ReturnType<typeof copyFrom> | null = null;
    let copied: Promise<void> = Promise.resolve();
    try {
      await client.query('BEGIN');
      let inTransaction = 0;
      let inStatement = 0;
      const endCopy = async () => {
        if (!copy) return;
        copy.end();
        await copied;
        copy = null;
        inStatement = 0;
      };
      // Before the partitioning migration (a test of it loads the old table) there is no partition to make.
      const byMonth = await attemptsArePartitioned(dataSource);
      const months = new Set((await attemptPartitions(dataSource)).map((partition) => partition.month.getTime()));
      for await (const source of chunks) {
        const chunk = encoded(source);
        if (chunk.count === 0) continue;
        // Each month gets its partition before its first row (else the row would go to the default partition).
        const missing = chunk.months.filter((month) => !months.has(month));
        if (byMonth && missing.length) {
          await ensureAttemptMonths(
            dataSource,
            missing.map((month) => new Date(month)),
          );
          for (const month of missing) months.add(month);
        }
        if (!copy) {
          copy = client.query(copyFrom(`COPY "activation_attempt" (${columns}) FROM STDIN`));
          const stream = copy;
          // Listened to at once, so a failure while the next chunk is made is not unhandled.
          copied = new Promise((resolve, reject) => {
            stream.on('finish', resolve);
            stream.on('error', reject);
          });
          copied.catch(() => undefined);
        }
        if (!copy.write(chunk.copyText)) await Promise.race([once(copy, 'drain'), copied]);
        inStatement += chunk.count;
        inTransaction += chunk.count;
        written += chunk.count;
        if (inStatement >= rowsPerStatement) await endCopy();
        if (inTransaction >= rowsPerTransaction) {
          await endCopy();
          await client.query('COMMIT');
          await client.query('BEGIN');
          inTransaction = 0;
        }
        progress.advance(chunk.count);
      }
      await endCopy();
      await client.query('COMMIT');
    } catch (error) {
      // A COPY still open is cancelled first (CopyFail), so the connection can roll back and be reused.
      if (copy) {
        (copy as ReturnType<typeof copyFrom>).destroy(error instanceof Error ? error : new Error(String(error)));
        await copied.catch(() => undefined);
      }
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await client.end().catch(() => undefined);
    }
    return written;
  }

  const sqlite = sqliteDatabaseOf(dataSource)!;
  return onSqliteConnection(dataSource, async () => {
    const width = rowWidth(explicitIds);
    const insert = sqlite.prepare(
      `INSERT INTO "activation_attempt" (${columns}) VALUES (${Array.from({ length: width }, () => '?').join(', ')})`,
    );
    const batch = options.countPerRow ? null : new SqliteBatchCounts(sqlite);
    const counts = batch?.applies ? batch : null;
    // Where each counted value sits in a row's values.
    const at = {
      deviceId: valueIndex('deviceId', explicitIds),
      occurredAt: valueIndex('occurredAt', explicitIds),
      receivedAt: valueIndex('receivedAt', explicitIds),
      resolvedRegionId: valueIndex('resolvedRegionId', explicitIds),
      outcome: valueIndex('outcome', explicitIds),
      enforced: valueIndex('enforced', explicitIds),
      idempotencyKey: valueIndex('idempotencyKey', explicitIds),
      policyVersionId: valueIndex('policyVersionId', explicitIds),
      reasonCodes: valueIndex('reasonCodes', explicitIds),
    };
    let written = 0;
    let inTransaction = 0;
    sqlite.exec('BEGIN');
    try {
      counts?.begin();
      for await (const source of chunks) {
        const { values, count } = encoded(source);
        for (let row = 0, start = 0; row < count; row += 1, start += width) {
          const rowValues = values.slice(start, start + width);
          const { lastInsertRowid } = insert.run(rowValues);
          counts?.add(
            lastInsertRowid,
            rowValues[at.deviceId] as number,
            rowValues[at.occurredAt] as string,
            rowValues[at.receivedAt] as string,
            rowValues[at.resolvedRegionId] as number | null,
            rowValues[at.outcome] as string,
            rowValues[at.enforced] as number,
            rowValues[at.idempotencyKey] as string | null,
            rowValues[at.policyVersionId] as number | null,
            rowValues[at.reasonCodes] as string,
          );
        }
        written += count;
        inTransaction += count;
        if (inTransaction >= rowsPerTransaction) {
          counts?.finish();
          sqlite.exec('COMMIT');
          sqlite.exec('BEGIN');
          counts?.begin();
          inTransaction = 0;
        }
        progress.advance(count);
        // better-sqlite3 is synchronous: let timers (the progress line) run between chunks.
        await nextTurn();
      }
      counts?.finish();
      sqlite.exec('COMMIT');
      return written;
    } catch (error) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw error;
    }
  });
}
