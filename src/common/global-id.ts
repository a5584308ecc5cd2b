/**
 * Opaque global IDs: base64url("TypeName:rowId"). Clients must treat them as opaque; the server
 * decodes them to find the type and the row.
 */
export function encodeGlobalId(typeName: string, rowId: number): string {
  return Buffer.from(`${typeName}:${rowId}`, 'utf8').toString('base64url');
}

export interface DecodedGlobalId {
  typeName: string;
  rowId: number;
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
  const match = /^([A-Za-z]+):([1-9][0-9]{0,9})$/.exec(decoded);
  if (!match || Number(match[2]) > MAX_ROW_ID) return null;
  return { typeName: match[1], rowId: Number(match[2]) };
}

/** The row id of `globalId` when it names an object of `typeName`, else null. */
export function rowIdOf(globalId: string, typeName: string): number | null {
  const decoded = decodeGlobalId(globalId);
  return decoded && decoded.typeName === typeName ? decoded.rowId : null;
}
