import DataLoader from 'dataloader';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { decodeGlobalId } from '../common/global-id';
import { ActivationAttempt } from './activation-attempt.entity';

/*
 * Attempts looked up by id. On PostgreSQL the attempts are partitioned by month of occurredAt and
 * their primary key is (id, occurredAt): a lookup by id alone probes every month's index (36
 * months: 73 buffers for one row, 7,300 for a loader batch of 100 — README, "Attempts looked up by
 * id"). So every reference to an attempt carries what it knows of its occurredAt: the instant
 * itself (a status change, a device's lock, a live event: they come from the attempt) or the month
 * a global ID names. The lookup then reaches one month per reference: a nested loop over the
 * references whose inner side PostgreSQL prunes at run time to the one partition of each range.
 * A reference that knows nothing (an ID issued before IDs named the month, a row whose attempt was
 * retired before its instant was filled) still works, over every month.
 */

/** A reference to an attempt: its id and, when known, its occurredAt or the month it lies in. */
export interface AttemptRef {
  id: number;
  /** The attempt's occurredAt, when the referencing row carries it. */
  occurredAt?: Date | null;
  /** The first instant of the UTC month the attempt lies in (from a global ID), when that is all that is known. */
  month?: Date | null;
}

const MILLISECOND = 1;

/** The half-open range of occurredAt a reference allows: [since, until); null bounds are open. */
function rangeOf(ref: AttemptRef): [Date | null, Date | null] {
  if (ref.occurredAt instanceof Date && !Number.isNaN(ref.occurredAt.getTime())) {
    // Stored instants keep milliseconds on both databases (a JS Date cannot name finer), so the
    // range [t, t + 1 ms) holds exactly the instant; the id alone is unique anyway.
    return [ref.occurredAt, new Date(ref.occurredAt.getTime() + MILLISECOND)];
  }
  if (ref.month instanceof Date && !Number.isNaN(ref.month.getTime())) {
    const until = new Date(ref.month.getTime());
    until.setUTCMonth(until.getUTCMonth() + 1);
    return [ref.month, until];
  }
  return [null, null];
}

/** Whether a row is the one a reference names (a wrong instant or month names none). */
function matches(ref: AttemptRef, attempt: ActivationAttempt): boolean {
  if (attempt.id !== ref.id) return false;
  const [since, until] = rangeOf(ref);
  const at = attempt.occurredAt.getTime();
  return (since === null || at >= since.getTime()) && (until === null || at < until.getTime());
}

/** A cache key per reference (two references to one attempt that say different things are two keys). */
export function attemptRefKey(ref: AttemptRef): string {
  const [since, until] = rangeOf(ref);
  return since === null ? `${ref.id}` : `${ref.id}@${since.getTime()}-${until!.getTime()}`;
}

/** The reference a global ID of an attempt makes, or null when it is no attempt's ID. */
export function attemptRefOfGlobalId(globalId: string): AttemptRef | null {
  const decoded = decodeGlobalId(globalId);
  if (!decoded || decoded.typeName !== 'ActivationAttempt') return null;
  return { id: decoded.rowId, month: decoded.month ?? null };
}

/**
 * The attempts the references name, in their order, null where none (a retired month, a wrong
 * month in an ID): one statement for any number of references.
 */
export async function findAttemptsByRefs(
  manager: EntityManager,
  refs: readonly AttemptRef[],
): Promise<(ActivationAttempt | null)[]> {
  if (refs.length === 0) return [];
  const rows = await attemptRefsQuery(manager, refs).getMany();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return refs.map((ref) => {
    const row = byId.get(ref.id);
    return row && matches(ref, row) ? row : null;
  });
}

/** The one statement of findAttemptsByRefs (bench/attempt-lookup.bench.ts explains it). */
export function attemptRefsQuery(
  manager: EntityManager,
  refs: readonly AttemptRef[],
): SelectQueryBuilder<ActivationAttempt> {
  const query = manager.createQueryBuilder(ActivationAttempt, 'a');
  if (manager.connection.options.type === 'postgres') {
    const ranges = refs.map(rangeOf);
    if (refs.length === 1) {
      // One reference (node(id:)): its range in the statement, pruned when it is planned; a join
      // would plan every month's partition for one row.
      const [[since, until]] = ranges;
      query.where('a.id = :refId', { refId: refs[0].id });
      if (since !== null)
        query.andWhere('a.occurredAt >= :refSince AND a.occurredAt < :refUntil', { refSince: since, refUntil: until });
      return query;
    }
    // Open bounds as ±infinity: every month, as a lookup by id alone. The span of all the ranges
    // also bounds the statement, so the months outside it are not planned at all.
    const known = ranges.every(([since]) => since !== null);
    query.innerJoin(
      '(SELECT * FROM unnest(CAST(:refIds AS integer[]), CAST(:refSince AS timestamptz[]), CAST(:refUntil AS timestamptz[])) AS u("id", "since", "until"))',
      'k',
      'k."id" = a."id" AND a."occurredAt" >= k."since" AND a."occurredAt" < k."until"',
      {
        refIds: refs.map((ref) => ref.id),
        refSince: ranges.map(([since]) => (since === null ? '-infinity' : since.toISOString())),
        refUntil: ranges.map(([, until]) => (until === null ? 'infinity' : until.toISOString())),
      },
    );
    if (known) {
      const first = Math.min(...ranges.map(([since]) => since!.getTime()));
      const last = Math.max(...ranges.map(([, until]) => until!.getTime()));
      query.where('a.occurredAt >= :spanSince AND a.occurredAt < :spanUntil', {
        spanSince: new Date(first),
        spanUntil: new Date(last),
      });
    }
    return query;
  }
  // One table on SQLite: the id finds the row; the range is checked by the caller, as PostgreSQL does.
  return query.where('a.id IN (:...refIds)', { refIds: [...new Set(refs.map((ref) => ref.id))] });
}

/** The one attempt a reference names, or null. */
export async function findAttemptByRef(manager: EntityManager, ref: AttemptRef): Promise<ActivationAttempt | null> {
  const [attempt] = await findAttemptsByRefs(manager, [ref]);
  return attempt;
}

/** Attempts by reference, one statement per batch. */
export function createAttemptRefLoader(
  dataSource: DataSource,
): DataLoader<AttemptRef, ActivationAttempt | null, string> {
  return new DataLoader<AttemptRef, ActivationAttempt | null, string>(
    (refs) => findAttemptsByRefs(dataSource.manager, refs),
    { cacheKeyFn: attemptRefKey },
  );
}
