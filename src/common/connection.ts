import { ClassType, Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BadUserInputError } from './errors';
import { MAX_ROW_ID } from './global-id';

/**
 * Terminology
 * - connection: a Relay cursor page of a list (`edges`, `nodes`, `pageInfo`, `totalCount`).
 * - sort key: the column a list is ordered by; the row id always breaks ties, so every order is
 *   total and a cursor names one position exactly.
 * - cursor: opaque base64url of `[sortValue, rowId]` of an edge. Paging continues strictly after
 *   (or before) that position, so rows inserted meanwhile never shift a page (keyset, not offset).
 */

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(SortDirection, {
  name: 'SortDirection',
  description: 'Ascending or descending order.',
  valuesConfig: {
    ASC: { description: 'Smallest, earliest or alphabetically first value first.' },
    DESC: { description: 'Largest, latest or alphabetically last value first.' },
  },
});

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export type SortValue = string | number | Date;

/** How one list is ordered: the entity property and how to read it from a row. */
export interface SortSpec<T> {
  property: string;
  direction: SortDirection;
  valueOf(row: T): SortValue;
}

/** Rows in the order they were created (`ASC`, the order things happened) or newest first (`DESC`). */
export function byId<T extends { id: number }>(direction: SortDirection): SortSpec<T> {
  return { property: 'id', direction, valueOf: (row: T) => row.id };
}

export interface Cursor {
  value: SortValue;
  id: number;
}

export function encodeCursor(value: SortValue, id: number): string {
  const serialized = value instanceof Date ? { d: value.toISOString() } : value;
  return Buffer.from(JSON.stringify([serialized, id]), 'utf8').toString('base64url');
}

export function decodeCursor(argumentName: string, cursor: string): Cursor {
  const invalid = new BadUserInputError(argumentName, 'is not a cursor this list issued');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isInteger(parsed[1])) throw invalid;
  const [raw, id] = parsed as [unknown, number];
  if (typeof raw === 'string' || typeof raw === 'number') return { value: raw, id };
  if (raw && typeof raw === 'object' && typeof (raw as { d?: unknown }).d === 'string') {
    const date = new Date((raw as { d: string }).d);
    if (!Number.isNaN(date.getTime())) return { value: date, id };
  }
  throw invalid;
}

/** What a list's sort column holds, and so what a cursor's sort value must be. */
export type SortValueKind = 'instant' | 'integer' | 'number' | 'text';

/** Longest text sort value a cursor may carry (the longest sortable text column is shorter). */
const MAX_CURSOR_TEXT = 1_000;

/**
 * A cursor's values checked against the list's sort column and the id column before they are used
 * (in SQL, or to filter a list in memory): a value of another type or beyond the column's range is no position of this list (and would
 * be a driver error on PostgreSQL), so it is the client's error, naming the argument.
 */
export function checkCursor(kind: SortValueKind | null, cursor: Cursor, argumentName: string): void {
  const invalid = () => new BadUserInputError(argumentName, 'is not a cursor this list issued');
  if (!Number.isInteger(cursor.id) || cursor.id < 1 || cursor.id > MAX_ROW_ID) throw invalid();
  if (kind === null) return;
  const { value } = cursor;
  const fits = {
    instant: () => value instanceof Date,
    integer: () => typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAX_ROW_ID,
    number: () => typeof value === 'number' && Number.isFinite(value),
    text: () => typeof value === 'string' && value.length <= MAX_CURSOR_TEXT,
  }[kind];
  if (!fits()) throw invalid();
}

/** The validated, direction-resolved form of `first/after/last/before`. */
export interface PageWindow {
  limit: number;
  /** True for `last/before`: rows are fetched in reverse order and flipped back. */
  backward: boolean;
  after?: Cursor;
  before?: Cursor;
}

export const DEFAULT_PAGE_SIZE = 20;

