import type { ActivationAttempt, DecisionOutcome, RegionSource, ReviewStatus } from './activation-attempt.entity';
import { monthStart } from './attempt-horizon';

/*
 * Attempts as the bulk path writes them, encoded for one database: PostgreSQL's COPY text, or
 * SQLite's bind values in one flat array. Encoding is most of the writing thread's work besides
 * the database's own, so a producer on another thread (the seed generator's workers) encodes its
 * rows there and hands over strings and numbers, which cross between threads far more cheaply
 * than objects (a structured clone of an object graph costs as much as writing its row).
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

export type IngestDialect = 'postgres' | 'sqlite';

/** Rows encoded by encodeAttempts: plain data that crosses to another thread. */
export interface EncodedAttempts {
  dialect: IngestDialect;
  explicitIds: boolean;
  count: number;
  /** PostgreSQL: the rows in COPY's text format, one line each. */
  copyText: string;
  /** PostgreSQL: the UTC months (epoch milliseconds of their first instant) the rows' occurredAt fall in. */
  months: number[];
  /** SQLite: each row's bind values in column order (id first when explicit), row after row. */
  values: unknown[];
}

export const COLUMNS = [
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

/** Bind values per SQLite row. */
export function rowWidth(explicitIds: boolean): number {
  return COLUMNS.length + (explicitIds ? 1 : 0);
}

/** Where a column's value sits in a SQLite row's bind values. */
export function valueIndex(column: (typeof COLUMNS)[number], explicitIds: boolean): number {
  return COLUMNS.indexOf(column) + (explicitIds ? 1 : 0);
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** A text in COPY's text format: backslash escapes for the separators. */
function copyText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\\\t\n\r]/g, (character) => COPY_ESCAPES[character]) : text;
}

const copyNullable = (value: string | number | null) => (value === null ? '\\N' : copyText(String(value)));

/** A date as TypeORM stores it on SQLite: UTC datetime text with milliseconds. */
function sqliteDate(value: Date): string {
  return value.toISOString().replace('T', ' ').slice(0, 23);
}

function requireId(row: BulkAttempt): number {
  if (row.id === undefined) throw new Error('explicitIds is set but a row has no id');
  return row.id;
}

/** The rows encoded for `dialect`: on any thread, before they reach the writing one. */
export function encodeAttempts(
  rows: readonly BulkAttempt[],
  dialect: IngestDialect,
  explicitIds: boolean,
): EncodedAttempts {
  if (dialect === 'postgres') {
    let text = '';
    const months = new Set<number>();
    let [monthFrom, monthUntil] = [0, 0];
    for (const row of rows) {
      const occurredAt = row.occurredAt.getTime();
      if (occurredAt < monthFrom || occurredAt >= monthUntil) {
        const date = row.occurredAt;
        monthFrom = monthStart(date).getTime();
        monthUntil = monthStart(date, 1).getTime();
        months.add(monthFrom);
      }
      if (explicitIds) text += `${requireId(row)}\t`;
      text +=
        `${row.deviceId}\t${row.occurredAt.toISOString()}\t${row.receivedAt.toISOString()}\t` +
        `${copyText(JSON.stringify(row.signals))}\t${row.signalsPurgedAt ? row.signalsPurgedAt.toISOString() : '\\N'}\t` +
        `${copyNullable(row.resolvedRegionId)}\t${copyText(row.regionSource)}\t${copyText(row.outcome)}\t` +
        `${row.enforced ? 't' : 'f'}\t${copyNullable(row.policyVersionId)}\t${copyText(JSON.stringify(row.reasonCodes))}\t` +
        `${copyNullable(row.reviewStatus)}\t${copyNullable(row.idempotencyKey)}\n`;
    }
    return { dialect, explicitIds, count: rows.length, copyText: text, months: [...months], values: [] };
  }
  const values: unknown[] = [];
  for (const row of rows) {
    if (explicitIds) values.push(requireId(row));
    values.push(
      row.deviceId,
      sqliteDate(row.occurredAt),
      sqliteDate(row.receivedAt),
      JSON.stringify(row.signals),
      row.signalsPurgedAt ? sqliteDate(row.signalsPurgedAt) : null,
      row.resolvedRegionId,
      row.regionSource,
      row.outcome,
      row.enforced ? 1 : 0,
      row.policyVersionId,
      JSON.stringify(row.reasonCodes),
      row.reviewStatus,
      row.idempotencyKey,
    );
  }
  return { dialect, explicitIds, count: rows.length, copyText: '', months: [], values };
}
