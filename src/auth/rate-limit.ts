/**
 * Request budgets per API key (per client address without one).
 *
 * Without REDIS_URL the counters live in this process (one instance: the README's first command).
 * With REDIS_URL every instance counts in the same Redis keys (rate-limiter-flexible's Redis store),
 * so a key gets its budget once, not once per instance. If Redis cannot be reached, an in-memory
 * "insurance" limiter counts instead (per instance again, so a key may get N times its budget for
 * as long as the outage lasts); each request so counted is logged (once per outage) and counted
 * in /metrics as `rate_limit_insurance_total`. The Redis client reconnects by itself, and the next
 * request after it is back is counted in Redis again.
 */
import Redis from 'ioredis';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { Settings } from '../config';
import { Logger } from '../ops/logger';
import { rateLimitInsurance } from '../ops/metrics';
import { Role } from './roles';
import { Viewer } from './viewer';

/** What one request's consumption says: enough for the RateLimit headers and a `rateLimit` field. */
export interface RateLimitResult {
  /** Whether the request may proceed. */
  allowed: boolean;
  /** Requests allowed per window. */
  limit: number;
  /** Requests left in the current window (0 when refused). */
  remaining: number;
  /** When the current window ends and the budget is whole again. */
  resetAt: Date;
}

/** Which budget a request counts against. */
export interface RateLimitBucket {
  kind: 'key' | 'gateway' | 'anonymous';
  /** The key's row id, the bootstrap key's name, or the client address. */
  id: string;
}

export interface RequestLimiter {
  /** Counts one request against its bucket; never throws for an exhausted budget (see `allowed`). */
  /** `points` 0 reads the budget without spending any (a request that only asks for it). */
  consume(bucket: RateLimitBucket, points?: number): Promise<RateLimitResult>;
  /** Which store counts requests now: `memory` (no REDIS_URL), `redis`, or `insurance` (Redis unreachable). */
  readonly store: 'memory' | 'redis' | 'insurance';
  close(): Promise<void>;
}

/** The bucket of a caller: GATEWAY keys have their own, larger budget; anonymous callers count by address. */
export function bucketOf(viewer: Viewer | null, clientAddress: string | undefined): RateLimitBucket {
  if (!viewer) return { kind: 'anonymous', id: `ip:${clientAddress ?? 'unknown'}` };
  const id = viewer.keyId === null ? `name:${viewer.name}` : `key:${viewer.keyId}`;
  return { kind: viewer.role === Role.GATEWAY ? 'gateway' : 'key', id };
}

/** One window of budgets, a second long, as RATE_LIMIT_* say. */
export const WINDOW_SECONDS = 1;

/** How long a Redis command may take before the insurance limiter answers instead. */
const REDIS_COMMAND_TIMEOUT_MS = 500;

/** ioredis options for a limiter: fail fast while Redis is away (never queue requests), reconnect by itself. */
export function redisOptionsForLimits() {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Reconnect quickly at first, then every second: budgets return to Redis soon after it does.
    retryStrategy: (times: number) => Math.min(times * 100, 1_000),
  } as const;
}

function resultOf(outcome: RateLimiterRes, limit: number, allowed: boolean): RateLimitResult {
  return {
    allowed,
    limit,
    remaining: allowed ? outcome.remainingPoints : 0,
    resetAt: new Date(Date.now() + outcome.msBeforeNext),
  };
}

/**
 * The limiter this instance uses: Redis-backed (with the in-memory insurance) when `settings.redisUrl`
 * is set, otherwise in memory.
 */
export function createRequestLimiter(settings: Settings, logger: Logger): RequestLimiter {
  const points = {
    key: settings.rateLimits.perSecond,
    gateway: settings.rateLimits.gatewayPerSecond,
    anonymous: settings.rateLimits.anonymousPerSecond,
  };
  if (!settings.redisUrl) {
    const limiters = {
      key: new RateLimiterMemory({ points: points.key, duration: WINDOW_SECONDS }),
      gateway: new RateLimiterMemory({ points: points.gateway, duration: WINDOW_SECONDS }),
      anonymous: new RateLimiterMemory({ points: points.anonymous, duration: WINDOW_SECONDS }),
    };
    return {
      store: 'memory',
      consume: (bucket, spent) => consumeFrom(limiters[bucket.kind], points[bucket.kind], bucket.id, spent),
      close: async () => undefined,
    };
  }
  return new RedisRequestLimiter(settings.redisUrl, points, logger);
}

async function consumeFrom(
  limiter: RateLimiterAbstract,
  limit: number,
  id: string,
  points = 1,
): Promise<RateLimitResult> {
  try {
    return resultOf(await limiter.consume(id, points), limit, true);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return resultOf(rejection, limit, false);
    throw rejection;
  }
}

class RedisRequestLimiter implements RequestLimiter {
  private readonly client: Redis;
  private readonly limiters: Record<RateLimitBucket['kind'], RateLimiterRedis>;
  /** Whether the insurance limiter was used since Redis was last ready (the outage is logged once). */
  private insured = false;

  constructor(
    url: string,
    private readonly points: Record<RateLimitBucket['kind'], number>,
    private readonly logger: Logger,
  ) {
    this.client = new Redis(url, redisOptionsForLimits());
    // Errors surface through the insurance limiter; the client's own would be unhandled events.
    this.client.on('error', () => undefined);
    this.client.on('ready', () => {
      if (this.insured) this.logger.info('rate limits: Redis is back; budgets are shared across instances again');
      this.insured = false;
    });
    const limiterOf = (kind: RateLimitBucket['kind']) =>
      new RateLimiterRedis({
        storeClient: this.client,
        keyPrefix: `cg:rate:${kind}`,
        points: points[kind],
        duration: WINDOW_SECONDS,
        // Not ready (connecting, reconnecting): straight to the insurance, no waiting on a dead socket.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new InsuranceLimiter({ points: points[kind], duration: WINDOW_SECONDS }, () =>
          this.noteInsurance(),
        ),
      });
    this.limiters = { key: limiterOf('key'), gateway: limiterOf('gateway'), anonymous: limiterOf('anonymous') };
  }

  get store(): 'redis' | 'insurance' {
    return this.client.status === 'ready' ? 'redis' : 'insurance';
  }

  consume(bucket: RateLimitBucket, points?: number): Promise<RateLimitResult> {
    return consumeFrom(this.limiters[bucket.kind], this.points[bucket.kind], bucket.id, points);
  }

  private noteInsurance(): void {
    rateLimitInsurance.inc();
    if (this.insured) return;
    this.insured = true;
    this.logger.warn(
      'rate limits: Redis is unreachable; counting in this instance’s memory until it is back (each instance grants a full budget meanwhile)',
    );
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/** The in-memory limiter that answers while Redis cannot: it tells when it is used. */
class InsuranceLimiter extends RateLimiterMemory {
  constructor(
    options: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly onUse: () => void,
  ) {
    super(options);
  }

  override consume(...args: Parameters<RateLimiterMemory['consume']>): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(...args);
  }
}
