/**
 * How a request's budget is shown to the caller: the IETF HTTPAPI RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` names the quota and its window,
 * `RateLimit` what is left of it and in how many seconds it is whole again) and the `cost`
 * extension of GraphQL responses. Both are read from the limiter's result for the request: nothing
 * is counted twice.
 */
import { DocumentNode, Kind, parse } from 'graphql';
import { RateLimitBucket, RateLimitResult, WINDOW_SECONDS } from './rate-limit';

export function rateLimitHeaders(
  kind: RateLimitBucket['kind'],
  result: RateLimitResult,
  now = Date.now(),
): Record<'RateLimit-Policy' | 'RateLimit', string> {
  const secondsToReset = Math.max(0, Math.ceil((result.resetAt.getTime() - now) / 1000));
  return {
    'RateLimit-Policy': `"${kind}";q=${result.limit};w=${WINDOW_SECONDS}`,
    RateLimit: `"${kind}";r=${result.remaining};t=${secondsToReset}`,
  };
}

/** The budget part of `extensions.cost`: requests allowed per window, left in it, and when it is whole again. */
export function budgetOf(result: RateLimitResult): { limit: number; remaining: number; resetAt: string } {
  return { limit: result.limit, remaining: result.remaining, resetAt: result.resetAt.toISOString() };
}

/** A document that asks only for `rateLimit` (and `__typename`): what a caller polls to see its budget. */
const BUDGET_QUERY_MAX_LENGTH = 500;

function asksOnlyForBudget(document: DocumentNode): boolean {
  const fields = document.definitions.flatMap((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'query'
      ? definition.selectionSet.selections.map((selection) =>
          selection.kind === Kind.FIELD ? selection.name.value : '',
        )
      : [''],
  );
  // `{ __typename }` alone is a ping, counted like any request.
  return fields.includes('rateLimit') && fields.every((field) => field === 'rateLimit' || field === '__typename');
}

/**
 * Whether a request (a parsed JSON body, a batch of them, or a GET's query parameters) only asks for
 * its own budget: such a request is answered without spending any (GitHub's `rateLimit` does the same).
 */
export function isBudgetQuery(payload: unknown): boolean {
  const operations = Array.isArray(payload) ? payload : [payload];
  if (operations.length === 0) return false;
  return operations.every((operation) => {
    const query = (operation as { query?: unknown } | null)?.query;
    // Without the word the document cannot ask for its budget: every other request (a decision)
    // goes on without being parsed here as well as by the server.
    if (typeof query !== 'string' || query.length > BUDGET_QUERY_MAX_LENGTH || !query.includes('rateLimit'))
      return false;
    try {
      return asksOnlyForBudget(parse(query, { maxTokens: 100 }));
    } catch {
      return false;
    }
  });
}
