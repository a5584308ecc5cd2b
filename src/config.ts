/**
 * Settings read from the environment once, at start. Every value has a documented default so that
 * `npm start` works on a fresh clone with no configuration at all.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOG_LEVELS, LogLevel } from './ops/logger';

/** The folder holding package.json, whether running from src/ (ts-node) or dist/src/ (built). */
export function projectRoot(): string {
  let directory = __dirname;
  while (!existsSync(join(directory, 'package.json')) && dirname(directory) !== directory)
    directory = dirname(directory);
  return directory;
}

export interface DatabaseSettings {
  /** `postgres` when DATABASE_URL is a postgres:// URL, otherwise the embedded SQLite file. */
  kind: 'sqlite' | 'postgres';
  url?: string;
  sqlitePath: string;
  /** SQLite `synchronous` pragma: NORMAL keeps WAL commits durable against process crashes. */
  sqliteSynchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
  /**
   * SQLite `wal_autocheckpoint`: WAL pages after which a commit copies them into the database file.
   * SQLite's 1,000 (4 MB) had a LOCK sweep's commits checkpoint every batch or two, copying again
   * the same scattered index pages and waiting on their fsync: at 10,000 the sweep of a
   * 2,000,000-device copy went 12–20 % faster on 10–15 % less processor time a device (README,
   * "SQLite at 10^7"), at the cost of a WAL file of up to 40 MB and rarer, longer checkpoints.
   */
  sqliteWalAutocheckpoint: number;
  /** PostgreSQL: longest wait for a connection and for a statement before a request fails. */
  timeoutMs: number;
  /** PostgreSQL connections per instance. */
  poolSize: number;
  /** SQL_LOG: print every statement with its parameters (a debugging switch: parameters hold personal data). */
  sqlLog: boolean;
}

export interface Settings {
  port: number;
  production: boolean;
  database: DatabaseSettings;
  /** Largest `first`/`last` a connection accepts (GitHub's public API uses 100). */
  maxPageSize: number;
  /** A GPS fix less accurate than this (its radius in metres) is not used to decide a region. */
  maxGpsAccuracyMeters: number;
  /** Seed the demo data set (partners, devices, attempts) when the database has no devices. */
  seedDemoData: boolean;
  /** COMPLIANCE_ADMIN_KEY: accepted as an ADMIN key so that a fresh install can create the others. */
  adminKey?: string;
  /** Documents costlier than these are refused before they run. */
  limits: QueryLimits;
  rateLimits: RateLimits;
  /** REDIS_URL: rate limits (and nothing else) shared by every instance through this Redis; unset: per process. */
  redisUrl?: string;
  /** Whether the schema can be introspected (the IDE needs it). */
  introspection: boolean;
  privacy: PrivacySettings;
  evidence: EvidenceSettings;
  logLevel: LogLevel;
  sweeps: SweepSettings;
  webhooks: WebhookSettings;
  live: LiveSettings;
}

/** Subscriptions (graphql-ws on /graphql): bounds per API key and per connection, per instance. */
export interface LiveSettings {
  /** Open WebSocket connections one API key may hold on one instance. */
  maxConnectionsPerKey: number;
  /** Running subscriptions one API key may hold on one instance (over all its connections). */
  maxSubscriptionsPerKey: number;
  /** Events waiting for one subscription before its connection is closed as too slow. */
  maxQueuedEvents: number;
  /** Bytes waiting to be written to one connection before it is closed as too slow. */
  maxBufferedBytes: number;
  /** Ping interval; a connection that has not answered the previous ping by the next one is dropped (0: no pings). */
  keepAliveMs: number;
  /**
   * How long a client closed by the server has to read up to the close frame (which says why) and
   * answer it, before its socket is dropped: a slow client's close frame waits behind what was
   * already on its way.
   */
  closeGraceMs: number;
}

