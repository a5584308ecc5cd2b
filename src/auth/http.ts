import { Request, RequestHandler, Response, json } from 'express';
import { GraphQLError } from 'graphql';
import { Settings } from '../config';
import { ApiKeyAuthenticator } from './api-key.service';
import { RateLimitResult, RequestLimiter, bucketOf } from './rate-limit';
import { budgetOf, isBudgetQuery, rateLimitHeaders } from './rate-limit-report';
import { Viewer } from './viewer';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticate`: the caller, or null when the request carried no key. */
    viewer?: Viewer | null;
    /** Set by `rateLimit`: this request's count against its budget. */
    rateLimit?: RateLimitResult;
  }
}

/** A GraphQL-shaped error response for failures before the document is executed. */
function refuse(response: Response, status: number, message: string, extensions: Record<string, unknown>): void {
  response.status(status).json({ errors: [{ message, extensions }] });
}

/**
 * Reads `Authorization: Bearer <key>`. A missing header leaves the caller anonymous (the IDE page
 * and introspection work; everything else is refused field by field); a bad key is refused here.
 */
export function authenticate(authenticator: ApiKeyAuthenticator): RequestHandler {
  return async (request, response, next) => {
    const header = request.headers.authorization;
    if (!header) {
      request.viewer = null;
      next();
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      refuse(response, 401, 'the Authorization header must read `Bearer <api key>`', { code: 'UNAUTHENTICATED' });
      return;
    }
    try {
      request.viewer = await authenticator.authenticate(match[1]);
      next();
    } catch (error) {
      if (error instanceof GraphQLError) refuse(response, 401, error.message, { code: 'UNAUTHENTICATED' });
      else next(error);
    }
  };
}

/**
 * Per-key request budgets (per client address for anonymous requests), counted by the instance's
 * limiter (shared through Redis when REDIS_URL is set). The result is left on the request for
 * whoever reports it to the client.
 *
 * `graphql`: the route answers GraphQL documents, so a request that only asks for its budget
 * (`{ rateLimit { … } }`) is let through without spending any. Only there: another route (the CSV
 * reports) ignores a `query` parameter, and would serve its own answer for free.
 */
export function rateLimit(limiter: RequestLimiter, maxCost: number, route: { graphql: boolean }): RequestHandler {
  return async (request, response, next) => {
    let result: RateLimitResult;
    let free: boolean;
    const bucket = bucketOf(request.viewer ?? null, request.ip);
    try {
      free = route.graphql && (await isBudgetRequest(request, response));
      result = await limiter.consume(bucket, free ? 0 : 1);
    } catch (error) {
      next(error);
      return;
    }
    request.rateLimit = result;
    for (const [name, value] of Object.entries(rateLimitHeaders(bucket.kind, result))) response.setHeader(name, value);
    if (result.allowed || free) {
      next();
      return;
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((result.resetAt.getTime() - Date.now()) / 1000));
    response.setHeader('Retry-After', String(retryAfterSeconds));
    response.status(429).json({
      errors: [
        {
          message: `rate limit of ${result.limit} requests per second exceeded; retry in ${retryAfterSeconds} s`,
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds },
        },
      ],
      // As on every GraphQL response: nothing was estimated for a request that did not run.
      extensions: { cost: { requested: null, maxCost, ...budgetOf(result) } },
    });
  };
}

/**
 * The largest body read before the budget is counted: room for a budget query (at most 500
 * characters) or a small batch of them. Anything larger is counted, and refused when over budget,
 * before a byte of it is read: the route's own parser (up to 5 MB) runs only for requests the
 * budget admitted.
 */
const BUDGET_QUERY_BODY_BYTES = 2_048;
const readSmallBody = json({ limit: BUDGET_QUERY_BODY_BYTES });

/** Whether the request only asks for its budget; reads its body only when it is small enough to. */
async function isBudgetRequest(request: Request, response: Response): Promise<boolean> {
  if (request.method === 'GET') return isBudgetQuery(request.query);
  const length = Number(request.headers['content-length']);
  if (request.method !== 'POST' || !(length <= BUDGET_QUERY_BODY_BYTES)) return false;
  // A body read here is not read again (the route's parser sees it finished).
  await new Promise<void>((resolve, reject) =>
    readSmallBody(request, response, (error?: unknown) => (error ? reject(error) : resolve())),
  );
  return isBudgetQuery(request.body);
}

/** Batched requests (a JSON array of operations) are accepted up to the configured size. */
export function capBatches(settings: Settings): RequestHandler {
  return (request, response, next) => {
    if (Array.isArray(request.body) && request.body.length > settings.limits.maxBatchSize) {
      refuse(
        response,
        400,
        `a batch may hold at most ${settings.limits.maxBatchSize} operations; got ${request.body.length}`,
        { code: 'BATCH_TOO_LARGE' },
      );
      return;
    }
    next();
  };
}
