import { Request, RequestHandler, Response } from 'express';
import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import { Settings } from '../config';
import { authenticatorFor } from './api-key.service';
import { Role } from './roles';
import { Viewer } from './viewer';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `authenticate`: the caller, or null when the request carried no key. */
    viewer?: Viewer | null;
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
export function authenticate(dataSource: DataSource, settings: Settings): RequestHandler {
  const authenticator = authenticatorFor(dataSource, settings.adminKey);
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
 * Per-key request budgets (per client address for anonymous requests), counted per instance:
 * behind a load balancer, divide the budget you want by the number of instances.
 */
export function rateLimit(settings: Settings): RequestHandler {
  const { perSecond, gatewayPerSecond, anonymousPerSecond } = settings.rateLimits;
  const limiters = {
    key: new RateLimiterMemory({ points: perSecond, duration: 1 }),
    gateway: new RateLimiterMemory({ points: gatewayPerSecond, duration: 1 }),
    anonymous: new RateLimiterMemory({ points: anonymousPerSecond, duration: 1 }),
  };
  const bucketOf = (request: Request) => {
    const viewer = request.viewer;
    if (!viewer) return { limiter: limiters.anonymous, key: `ip:${request.ip}` };
    const key = viewer.keyId === null ? `name:${viewer.name}` : `key:${viewer.keyId}`;
    return { limiter: viewer.role === Role.GATEWAY ? limiters.gateway : limiters.key, key };
  };
  return async (request, response, next) => {
    const { limiter, key } = bucketOf(request);
    try {
      await limiter.consume(key);
      next();
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        next(rejection);
        return;
      }
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      response.setHeader('Retry-After', String(retryAfterSeconds));
      refuse(
        response,
        429,
        `rate limit of ${limiter.points} requests per second exceeded; retry in ${retryAfterSeconds} s`,
        {
          code: 'RATE_LIMITED',
          retryAfterSeconds,
        },
      );
    }
  };
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
