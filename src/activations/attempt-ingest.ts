import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { EntityStatements } from '../db/prepared';
import { openBulkConnection, sqliteDatabaseOf } from '../db/pool';
import { onSqliteConnection } from '../db/transactions';
import { Progress, silentProgress } from '../ops/progress';
import { SqliteBatchCounts } from './sqlite-batch-counts';
import { attemptPartitions, attemptsArePartitioned, ensureAttemptMonths, monthStart } from './attempt-partitions';
import { ActivationAttempt, DecisionOutcome, RegionSource, ReviewStatus } from './activation-attempt.entity';

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

/** One attempt as the bulk path writes it (no explanation: history loaded in bulk has none). */
export interface BulkAttempt {
  /** An explicit id (the seed generator's: its devices name the attempt that locked them); else the sequence's. */
  id?: number;
  deviceId: number;
  occurredAt: Date;
  receivedAt: Date;
  signals: object;
  signalsPurgedAt: Date | null;
  resolvedRegionId: number | null;
  regionSource: RegionSource;
  outcome: DecisionOutcome;
  enforced: boolean;
  policyVersionId: number | null;
  reasonCodes: string[];
  reviewStatus: ReviewStatus | null;
  idempotencyKey: string | null;
}

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

const COLUMNS = [
  'deviceId',
  'occurredAt',
  'receivedAt',
  'signals',
  'signalsPurgedAt',
  'resolvedRegionId',
  'regionSource',
  'outcome',
  'enforced',
  'policyVersionId',
  'reasonCodes',
  'reviewStatus',
  'idempotencyKey',
] as const satisfies readonly (keyof BulkAttempt & keyof ActivationAttempt)[];

function valuesOf(row: BulkAttempt, explicitIds: boolean) {
  const values: unknown[] = [
    row.deviceId,
    row.occurredAt,
    row.receivedAt,
    JSON.stringify(row.signals),
    row.signalsPurgedAt,
    row.resolvedRegionId,
    row.regionSource,
    row.outcome,
    row.enforced,
    row.policyVersionId,
    JSON.stringify(row.reasonCodes),
    row.reviewStatus,
    row.idempotencyKey,
  ];
  if (explicitIds) {
    if (row.id === undefined) throw new Error('explicitIds is set but a row has no id');
    values.unshift(row.id);
  }
  return values;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: `\N` for null, backslash escapes for the separators. */
function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  const text = String(value);
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (character) => COPY_ESCAPES[character]) : text;
}

/** A value as better-sqlite3 binds it and TypeORM stores it: UTC datetime text, 0/1 for booleans. */
function sqliteField(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace('T', ' ').slice(0, 23);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function quotedColumns(dataSource: DataSource, explicitIds: boolean): string {
  // Column names come from the entity, so the bulk path cannot drift from it.
  const statements = new EntityStatements(dataSource, ActivationAttempt);
  return [...(explicitIds ? (['id'] as const) : []), ...COLUMNS]
    .map((property) => statements.column(property))
    .join(', ');
}

/**
 * Writes the attempts `chunks` yields (the source may be generated or parsed as it is read: it is
 * pulled a chunk at a time) and returns how many were written. A failure — of the source or of the
 * database — rolls back the open transaction; with the default `rowsPerTransaction` nothing stays.
 */
export async function ingestAttempts(
  dataSource: DataSource,
  chunks: AsyncIterable<BulkAttempt[]> | Iterable<BulkAttempt[]>,
  options: IngestOptions = {},
): Promise<number> {
  const explicitIds = options.explicitIds ?? false;
  const rowsPerTransaction = options.rowsPerTransaction ?? Infinity;
  const progress = options.progress ?? silentProgress;
  const columns = quotedColumns(dataSource, explicitIds);
  if (dataSource.options.type === 'postgres') {
    const client = await openBulkConnection(dataSource);
    const rowsPerStatement = options.rowsPerStatement ?? 50_000;
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
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue;
        // Each month gets its partition before its first row (else the row would go to the default partition).
        const missing = new Set<number>();
        let [checkedFrom, checkedUntil] = [0, 0];
        for (const { occurredAt } of chunk) {
          const instant = occurredAt.getTime();
          if (instant >= checkedFrom && instant < checkedUntil) continue;
          const month = monthStart(occurredAt);
          if (!months.has(month.getTime())) missing.add(month.getTime());
          [checkedFrom, checkedUntil] = [month.getTime(), monthStart(month, 1).getTime()];
        }
        if (byMonth && missing.size) {
          await ensureAttemptMonths(
            dataSource,
            [...missing].map((month) => new Date(month)),
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
        let text = '';
        for (const row of chunk) text += `${valuesOf(row, explicitIds).map(copyField).join('\t')}\n`;
        if (!copy.write(text)) await Promise.race([once(copy, 'drain'), copied]);
        inStatement += chunk.length;
        inTransaction += chunk.length;
        written += chunk.length;
        if (inStatement >= rowsPerStatement) await endCopy();
        if (inTransaction >= rowsPerTransaction) {
          await endCopy();
          await client.query('COMMIT');
          await client.query('BEGIN');
          inTransaction = 0;
        }
        progress.advance(chunk.length);
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
    const placeholders = (explicitIds ? COLUMNS.length + 1 : COLUMNS.length) as number;
    const insert = sqlite.prepare(
      `INSERT INTO "activation_attempt" (${columns}) VALUES (${Array.from({ length: placeholders }, () => '?').join(', ')})`,
    );
    const batch = options.countPerRow ? null : new SqliteBatchCounts(sqlite);
    const counts = batch?.applies ? batch : null;
    // Where each counted value sits in a row's values.
    const at = explicitIds ? 1 : 0;
    let written = 0;
    let inTransaction = 0;
    sqlite.exec('BEGIN');
    try {
      counts?.begin();
      for await (const chunk of chunks) {
        for (const row of chunk) {
          const values = valuesOf(row, explicitIds).map(sqliteField);
          const { lastInsertRowid } = insert.run(values);
          counts?.add(
            lastInsertRowid,
            row.deviceId,
            values[at + 1] as string,
            values[at + 2] as string,
            row.resolvedRegionId,
            row.outcome,
            row.enforced ? 1 : 0,
            row.idempotencyKey,
          );
        }
        written += chunk.length;
        inTransaction += chunk.length;
        if (inTransaction >= rowsPerTransaction) {
          counts?.finish();
          sqlite.exec('COMMIT');
          sqlite.exec('BEGIN');
          counts?.begin();
          inTransaction = 0;
        }
        progress.advance(chunk.length);
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
