import { ResolverData } from 'type-graphql';
import { GraphQLContext } from '../context';
import { BadUserInputError } from './errors';

/** Longest text a filter accepts (a search term, a code); longer is a client error, not a query. */
const MAX_FILTER_TEXT = 200;

/**
 * type-graphql's argument hook (schema-wide): every `…Filter` input is bounded like a page — at
 * most `maxPageSize` values per list and short texts — so a client cannot send a list that
 * exceeds the database's bound-parameter limit or turn a search into a scan of megabytes. Mutation
 * inputs are checked by their own services (their problems are userErrors).
 */
export function boundFilterArguments(argValue: unknown, _argType: unknown, resolverData: ResolverData<object>): void {
  if (argValue === null || typeof argValue !== 'object' || !argValue.constructor.name.endsWith('Filter')) return;
  checkFilterBounds(argValue, (resolverData.context as GraphQLContext).settings.maxPageSize);
}

/** The bounds of a filter, for filters that arrive another way too (CSV query strings). */
export function checkFilterBounds(filter: object, maxPageSize: number): void {
  for (const [key, value] of Object.entries(filter)) {
    if (Array.isArray(value) && value.length > maxPageSize) {
      throw new BadUserInputError(`filter.${key}`, `at most ${maxPageSize} values; got ${value.length}`);
    }
    if (typeof value === 'string' && value.length > MAX_FILTER_TEXT) {
      throw new BadUserInputError(`filter.${key}`, `at most ${MAX_FILTER_TEXT} characters; got ${value.length}`);
    }
  }
}

/** A time range whose end (`endField`) is not after its start (`startName`) is a client error. */
export function checkTimeRange(endField: string, startName: string, from?: Date | null, before?: Date | null): void {
  if (from && before && before.getTime() <= from.getTime()) {
    throw new BadUserInputError(endField, `must be later than ${startName}`);
  }
}
