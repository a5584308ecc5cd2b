/** Request budgets shared through Redis, and the in-memory insurance while Redis is away. */
import { Writable } from 'node:stream';
import {
  Budgets,
  BudgetUnavailableError,
  RequestLimiter,
  createBudgets,
  createRequestLimiter,
} from '../src/auth/rate-limit';
import { Settings, readSettings } from '../src/config';
import { createLogger } from '../src/ops/logger';
import { registry } from '../src/ops/metrics';
import { RedisProcess } from './support/redis-process';

jest.setTimeout(30_000);

const logLines: string[] = [];
const logger = createLogger(
  'info',
  new Writable({
    write(chunk, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);

function settingsWith(overrides: Partial<Settings>): Settings {
  const settings = readSettings({});
  return { ...settings, rateLimits: { ...settings.rateLimits, perSecond: 10 }, ...overrides };
}

async function insuranceCount(): Promise<number> {
  const metric = await registry.getSingleMetric('rate_limit_insurance_total')!.get();
  return metric.values[0]?.value ?? 0;
}

async function spend(limiter: RequestLimiter, id: string, count: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < count; i++) if ((await limiter.consume({ kind: 'key', id })).allowed) allowed += 1;
  return allowed;
}

const waitFor = async (condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('without REDIS_URL', () => {
  it('counts in memory, per limiter, and reports limit, remaining and reset', async () => {
    const limiter = createRequestLimiter(settingsWith({}), logger);
    expect(limiter.store).toBe('memory');
    const first = await limiter.consume({ kind: 'key', id: 'key:1' });
    expect(first).toMatchObject({ allowed: true, limit: 10, remaining: 9 });
    expect(first.resetAt.getTime() - Date.now()).toBeGreaterThan(0);
    expect(first.resetAt.getTime() - Date.now()).toBeLessThanOrEqual(1_000);
    expect(await spend(limiter, 'key:1', 15)).toBe(9);
    expect(await limiter.consume({ kind: 'key', id: 'key:1' })).toMatchObject({ allowed: false, remaining: 0 });
    // Another key has its own budget; a gateway key a larger one.
    expect(await spend(limiter, 'key:2', 3)).toBe(3);
    expect((await limiter.consume({ kind: 'gateway', id: 'key:3' })).limit).toBe(5_000);
    await limiter.close();
  });
});

describe('with REDIS_URL', () => {
  let redis: RedisProcess;
  let instances: RequestLimiter[];

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const settings = settingsWith({ redisUrl: redis.url });
    instances = [createRequestLimiter(settings, logger), createRequestLimiter(settings, logger)];
    await waitFor(() => instances.every((limiter) => limiter.store === 'redis'));
  });
  afterAll(async () => {
    await Promise.all(instances.map((limiter) => limiter.close()));
    await redis.stop();
  });

  it('shares one budget between instances', async () => {
    const [one, two] = instances;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) => (index % 2 ? one : two).consume({ kind: 'key', id: 'key:shared' })),
    );
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
    expect(Math.min(...results.map((result) => result.remaining))).toBe(0);
  });

  it("shares each key's daily budget of registration conflicts between instances too", async () => {
    const settings = settingsWith({ redisUrl: redis.url });
    const budgets: Budgets[] = [
      createBudgets({ ...settings, rateLimits: { ...settings.rateLimits, registrationConflictsPerDay: 5 } }, logger),
      createBudgets({ ...settings, rateLimits: { ...settings.rateLimits, registrationConflictsPerDay: 5 } }, logger),
    ];
    try {
      await waitFor(() => budgets.every((counter) => counter.store === 'redis'));
      const [one, two] = budgets;
      expect(await one.consume('registrationConflicts', 'key:7', 3)).toMatchObject({ allowed: true, remaining: 2 });
      const refused = await two.consume('registrationConflicts', 'key:7', 3);
      expect(refused).toMatchObject({ allowed: false, limit: 5 });
      // A day's window, and separate from the key's request budget.
      expect(refused.resetAt.getTime() - Date.now()).toBeGreaterThan(86_000_000);
      expect(await one.consume('key', 'key:7')).toMatchObject({ allowed: true, remaining: 9 });
    } finally {
      await Promise.all(budgets.map((counter) => counter.close()));
    }
  });

  it('falls back to the insurance limiter while Redis is down, logged and counted, and returns to Redis after', async () => {
    const [one, two] = instances;
    const before = await insuranceCount();
    await redis.stop();
    await waitFor(() => instances.every((limiter) => limiter.store === 'insurance'));
    // Requests go on, each instance counting its own budget in memory.
    expect(await spend(one, 'key:outage', 12)).toBe(10);
    expect(await spend(two, 'key:outage', 12)).toBe(10);
    expect((await insuranceCount()) - before).toBe(24);
    expect(logLines.filter((line) => line.includes('Redis is unreachable'))).toHaveLength(2);

    await redis.resume();
    await waitFor(() => instances.every((limiter) => limiter.store === 'redis'));
    const counted = await insuranceCount();
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, index) => (index % 2 ? one : two).consume({ kind: 'key', id: 'key:after' })),
    );
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
    expect(await insuranceCount()).toBe(counted);
    expect(logLines.filter((line) => line.includes('Redis is back'))).toHaveLength(2);
  });
  it('never counts the daily conflict budget in memory: while Redis is down it cannot be spent, on any instance', async () => {
    // An in-memory insurance would give each instance (and each restart) a whole day's budget again.
    const settings = settingsWith({ redisUrl: redis.url });
    const budgets: Budgets[] = [createBudgets(settings, logger), createBudgets(settings, logger)];
    try {
      await waitFor(() => budgets.every((counter) => counter.store === 'redis'));
      await redis.stop();
      await waitFor(() => budgets.every((counter) => counter.store === 'insurance'));
      for (const counter of budgets) {
        await expect(counter.consume('registrationConflicts', 'key:outage-conflicts', 1)).rejects.toBeInstanceOf(
          BudgetUnavailableError,
        );
        await expect(counter.consume('registrationConflicts', 'key:outage-conflicts', 0)).rejects.toBeInstanceOf(
          BudgetUnavailableError,
        );
        // The request budgets still go on, per instance.
        expect((await counter.consume('key', 'key:outage-conflicts')).allowed).toBe(true);
      }
      await redis.resume();
      await waitFor(() => budgets.every((counter) => counter.store === 'redis'));
      // Spent in Redis again once it is back (this test's Redis keeps nothing across its restart).
      const after = await budgets[1].consume('registrationConflicts', 'key:outage-conflicts', 1);
      expect(after).toMatchObject({ allowed: true, remaining: settings.rateLimits.registrationConflictsPerDay - 1 });
    } finally {
      await Promise.all(budgets.map((counter) => counter.close()));
    }
  });
});
