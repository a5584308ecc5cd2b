import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { openBulkConnection } from '../db/pool';
import { monthStart, oldestAttemptInstant } from './attempt-horizon';

/*
 * On PostgreSQL the attempts are partitioned by UTC month of occurredAt (declarative range
 * partitioning, migration 1765640000000): reports and what-if replays over a window read only its
 * months, and retention drops a whole month instead of deleting millions of rows. SQLite keeps
 * one table (an embedded database of that size is not this service's use).
 *
 * The service makes its own partitions instead of pg_partman (Debian packages it, as
 * postgresql-15-partman 4.7.2): the extension has to be installed on every server, including
 * managed ones and CI's, and needs superuser to create; its maintenance needs its background worker
 * in shared_preload_libraries (a server restart) or a cron job; and what we need is small — a month
 * table made ahead, rows that arrived early or late moved out of the default partition, and a
 * retention that refuses to drop evidence still in use. That is this file.
 *
 * Each month is made as a standalone table and then ATTACHed: ATTACH PARTITION takes only a SHARE
 * UPDATE EXCLUSIVE lock on the parent, so it does not wait for (or block) decisions and a bulk
 * load in progress, where CREATE TABLE … PARTITION OF would take an ACCESS EXCLUSIVE lock.
 * A row whose month has no partition yet (a late report of a month long gone, an attempt the day a
 * maintenance round was missed) lands in the default partition; the next round moves it out.
 */

export const ATTEMPTS_TABLE = 'activation_attempt';
export const DEFAULT_PARTITION = 'activation_attempt_default';
/** Months made ahead of the current one by each maintenance round. */
export const MONTHS_AHEAD = 3;
/** Serialises partition changes between instances (an arbitrary constant of this service). */
const PARTITION_LOCK = 7_216_040;
const NAME = /^activation_attempt_y(\d{4})m(\d{2})$/;

export function partitioned(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

/** Whether the attempts table is partitioned now (false before the migration, and on SQLite). */
export async function attemptsArePartitioned(dataSource: DataSource): Promise<boolean> {
  if (!partitioned(dataSource)) return false;
  const [row] = await dataSource.query(`SELECT relkind FROM pg_class WHERE oid = '"${ATTEMPTS_TABLE}"'::regclass`);
  return row?.relkind === 'p';
}

/** Whether a month may have a partition: within the history's horizon, at most MONTHS_AHEAD ahead. */
function monthInHorizon(month: Date, now: Date): boolean {
  return month >= oldestAttemptInstant(now) && month <= monthStart(now, MONTHS_AHEAD);
}

export function partitionName(month: Date): string {
  return `${ATTEMPTS_TABLE}_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

export interface AttemptPartition {
  name: string;
  month: Date;
}

async function withClient<T>(dataSource: DataSource, work: (client: Client) => Promise<T>): Promise<T> {
  // A connection without the request timeouts: moving rows or checking a month may take a while.
  const client = await openBulkConnection(dataSource);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Runs `work` in a transaction holding the partition lock; rolls back on failure. */
async function underPartitionLock<T>(client: Client, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The monthly partitions attached now, oldest first (none on SQLite). */
export async function attemptPartitions(dataSource: DataSource): Promise<AttemptPartition[]> {
  if (!partitioned(dataSource)) return [];
  const rows: { name: string }[] = await dataSource.query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '"${ATTEMPTS_TABLE}"'::regclass`,
  );
  return rows
    .flatMap(({ name }) => {
      const match = NAME.exec(name);
      return match ? [{ name, month: new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)) }] : [];
    })
    .sort((a, b) => a.month.getTime() - b.month.getTime());
}

/** The parent's columns in order, for moving rows between its tables. */
async function columnList(client: Client): Promise<string> {
  const { rows } = await client.query(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS columns FROM pg_attribute ` +
      `WHERE attrelid = '"${ATTEMPTS_TABLE}"'::regclass AND attnum > 0 AND NOT attisdropped`,
  );
  return rows[0].columns as string;
}

/**
 * Makes the partitions of these months that do not exist yet, each in a transaction of its own,
 * moving in any rows of the month the default partition holds. Returns the partitions made.
 * Safe to run on several instances at once (the partition lock).
 */
export async function ensureAttemptMonths(
  dataSource: DataSource,
  months: Iterable<Date>,
  now = new Date(),
): Promise<string[]> {
  if (!partitioned(dataSource)) return [];
  const wanted = [...new Map([...months].map((month) => [monthStart(month).getTime(), monthStart(month)])).values()];
  wanted.sort((a, b) => a.getTime() - b.getTime());
  // Checked before any is made: the bulk path (seed, import, tests) asks for the months of its
  // rows, and a row of the year 1 must fail the load, not leave a partition per month behind it.
  const outside = wanted.filter((month) => !monthInHorizon(month, now));
  if (outside.length)
    throw new Error(
      `no partition is made for ${outside.map((month) => month.toISOString().slice(0, 7)).join(', ')}: ` +
        `outside the history's horizon (${oldestAttemptInstant(now).toISOString().slice(0, 7)} to ${monthStart(now, MONTHS_AHEAD).toISOString().slice(0, 7)})`,
    );
  const made: string[] = [];
  await withClient(dataSource, async (client) => {
    for (const month of wanted) {
      const name = partitionName(month);
      const created = await underPartitionLock(client, async () => {
        const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [`"${name}"`]);
        if (rows[0].present) return false;
        const from = month.toISOString();
        const until = monthStart(month, 1).toISOString();
        await client.query(`CREATE TABLE "${name}" (LIKE "${ATTEMPTS_TABLE}" INCLUDING DEFAULTS)`);
        const columns = await columnList(client);
        await client.query(
          `WITH moved AS (DELETE FROM "${DEFAULT_PARTITION}" WHERE "occurredAt" >= $1 AND "occurredAt" < $2 RETURNING ${columns}) ` +
            `INSERT INTO "${name}" (${columns}) SELECT ${columns} FROM moved`,
          [from, until],
        );
        await client.query(
          `ALTER TABLE "${ATTEMPTS_TABLE}" ATTACH PARTITION "${name}" FOR VALUES FROM ('${from}') TO ('${until}')`,
        );
        return true;
      });
      if (created) made.push(name);
    }
  });
  return made;
}