export function resolvePageWindow(args: PageArgs, maxPageSize: number): PageWindow {
  const { first, last } = args;
  if (first != null && last != null) throw new BadUserInputError('last', 'cannot be combined with first; page one way');
  for (const [name, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value != null && (!Number.isInteger(value) || value < 1 || value > maxPageSize)) {
      throw new BadUserInputError(name, `must be from 1 to ${maxPageSize}; got ${value}`);
    }
  }
  return {
    limit: first ?? last ?? Math.min(DEFAULT_PAGE_SIZE, maxPageSize),
    backward: last != null,
    after: args.after ? decodeCursor('after', args.after) : undefined,
    before: args.before ? decodeCursor('before', args.before) : undefined,
  };
}

/** Direction rows are read in: reversed for `last`, so the limit takes the rows nearest `before`. */
export function scanDirection(sort: SortSpec<unknown>, window: PageWindow): SortDirection {
  if (!window.backward) return sort.direction;
  return sort.direction === SortDirection.ASC ? SortDirection.DESC : SortDirection.ASC;
}

export interface Edge<T> {
  node: T;
  cursor: string;
}

export interface ConnectionData<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  /** A getter: the count runs only when a client asks for `totalCount`. */
  readonly totalCount: Promise<number>;
}

/**
 * Turns the rows read for a page (up to limit + 1, in scan order) into a connection. The extra
 * row only tells whether there is more in the scan direction.
 */
export function buildConnection<T extends { id: number }>(
  rowsInScanOrder: T[],
  window: PageWindow,
  sort: SortSpec<T>,
  countTotal: () => Promise<number>,
): ConnectionData<T> {
  const hasMore = rowsInScanOrder.length > window.limit;
  const rows = rowsInScanOrder.slice(0, window.limit);
  if (window.backward) rows.reverse();
  const edges = rows.map((node) => ({ node, cursor: encodeCursor(sort.valueOf(node), node.id) }));
  const pageInfo = Object.assign(new PageInfo(), {
    hasNextPage: window.backward ? window.before !== undefined : hasMore,
    hasPreviousPage: window.backward ? hasMore : window.after !== undefined,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  });
  return {
    edges,
    nodes: rows,
    pageInfo,
    get totalCount() {
      return countTotal();
    },
  };
}

function compareValues(a: SortValue, b: SortValue): number {
  const left = a instanceof Date ? a.getTime() : a;
  const right = b instanceof Date ? b.getTime() : b;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Orders two rows by (sort key, id) in `direction`. */
function compareRows<T extends { id: number }>(sort: SortSpec<T>, direction: SortDirection, a: T, b: T): number {
  const byValue = compareValues(sort.valueOf(a), sort.valueOf(b)) || a.id - b.id;
  return direction === SortDirection.ASC ? byValue : -byValue;
}

/** True when `row` lies strictly after `cursor` when reading in `direction`. */
function isPastCursor<T extends { id: number }>(sort: SortSpec<T>, direction: SortDirection, row: T, cursor: Cursor) {
  const byValue = compareValues(sort.valueOf(row), cursor.value) || row.id - cursor.id;
  return direction === SortDirection.ASC ? byValue > 0 : byValue < 0;
}

/**
 * Pages a list already in memory with the same cursor semantics as the SQL paths. Only for
 * relations that are small by nature (a country's subdivisions, a policy's versions).
 */
export function paginateArray<T extends { id: number }>(
  items: T[],
  sort: SortSpec<T>,
  window: PageWindow,
): ConnectionData<T> {
  // An empty list tells no sort type: only the id is checked then.
  const sample = items.length > 0 ? sort.valueOf(items[0]) : null;
  const kind: SortValueKind | null =
    sample === null ? null : sample instanceof Date ? 'instant' : typeof sample === 'number' ? 'number' : 'text';
  if (window.after) checkCursor(kind, window.after, 'after');
  if (window.before) checkCursor(kind, window.before, 'before');
  const direction = scanDirection(sort as SortSpec<unknown>, window);
  const forward = sort.direction;
  const opposite = forward === SortDirection.ASC ? SortDirection.DESC : SortDirection.ASC;
  const selected = items
    .filter((row) => !window.after || isPastCursor(sort, forward, row, window.after))
    .filter((row) => !window.before || isPastCursor(sort, opposite, row, window.before))
    .sort((a, b) => compareRows(sort, direction, a, b));
  return buildConnection(selected.slice(0, window.limit + 1), window, sort, async () => items.length);
}

@ObjectType({ description: 'Where a page sits in the whole list (Relay cursor connections).' })
export class PageInfo {
  @Field({ description: 'Indicates whether more items follow this page.' })
  hasNextPage: boolean;

  @Field({ description: 'Indicates whether items precede this page.' })
  hasPreviousPage: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the first edge; pass as `before` for the previous page.',
  })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge; pass as `after` for the next page.' })
  endCursor: string | null;
}

