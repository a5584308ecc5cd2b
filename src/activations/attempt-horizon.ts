/*
 * How far back and ahead a stored attempt's occurredAt may lie, whatever path stores it.
 * decideActivation takes 730 days back (a gateway's backlog; src/decisions/decision.service.ts);
 * older history comes through the import, but not from any instant: the year 1 or 1970 is a broken
 * export, not history, and on PostgreSQL each month stored is a partition of its own, so an
 * unbounded occurredAt let one file make hundreds of partitions (every month between it and now
 * then planned over by each read that does not name a month).
 */

/** Whole months before the current one that history may reach back (ten years). */
export const ATTEMPT_HISTORY_MONTHS = 120;
/**
 * How far ahead of the clock an attempt may lie, and a GPS fix after its attempt: the one allowance
 * for clock skew (phone, gateway, server) of decideActivation and the import.
 */
export const ATTEMPT_CLOCK_SKEW_MS = 5 * 60_000;

/** The first instant of the oldest month an attempt may lie in. */
export function oldestAttemptInstant(now: Date): Date {
  const oldest = new Date(0);
  oldest.setUTCFullYear(now.getUTCFullYear(), now.getUTCMonth() - ATTEMPT_HISTORY_MONTHS, 1);
  return oldest;
}

/** Why an attempt of `occurredAt` may not be stored now, or null when it may. */
export function attemptInstantProblem(occurredAt: Date, now: Date): string | null {
  if (occurredAt.getTime() > now.getTime() + ATTEMPT_CLOCK_SKEW_MS) return 'lies in the future';
  const oldest = oldestAttemptInstant(now);
  if (occurredAt < oldest)
    return `lies before ${oldest.toISOString()}: history reaches back ${ATTEMPT_HISTORY_MONTHS / 12} years`;
  return null;
}

/** The first instant of the UTC month of `date`, `offset` months later. */
export function monthStart(date: Date, offset = 0): Date {
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999, so a row of
  // the year 1 was given the month of 1901.
  const start = new Date(0);
  start.setUTCFullYear(date.getUTCFullYear(), date.getUTCMonth() + offset, 1);
  return start;
}