/** How partner webhooks are delivered. */
export interface WebhookSettings {
  /** Tries per delivery before it is FAILED (it can be redelivered). */
  maxAttempts: number;
  /** Wait before the second try; doubled for each further one, up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a try may take before it counts as failed. */
  timeoutMs: number;
  /** A PEM file of certificate authorities trusted besides the system's (a private CA, tests). */
  caFile: string | null;
  /** Endpoints on loopback or private addresses are refused unless this is set (tests, closed networks). */
  allowPrivateAddresses: boolean;
}

/** How re-screening sweeps work through devices. */
export interface SweepSettings {
  /** Devices per batch (one transaction each). */
  batchSize: number;
  /** How long an instance's claim on a running sweep holds without progress; another takes over after. */
  leaseMs: number;
  /** Rest between batches, so decisions keep their share of the database. */
  batchPauseMs: number;
  /**
   * Whether the next batch is read and judged while this one is written. Left out: on for
   * PostgreSQL (on a second connection: the service and the server work at once) and for a SQLite
   * file (on a reader thread with a read-only connection, which also builds the batch's rows); off
   * for an in-memory SQLite database (its one connection is the service's: nothing can overlap).
   */
  readAhead?: boolean;
  /**
   * Whether, on PostgreSQL while reading ahead, the next batch is written on its own connection
   * while this one is still being written (two batches in flight, committed in cursor order), so
   * that both cores work on the server's write. Left out: on (PostgreSQL with read-ahead); never on
   * SQLite (one writer).
   */
  overlapWrites?: boolean;
}

export interface QueryLimits {
  maxDepth: number;
  /** Estimated fields resolved: a list multiplies its children by its page size. */
  maxCost: number;
  /**
   * Selections the cost estimator visits (fragments counted at every spread) before it gives up;
   * a document it gives up on is refused, never let through unmeasured.
   */
  maxCostNodes: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  /** Operations in one batched HTTP request. */
  maxBatchSize: number;
}

/** Requests per second per API key (per client address without one): per instance, or shared through Redis. */
export interface RateLimits {
  perSecond: number;
  gatewayPerSecond: number;
  anonymousPerSecond: number;
  /**
   * IMEIs of other partners' devices a partner-scoped key may be told are taken, per day: past it the
   * key's registrations are refused (RATE_LIMITED) until the day's window ends.
   */
  registrationConflictsPerDay: number;
}

export interface PrivacySettings {
  /** Decimal places of GPS coordinates kept with an attempt (4 ≈ 11 m); decisions use the full fix. */
  storedCoordinateDecimals: number;
  /** Raw signals older than this many days are purged, keeping each decision; 0 keeps them for ever. */
  signalRetentionDays: number;
  /**
   * ATTEMPT_RETENTION_MONTHS: on PostgreSQL, whole months of attempts older than this many months
   * before the current one are dropped (the rollups keep their figures); 0 keeps them for ever.
   */
  attemptRetentionMonths: number;
  /** IDEMPOTENCY_KEY_RETENTION_DAYS: a gateway key is answered from its attempt this long; 0 keeps keys for ever. */
  idempotencyKeyRetentionDays: number;
}

/** How far the decision trusts a fix (see the README's decision table). */
export interface EvidenceSettings {
  /** STALE_FIX_MINUTES: a fix taken longer than this before the attempt does not decide. */
  staleFixMinutes: number;
  /** IMPOSSIBLE_TRAVEL_KMH: a fix implying a faster speed from the device's neighbouring fix cannot ALLOW. */
  impossibleTravelKmh: number;
}

export class ConfigurationError extends Error {}

