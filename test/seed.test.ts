import { ActivationAttempt, DecisionOutcome } from '../src/activations/activation-attempt.entity';
import { Device, DeviceStatus } from '../src/devices/device.entity';
import { imeiProblem } from '../src/devices/imei';
import { Region } from '../src/regions/region.entity';
import { loadReferenceData } from '../src/seeding/reference-data';
import { Evaluator } from '../src/decisions/evaluator';
import { openTestDatabase, TestDatabase } from './support/database';
import { FIXED_UNTIL, seedDemo } from './support/fixtures';
import { generateDemoData } from '../src/seeding/demo-data';

const RESTRICTED = ['UA-43', 'UA-40', 'CU', 'IR', 'SY', 'KP', 'SD'];

async function snapshot(database: TestDatabase) {
  const devices = await database.dataSource.getRepository(Device).find({ order: { id: 'ASC' } });
  const attempts = await database.dataSource.getRepository(ActivationAttempt).find({ order: { id: 'ASC' } });
  return {
    devices: devices.map(({ imei, serialNumber, status, lockedAt, lockReason }) => ({
      imei,
      serialNumber,
      status,
      lockedAt,
      lockReason,
    })),
    attempts: attempts.map(({ occurredAt, signals, outcome, reasonCodes }) => ({
      occurredAt,
      signals,
      outcome,
      reasonCodes,
    })),
  };
}

describe('seed data', () => {
  let first: TestDatabase;
  let second: TestDatabase;
  beforeAll(async () => {
    [first, second] = await Promise.all([openTestDatabase(), openTestDatabase()]);
    await seedDemo(first.dataSource, 300, 4000, 'same');
    // The second on worker threads: the attempts must not depend on where they were made.
    await generateDemoData(second.dataSource, {
      devices: 300,
      attempts: 4000,
      seed: 'same',
      until: FIXED_UNTIL,
      days: 60,
      generatorThreads: 2,
    });
    // Worker threads under ts-jest compile their modules first: slow on a loaded machine.
  }, 180_000);
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it('loads reference data once: a second load adds nothing', async () => {
    expect(await loadReferenceData(first.dataSource, first.settings)).toEqual({
      regions: 0,
      deviceModels: 0,
      policies: 0,
    });
  });

  it('leaves the connection cache as it found it (a server that seeds on start keeps serving)', async () => {
    if (first.dataSource.options.type !== 'better-sqlite3') return;
    const [{ cache_size: cacheSize }] = await first.dataSource.query('PRAGMA cache_size');
    const fresh = await openTestDatabase();
    try {
      const [{ cache_size: defaultSize }] = await fresh.dataSource.query('PRAGMA cache_size');
      expect(cacheSize).toBe(defaultSize);
    } finally {
      await fresh.close();
    }
  });

  it('is deterministic for a seed, made here or on worker threads', async () => {
    expect(await snapshot(first)).toEqual(await snapshot(second));
  });

  it('makes valid, unique IMEIs and locks only in restricted territories', async () => {
    const devices = await first.dataSource.getRepository(Device).find();
    expect(devices.every((device) => imeiProblem(device.imei) === null)).toBe(true);
    expect(new Set(devices.map((device) => device.imei)).size).toBe(devices.length);
    const regions = new Map(
      (await first.dataSource.getRepository(Region).find()).map((region) => [region.id, region.code]),
    );
    const attempts = await first.dataSource.getRepository(ActivationAttempt).find();
    const locks = attempts.filter((attempt) => attempt.outcome === DecisionOutcome.LOCK);
    expect(locks.length).toBeGreaterThan(0);
    expect(locks.length / attempts.length).toBeLessThan(0.1);
    for (const lock of locks) expect(RESTRICTED).toContain(regions.get(lock.resolvedRegionId!));
    const allowedInRestricted = attempts.filter(
      (attempt) =>
        attempt.outcome === DecisionOutcome.ALLOW && RESTRICTED.includes(regions.get(attempt.resolvedRegionId!) ?? ''),
    );
    expect(allowedInRestricted).toEqual([]);
  });

  it('decides generated attempts with the same engine as decideActivation', async () => {
    const attempts = await first.dataSource.getRepository(ActivationAttempt).find({ take: 200, order: { id: 'ASC' } });
    const rules = await new Evaluator(first.dataSource).current();
    const devices = new Map((await first.dataSource.getRepository(Device).find()).map((device) => [device.id, device]));
    for (const attempt of attempts) {
      const device = devices.get(attempt.deviceId)!;
      const decision = rules.engine.decide(
        attempt.signals,
        {
          deviceId: device.id,
          modelCode: rules.modelCodeById.get(device.modelId)!,
          partnerId: device.partnerId,
          locked: false,
          lockedByVersionId: null,
        },
        attempt.occurredAt,
      );
      expect([attempt.outcome, attempt.enforced, attempt.reasonCodes]).toEqual([
        decision.outcome,
        decision.enforced,
        decision.reasonCodes,
      ]);
    }
  });

  it('leaves each device in the state its attempts imply', async () => {
    const devices = await first.dataSource.getRepository(Device).find();
    const attempts = await first.dataSource.getRepository(ActivationAttempt).find();
    for (const device of devices.slice(0, 100)) {
      const own = attempts.filter((attempt) => attempt.deviceId === device.id);
      const locks = own
        .filter((attempt) => attempt.outcome === DecisionOutcome.LOCK && attempt.enforced)
        .sort((a, b) => +a.occurredAt - +b.occurredAt);
      const reviews = own.filter((attempt) => attempt.outcome === DecisionOutcome.REVIEW && attempt.enforced);
      const expected = locks.length
        ? DeviceStatus.LOCKED
        : reviews.length
          ? DeviceStatus.UNDER_REVIEW
          : own.length
            ? DeviceStatus.ACTIVE
            : DeviceStatus.NEW;
      expect(device.status).toBe(expected);
      if (locks.length) {
        expect(device.lockedByAttemptId).toBe(locks[0].id);
        expect(device.lockedAt).toEqual(locks[0].occurredAt);
      }
    }
  });

  it('adds to an existing database without reusing an IMEI', async () => {
    await seedDemo(first.dataSource, 50, 100, 'more');
    const devices = await first.dataSource.getRepository(Device).find();
    expect(devices).toHaveLength(350);
    expect(new Set(devices.map((device) => device.imei)).size).toBe(350);
  });
});
