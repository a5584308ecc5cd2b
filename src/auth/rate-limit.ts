/**
 * Request budgets per API key (per client address without one), and each key's daily budget of
 * registration conflicts (src/devices/registration-conflicts.ts): the same counters for both.
 *
 * Without REDIS_URL the counters live in this process (one instance: the README's first command).
 * With REDIS_URL every instance counts in the same Redis keys (rate-limiter-flexible's Redis store),
 * so a key gets its budget once, not once per instance. If Redis cannot be reached, an in-memory
 * "insurance" limiter counts instead (per instance again, so a key may get N times its budget for
 * as long as the outage lasts); each request so counted is logged (once per outage) and counted
 * in /metrics as `rate_limit_insurance_total`. The Redis client reconnects by itself, and the next
 * request after it is back is counted in Redis again.
 *
 * The daily budget of registration conflicts has no insurance: counted in memory it would give each
 * instance, and each restart, a whole day's budget again. While Redis is unreachable it cannot be
 * read or spent (`BudgetUnavailableError`), and its caller refuses every registration that would be
 * counted against it: it fails closed.
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

/** One budget: `points` per window of `durationSeconds`, counted per id. */
export interface BudgetSpec {
  points: number;
  durationSeconds: number;
}

/** Every budget an instance keeps: the request budgets, and the daily budget of registration conflicts. */
export type BudgetKind = RateLimitBucket['kind'] | 'registrationConflicts';

/** Spends from budgets by kind and id, in this process's memory or in Redis (see the top of this file). */
export interface Budgets {
  /** Spends `points` (1 by default; 0 only reads the budget); never throws for an exhausted budget. */
  consume(kind: BudgetKind, id: string, points?: number): Promise<RateLimitResult>;
  readonly store: RequestLimiter['store'];
  close(): Promise<void>;
}

/** The budgets the settings ask for. */
export function budgetSpecs(settings: Settings): Record<BudgetKind, BudgetSpec> {
  const perSecond = (points: number) => ({ points, durationSeconds: WINDOW_SECONDS });
  return {
    key: perSecond(settings.rateLimits.perSecond),
    gateway: perSecond(settings.rateLimits.gatewayPerSecond),
    anonymous: perSecond(settings.rateLimits.anonymousPerSecond),
    registrationConflicts: {
      points: settings.rateLimits.registrationConflictsPerDay,
      durationSeconds: REGISTRATION_CONFLICT_WINDOW_SECONDS,
    },
  };
}

/** Budgets that fail closed while Redis is unreachable, rather than count per instance in memory. */
const WITHOUT_INSURANCE: ReadonlySet<BudgetKind> = new Set(['registrationConflicts']);

/** A budget without insurance could not be counted (REDIS_URL is set and Redis is unreachable). */
export class BudgetUnavailableError extends Error {
  constructor(
    readonly kind: BudgetKind,
    cause: unknown,
  ) {
    super(`the ${kind} budget cannot be counted now: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The window of the registration-conflict budget: a day from the key's first conflict in it. */
export const REGISTRATION_CONFLICT_WINDOW_SECONDS = 86_400;

/**
 * The budgets of this instance: Redis-backed (with the in-memory insurance) when `settings.redisUrl`
 * is set, otherwise in memory. One Redis connection serves every kind.
 */
export function createBudgets(settings: Settings, logger: Logger): Budgets {
  const specs = budgetSpecs(settings);
  if (!settings.redisUrl) {
    const limiters = mapKinds(
      specs,
      (spec) => new RateLimiterMemory({ points: spec.points, duration: spec.durationSeconds }),
    );
    return {
      store: 'memory',
      consume: (kind, id, spent) => consumeFrom(limiters[kind], specs[kind].points, id, spent),
      close: async () => undefined,
    };
  }
  return new RedisBudgets(settings.redisUrl, specs, logger);
}

/** The request limiter over an instance's budgets (closing it closes them). */
export function requestLimiterOf(budgets: Budgets): RequestLimiter {
  return {
    consume: (bucket, points) => budgets.consume(bucket.kind, bucket.id, points),
    get store() {
      return budgets.store;
    },
    close: () => budgets.close(),
  };
}

/** A request limiter with budgets of its own (tests; the services share theirs with the conflict budget). */
export function createRequestLimiter(settings: Settings, logger: Logger): RequestLimiter {
  return requestLimiterOf(createBudgets(settings, logger));
}

function mapKinds<T>(specs: Record<BudgetKind, BudgetSpec>, make: (spec: BudgetSpec, kind: BudgetKind) => T) {
  return Object.fromEntries(
    Object.entries(specs).map(([kind, spec]) => [kind, make(spec, kind as BudgetKind)]),
  ) as Record<BudgetKind, T>;
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

class RedisBudgets implements Budgets {
  private readonly client: Redis;
  private readonly limiters: Record<BudgetKind, RateLimiterRedis>;
  /** Whether the insurance limiter was used since Redis was last ready (the outage is logged once). */
  private insured = false;

  constructor(
    url: string,
    private readonly specs: Record<BudgetKind, BudgetSpec>,
    private readonly logger: Logger,
  ) {
    this.client = new Redis(url, redisOptionsForLimits());
    // Errors surface through the insurance limiter; the client's own would be unhandled events.
    this.client.on('error', () => undefined);
    this.client.on('ready', () => {
      if (this.insured) this.logger.info('rate limits: Redis is back; budgets are shared across instances again');
      this.insured = false;
    });
    this.limiters = mapKinds(
      specs,
      (spec, kind) =>
        new RateLimiterRedis({
          storeClient: this.client,
          keyPrefix: `cg:rate:${kind}`,
          points: spec.points,
          duration: spec.durationSeconds,
          // Not ready (connecting, reconnecting): straight to the insurance, no waiting on a dead socket.
          rejectIfRedisNotReady: true,
          insuranceLimiter: WITHOUT_INSURANCE.has(kind)
            ? undefined
            : new InsuranceLimiter({ points: spec.points, duration: spec.durationSeconds }, () => this.noteInsurance()),
        }),
    );
  }

  get store(): 'redis' | 'insurance' {
    return this.client.status === 'ready' ? 'redis' : 'insurance';
  }

  async consume(kind: BudgetKind, id: string, points?: number): Promise<RateLimitResult> {
    try {
      return await consumeFrom(this.limiters[kind], this.specs[kind].points, id, points);
    } catch (error) {
      throw WITHOUT_INSURANCE.has(kind) ? new BudgetUnavailableError(kind, error) : error;
    }
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