function readInteger(
  name: string,
  fallback: number,
  min: number,
  max: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be an integer from ${min} to ${max}; got "${raw}"`);
  }
  return value;
}

export function readDatabaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  const url = env.DATABASE_URL || undefined;
  if (url !== undefined) {
    // Never echo the URL whole: it may hold a password.
    const shown = url.split('@').pop();
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigurationError(`DATABASE_URL must start with postgres:// or postgresql://; got "…${shown}"`);
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigurationError(`DATABASE_URL is not a valid URL: "…${shown}"`);
    }
    if (!parsed.hostname && !parsed.searchParams.get('host')) {
      throw new ConfigurationError(`DATABASE_URL names no host: "…${shown}"`);
    }
  }
  const synchronous = (env.SQLITE_SYNCHRONOUS || 'NORMAL').toUpperCase();
  if (!['OFF', 'NORMAL', 'FULL', 'EXTRA'].includes(synchronous)) {
    throw new ConfigurationError(`SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA; got "${synchronous}"`);
  }
  return {
    kind: url ? 'postgres' : 'sqlite',
    url,
    sqlitePath: env.SQLITE_PATH || 'data/compliance.sqlite',
    sqliteSynchronous: synchronous as DatabaseSettings['sqliteSynchronous'],
    sqliteWalAutocheckpoint: readInteger('SQLITE_WAL_AUTOCHECKPOINT', 10_000, 100, 1_000_000, env),
    timeoutMs: readInteger('DATABASE_TIMEOUT_MS', 5_000, 100, 600_000, env),
    poolSize: readInteger('DATABASE_POOL_SIZE', 10, 1, 1_000, env),
    sqlLog: readBoolean('SQL_LOG', false, env),
  };
}

function readableFile(name: string, env: NodeJS.ProcessEnv): string | null {
  const path = env[name];
  if (!path) return null;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new ConfigurationError(`${name} names no readable file: "${path}"`);
  }
  return path;
}

function readBoolean(name: string, fallback: boolean, env: NodeJS.ProcessEnv): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigurationError(`${name} must be true or false; got "${raw}"`);
  return raw === 'true';
}

function readLogLevel(env: NodeJS.ProcessEnv): LogLevel {
  const raw = (env.LOG_LEVEL || 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigurationError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${env.LOG_LEVEL}"`);
  }
  return raw as LogLevel;
}

function readRedisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.REDIS_URL || undefined;
  if (url === undefined) return undefined;
  const shown = url.split('@').pop();
  if (!/^rediss?:\/\/[^/]/.test(url)) {
    throw new ConfigurationError(`REDIS_URL must start with redis:// or rediss:// and name a host; got "…${shown}"`);
  }
  return url;
}

/** Read apart from the rest: the evaluator compiles the engine with them. */
export function readEvidenceSettings(env: NodeJS.ProcessEnv = process.env): EvidenceSettings {
  return {
    staleFixMinutes: readInteger('STALE_FIX_MINUTES', 60, 1, 10_080, env),
    impossibleTravelKmh: readInteger('IMPOSSIBLE_TRAVEL_KMH', 1_000, 100, 100_000, env),
  };
}

