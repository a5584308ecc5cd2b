/**
 * Opaque global IDs: base64url("TypeName:rowId"), or base64url("TypeName:rowId:YYYY-MM") for an
 * object stored in a monthly partition (an activation attempt on PostgreSQL): the month of the
 * partition key (occurredAt, which never changes), so that a refetch probes that month's index
 * instead of every month's. Clients must treat them as opaque; the server decodes them to find the
 * type, the row and, when named, its month. An attempt's ID without the month (issued before
 * 2026-11-30) is still answered, by a lookup over every month: deprecated, accepted until
 * 2027-06-01 (README, "Attempts looked up by id").
 */
export function encodeGlobalId(typeName: string, rowId: number, month?: Date): string {
  const suffix = month === undefined ? '' : `:${monthText(month)}`;
  return Buffer.from(`${typeName}:${rowId}${suffix}`, 'utf8').toString('base64url');
}

/** "YYYY-MM" of an instant's UTC month. */
function monthText(instant: Date): string {
  return `${String(instant.getUTCFullYear()).padStart(4, '0')}-${String(instant.getUTCMonth() + 1).padStart(2, '0')}`;
}

export interface DecodedGlobalId {
  typeName: string;
  rowId: number;
  /** The first instant of the UTC month the ID names, when it names one. */
  month?: Date;
}

/**
 * The largest row id: ids are 32-bit `integer` columns on both databases. A larger number is no
 * row of ours, and PostgreSQL would refuse to compare it with the column (an internal error).
 */
export const MAX_ROW_ID = 2_147_483_647;

/** Returns null for anything that is not an ID this server issued, never throws. */
export function decodeGlobalId(globalId: string): DecodedGlobalId | null {
  if (typeof globalId !== 'string' || globalId.length === 0 || globalId.length > 200) return null;
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const match = /^([A-Za-z]+):([1-9][0-9]{0,9})(?::([0-9]{4})-(0[1-9]|1[0-2]))?$/.exec(decoded);
  if (!match || Number(match[2]) > MAX_ROW_ID) return null;
  if (match[3] === undefined) return { typeName: match[1], rowId: Number(match[2]) };
  const month = new Date(0);
  month.setUTCFullYear(Number(match[3]), Number(match[4]) - 1, 1);
  return { typeName: match[1], rowId: Number(match[2]), month };
}

/** The row id of `globalId` when it names an object of `typeName`, else null. */
export function rowIdOf(globalId: string, typeName: string): number | null {
  const decoded = decodeGlobalId(globalId);
  return decoded && decoded.typeName === typeName ? decoded.rowId : null;
}