/** Declares `<Name>Edge` and `<Name>Connection` object types for one node type. */
export function ConnectionType<T extends object>(nodeType: ClassType<T>, name: string, description: string) {
  @ObjectType(`${name}Edge`, { description: `An edge of a ${name} connection: one item and its cursor.` })
  class EdgeType {
    @Field(() => nodeType, { description: 'The item at the end of the edge.' })
    node: T;

    @Field({ description: 'Opaque cursor of this edge, for `after` and `before`.' })
    cursor: string;
  }

  @ObjectType(`${name}Connection`, { description })
  class ConnectionTypeClass {
    @Field(() => [EdgeType], { description: "The page's edges, each an item and its cursor." })
    edges: EdgeType[];

    @Field(() => [nodeType], { description: "The page's items, for clients that need no cursors." })
    nodes: T[];

    @Field(() => PageInfo, { description: 'Information to fetch the next or previous page.' })
    pageInfo: PageInfo;

    @Field(() => Int, { description: 'Number of items in the whole list with the filter applied (all pages).' })
    totalCount: number;
  }
  return ConnectionTypeClass;
}

/** A field a list can be ordered by: the entity property and how to read it from a row. */
export interface SortField<T> {
  property: string;
  /** What the list is ordered by, as the enum value's description says it. */
  description: string;
  valueOf(row: T): SortValue;
}

export interface OrderArgument<F extends string> {
  field?: F | null;
  direction?: SortDirection | null;
}

/**
 * Everything one list needs for `orderBy`: the `<Name>OrderField` enum (from the keys of
 * `fields`), the `<Name>Order` input, and `sortOf(orderBy)`, which turns the argument into a
 * SortSpec with the defaults applied.
 */
export function defineOrder<T, F extends string>(
  name: string,
  listLabel: string,
  fields: Record<F, SortField<T>>,
  defaultField: F,
  defaultDirection = SortDirection.ASC,
) {
  const fieldEnum = Object.fromEntries(Object.keys(fields).map((key) => [key, key])) as Record<F, F>;
  registerEnumType(fieldEnum, {
    name: `${name}OrderField`,
    description: `Fields ${listLabel} can be ordered by.`,
    valuesConfig: Object.fromEntries(
      Object.entries<SortField<T>>(fields).map(([key, field]) => [key, { description: field.description }]),
    ) as Record<F, { description: string }>,
  });
  const OrderInput = OrderInputType<F>(fieldEnum, name, listLabel, defaultField, defaultDirection);
  const sortOf = (order?: OrderArgument<F> | null): SortSpec<T> => ({
    ...fields[order?.field ?? defaultField],
    direction: order?.direction ?? defaultDirection,
  });
  return { OrderInput, sortOf, defaultField, defaultDirection };
}

/** Builds the `orderBy` input of one connection from its enum of sortable fields. */
function OrderInputType<TField extends string>(
  fieldEnum: object,
  name: string,
  listLabel: string,
  defaultField: TField,
  defaultDirection = SortDirection.ASC,
) {
  @InputType(`${name}Order`, { description: `How a list of ${listLabel} is ordered.` })
  class OrderInput {
    @Field(() => fieldEnum, { defaultValue: defaultField, description: 'Field to order by; the ID breaks ties.' })
    field: TField;

    @Field(() => SortDirection, { defaultValue: defaultDirection, description: 'Direction to order in.' })
    direction: SortDirection;
  }
  return OrderInput;
}
