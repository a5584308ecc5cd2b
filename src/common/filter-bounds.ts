import { ResolverData } from 'type-graphql';
import { RequestScope } from './request-scope';
import { BadUserInputError } from './errors';

/** Longest text a filter accepts (a search term, a code); longer is a client error, not a query. */
const MAX_FILTER_TEXT = 200;

/**
 * type-graphql's argument hook (schema-wide): every `…Filter` input is bounded like a page — at
 * most `maxPageSize` values per list and short texts — so a client cannot send a list that
 * exceeds the database's bound-parameter limit or turn a search into a scan of megabytes; plain
 * text arguments (keys, codes, IDs, cursors) are bounded too. Mutation inputs are checked by their
 * own services (their problems are userErrors).
 */
export function boundFilterArguments(argValue: unknown, _argType: unknown, resolverData: ResolverData<object>): void {
  if (typeof argValue === 'string' || Array.isArray(argValue)) return checkPlainArgument(argValue, resolverData.args);
  if (argValue === null || typeof argValue !== 'object' || !argValue.constructor.name.endsWith('Filter')) return;
  checkFilterBounds(argValue, (resolverData.context as RequestScope).settings.maxPageSize);
}

/** Longest plain text argument (a key, a code, an ID, a cursor, a time zone). */
const MAX_ARGUMENT_TEXT = 1_000;

/** A plain text argument (or list of them) beyond any real key, code or cursor: an error naming it. */
function checkPlainArgument(value: string | unknown[], args: Record<string, unknown>): void {
  const texts = typeof value === 'string' ? [value] : value.filter((item): item is string => typeof item === 'string');
  const longest = Math.max(0, ...texts.map((text) => text.length));
  if (longest <= MAX_ARGUMENT_TEXT) return;
  // The hook is not told the argument's name: it is the one holding this value (lists are copied).
  const holds = (held: unknown) =>
    held === value ||
    (Array.isArray(held) &&
      Array.isArray(value) &&
      held.length === value.length &&
      held.every((item, index) => item === value[index]));
  const name = Object.keys(args).find((key) => holds(args[key])) ?? 'argument';
  throw new BadUserInputError(name, `at most ${MAX_ARGUMENT_TEXT} characters; got ${longest}`);
}

/** The bounds of a filter, for filters that arrive another way too (CSV query strings). */
export function checkFilterBounds(filter: object, maxPageSize: number): void {
  for (const [key, value] of Object.entries(filter)) {
    if (Array.isArray(value) && value.length > maxPageSize) {
      throw new BadUserInputError(`filter.${key}`, `at most ${maxPageSize} values; got ${value.length}`);
    }
    // Each item is bounded like a single value (a code, a key, an ID): a megabyte "model code" is
    // refused here, by its length only, instead of being looked up and echoed back.
    const longItem = Array.isArray(value)
      ? value.findIndex((item) => typeof item === 'string' && item.length > MAX_FILTER_TEXT)
      : -1;
    if (longItem >= 0) {
      throw new BadUserInputError(
        `filter.${key}[${longItem}]`,
        `at most ${MAX_FILTER_TEXT} characters; got ${(value as string[])[longItem].length}`,
      );
    }
    if (typeof value === 'string' && value.length > MAX_FILTER_TEXT) {
      throw new BadUserInputError(`filter.${key}`, `at most ${MAX_FILTER_TEXT} characters; got ${value.length}`);
    }
  }
}

/**
 * A time range whose end (`endField`) is not after its start (`startName`), or spans more than
 * `maxDays`, is a client error.
 */
export function checkTimeRange(
  endField: string,
  startName: string,
  from?: Date | null,
  before?: Date | null,
  maxDays = Infinity,
): void {
  if (from && before && before.getTime() <= from.getTime()) {
    throw new BadUserInputError(endField, `must be later than ${startName}`);
  }
  if (from && before && before.getTime() - from.getTime() > maxDays * 86_400_000) {
    throw new BadUserInputError(endField, `the window may span at most ${maxDays} days`);
  }
}