/** Read apart from the rest: the decision store rounds and reads stored fixes with them. */
export function readPrivacySettings(env: NodeJS.ProcessEnv = process.env): PrivacySettings {
  return {
    storedCoordinateDecimals: readInteger('GPS_STORED_DECIMALS', 4, 0, 7, env),
    signalRetentionDays: readInteger('SIGNAL_RETENTION_DAYS', 365, 0, 36_500, env),
    attemptRetentionMonths: readInteger('ATTEMPT_RETENTION_MONTHS', 0, 0, 1_200, env),
    idempotencyKeyRetentionDays: readInteger('IDEMPOTENCY_KEY_RETENTION_DAYS', 30, 0, 36_500, env),
  };
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const integer = (name: string, fallback: number, min: number, max: number) =>
    readInteger(name, fallback, min, max, env);
  const adminKey = env.COMPLIANCE_ADMIN_KEY || undefined;
  if (adminKey !== undefined && adminKey.length < 32) {
    throw new ConfigurationError('COMPLIANCE_ADMIN_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)');
  }
  return {
    port: integer('PORT', 4000, 0, 65535),
    production: env.NODE_ENV === 'production',
    database: readDatabaseSettings(env),
    maxPageSize: integer('MAX_PAGE_SIZE', 100, 1, 1000),
    maxGpsAccuracyMeters: integer('MAX_GPS_ACCURACY_METERS', 5_000, 1, 100_000),
    seedDemoData: readBoolean('SEED_DEMO_DATA', true, env),
    adminKey,
    limits: {
      maxDepth: integer('MAX_QUERY_DEPTH', 12, 2, 100),
      maxCost: integer('MAX_QUERY_COST', 25_000, 10, 10_000_000),
      maxCostNodes: integer('MAX_QUERY_COST_NODES', 10_000, 100, 1_000_000),
      maxAliases: integer('MAX_QUERY_ALIASES', 20, 0, 1000),
      maxDirectives: integer('MAX_QUERY_DIRECTIVES', 20, 0, 1000),
      maxTokens: integer('MAX_QUERY_TOKENS', 5_000, 100, 1_000_000),
      maxBatchSize: integer('MAX_BATCH_SIZE', 10, 1, 100),
    },
    rateLimits: {
      perSecond: integer('RATE_LIMIT_PER_SECOND', 50, 1, 1_000_000),
      gatewayPerSecond: integer('RATE_LIMIT_GATEWAY_PER_SECOND', 5_000, 1, 1_000_000),
      anonymousPerSecond: integer('RATE_LIMIT_ANONYMOUS_PER_SECOND', 10, 1, 1_000_000),
      registrationConflictsPerDay: integer('REGISTRATION_CONFLICTS_PER_DAY', 100, 1, 1_000_000),
    },
    redisUrl: readRedisUrl(env),
    introspection: readBoolean('GRAPHQL_INTROSPECTION', true, env),
    privacy: readPrivacySettings(env),
    evidence: readEvidenceSettings(env),
    logLevel: readLogLevel(env),
    sweeps: {
      // 1,000: a sweep of 2,000,000 devices in 200-device batches spent 200 s in its 20 ms rests alone.
      batchSize: integer('SWEEP_BATCH_SIZE', 1_000, 1, 10_000),
      leaseMs: integer('SWEEP_LEASE_MS', 30_000, 500, 3_600_000),
      batchPauseMs: integer('SWEEP_BATCH_PAUSE_MS', 20, 0, 60_000),
      readAhead: env.SWEEP_READ_AHEAD ? readBoolean('SWEEP_READ_AHEAD', true, env) : undefined,
      overlapWrites: env.SWEEP_OVERLAP_WRITES ? readBoolean('SWEEP_OVERLAP_WRITES', true, env) : undefined,
    },
    live: {
      maxConnectionsPerKey: integer('LIVE_MAX_CONNECTIONS_PER_KEY', 10, 1, 100_000),
      maxSubscriptionsPerKey: integer('LIVE_MAX_SUBSCRIPTIONS_PER_KEY', 50, 1, 1_000_000),
      maxQueuedEvents: integer('LIVE_MAX_QUEUED_EVENTS', 1_000, 1, 1_000_000),
      maxBufferedBytes: integer('LIVE_MAX_BUFFERED_BYTES', 1_048_576, 1_024, 1_073_741_824),
      keepAliveMs: integer('LIVE_KEEPALIVE_MS', 12_000, 0, 600_000),
      closeGraceMs: integer('LIVE_CLOSE_GRACE_MS', 10_000, 0, 600_000),
    },
    webhooks: {
      maxAttempts: integer('WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
      retryBaseMs: integer('WEBHOOK_RETRY_BASE_MS', 30_000, 10, 86_400_000),
      retryMaxMs: integer('WEBHOOK_RETRY_MAX_MS', 6 * 3_600_000, 10, 7 * 86_400_000),
      timeoutMs: integer('WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      caFile: readableFile('WEBHOOK_CA_FILE', env),
      allowPrivateAddresses: readBoolean('WEBHOOK_ALLOW_PRIVATE_ADDRESSES', false, env),
    },
  };
}