export interface MaintenanceOutcome {
  /** The partitions made. */
  made: string[];
  /**
   * Months of rows waiting in the default partition that got no partition, outside the history's
   * horizon (attempt-horizon.ts): the rows stay in the default partition, to be looked at.
   */
  skipped: { month: Date; attempts: number }[];
}

/**
 * One maintenance round: the months from the previous one to MONTHS_AHEAD ahead exist, and the
 * months of any rows waiting in the default partition get their partitions (the rows move in) —
 * unless the month lies outside the history's horizon (ten years back, MONTHS_AHEAD ahead): a row
 * of the year 1 that reached the table some other way (a hand-written INSERT, a path without the
 * bound) is skipped and reported, not given a partition, and a few such rows never make hundreds.
 */
export async function maintainAttemptPartitions(dataSource: DataSource, now = new Date()): Promise<MaintenanceOutcome> {
  if (!partitioned(dataSource)) return { made: [], skipped: [] };
  const waiting: { month: Date; attempts: string | number }[] = await dataSource.query(
    `SELECT date_trunc('month', "occurredAt", 'UTC') AS month, COUNT(*) AS attempts FROM "${DEFAULT_PARTITION}" GROUP BY 1 ORDER BY 1`,
  );
  const inHorizon = (month: Date) => monthInHorizon(month, now);
  const skipped = waiting
    .map((row) => ({ month: new Date(row.month), attempts: Number(row.attempts) }))
    .filter((row) => !inHorizon(row.month));
  const months = Array.from({ length: MONTHS_AHEAD + 2 }, (_, index) => monthStart(now, index - 1));
  const made = await ensureAttemptMonths(
    dataSource,
    [...months, ...waiting.map((row) => new Date(row.month)).filter(inHorizon)],
    now,
  );
  return { made, skipped };
}

export interface RetiredMonth {
  name: string;
  month: Date;
  attempts: number;
  /** Detached and kept as a table of its own (renamed …_detached_…), instead of dropped. */
  detached: boolean;
}

export interface RetentionOutcome {
  retired: RetiredMonth[];
  /** Months past the retention that were kept, and why (evidence still in use). */
  kept: { name: string; month: Date; reason: string }[];
}

/**
 * Retires whole months of attempts older than `keepMonths` full months before the current one:
 * each partition is detached and dropped (or, with `detach`, kept as a standalone table to archive,
 * named …_detached_yYYYYmMM), with the idempotency keys of its attempts, in a transaction per month.
 * The hourly and daily rollups and the distinct-device day tables are separate tables that no
 * delete touches, so the reports' figures for those months stay as they were. A month is kept, and
 * said so, while it holds an OPEN review (the queue would lose it) or the attempt that locked a
 * device still LOCKED (the lock's evidence).
 */
export async function retireAttemptMonths(
  dataSource: DataSource,
  options: { keepMonths: number; now?: Date; detach?: boolean },
): Promise<RetentionOutcome> {
  if (!partitioned(dataSource)) {
    throw new Error(
      'retiring whole months needs PostgreSQL (its attempts are partitioned by month); SQLite keeps one table — purge-signals still erases raw signals there',
    );
  }
  if (!Number.isInteger(options.keepMonths) || options.keepMonths < 1)
    throw new Error(`keepMonths must be a whole number of months, at least 1; got ${options.keepMonths}`);
  const cutoff = monthStart(options.now ?? new Date(), -options.keepMonths);
  const outcome: RetentionOutcome = { retired: [], kept: [] };
  const expired = (await attemptPartitions(dataSource)).filter((partition) => partition.month < cutoff);
  await withClient(dataSource, async (client) => {
    for (const { name, month } of expired) {
      await underPartitionLock(client, async () => {
        const { rows } = await client.query(
          `SELECT (SELECT COUNT(*) FROM "${name}") AS attempts, ` +
            `EXISTS (SELECT 1 FROM "${name}" a WHERE a."reviewStatus" = 'OPEN') AS "openReview", ` +
            `EXISTS (SELECT 1 FROM "device" d JOIN "${name}" a ON a."id" = d."lockedByAttemptId" WHERE d."status" = 'LOCKED') AS "lockEvidence"`,
        );
        const [{ attempts, openReview, lockEvidence }] = rows;
        if (openReview || lockEvidence) {
          outcome.kept.push({
            name,
            month,
            reason: openReview ? 'it holds an OPEN review' : 'it holds the attempt that locked a device still LOCKED',
          });
          return;
        }
        await client.query(`DELETE FROM "activation_idempotency_key" WHERE "occurredAt" >= $1 AND "occurredAt" < $2`, [
          month.toISOString(),
          monthStart(month, 1).toISOString(),
        ]);
        await client.query(`ALTER TABLE "${ATTEMPTS_TABLE}" DETACH PARTITION "${name}"`);
        if (options.detach) {
          await client.query(`ALTER TABLE "${name}" RENAME TO "${name.replace('_y', '_detached_y')}"`);
        } else {
          await client.query(`DROP TABLE "${name}"`);
        }
        outcome.retired.push({ name, month, attempts: Number(attempts), detached: options.detach ?? false });
      });
    }
  });
  return outcome;
}
