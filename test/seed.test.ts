import { ActivationAttempt, DecisionOutcome } from '../src/activations/activation-attempt.entity';
import { Device, DeviceStatus, LockCause } from '../src/devices/device.entity';
import { DeviceStatusChange } from '../src/devices/device-status-change.entity';
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
    // A lock where the policy applies; a locked device's later attempts are refused wherever it is.
    const locks = attempts.filter(
      (attempt) => attempt.outcome === DecisionOutcome.LOCK && attempt.reasonCodes[0] !== 'DEVICE_ALREADY_LOCKED',
    );
    expect(locks.length).toBeGreaterThan(0);
    expect(locks.length / attempts.length).toBeLessThan(0.1);
    for (const lock of locks) expect(RESTRICTED).toContain(regions.get(lock.resolvedRegionId!));
    const allowedInRestricted = attempts.filter(
      (attempt) =>
        attempt.outcome === DecisionOutcome.ALLOW && RESTRICTED.includes(regions.get(attempt.resolvedRegionId!) ?? ''),
    );
    expect(allowedInRestricted).toEqual([]);
  });

  /** Each device's attempts in the order the service would have decided them: as they arrived. */
  async function attemptsByDevice(database: TestDatabase) {
    const attempts = await database.dataSource.getRepository(ActivationAttempt).find();
    const byDevice = new Map<number, ActivationAttempt[]>();
    for (const attempt of attempts)
      byDevice.set(attempt.deviceId, [...(byDevice.get(attempt.deviceId) ?? []), attempt]);
    for (const own of byDevice.values()) own.sort((a, b) => +a.receivedAt - +b.receivedAt || a.id - b.id);
    return byDevice;
  }

  it('decides each attempt with the same engine as decideActivation, seeing the device as the attempts before left it', async () => {
    const rules = await new Evaluator(first.dataSource).current();
    const devices = await first.dataSource.getRepository(Device).find({ take: 60, order: { id: 'ASC' } });
    const byDevice = await attemptsByDevice(first);
    for (const device of devices) {
      let lock: ActivationAttempt | undefined;
      for (const attempt of byDevice.get(device.id) ?? []) {
        const decision = rules.engine.decide(
          attempt.signals,
          {
            deviceId: device.id,
            modelCode: rules.modelCodeById.get(device.modelId)!,
            partnerId: device.partnerId,
            locked: lock !== undefined,
            lockedByVersionId: lock?.policyVersionId ?? null,
          },
          attempt.occurredAt,
        );
        expect([attempt.outcome, attempt.enforced, attempt.reasonCodes, attempt.policyVersionId]).toEqual([
          decision.outcome,
          decision.enforced,
          decision.reasonCodes,
          decision.policyVersionId,
        ]);
        if (!lock && attempt.outcome === DecisionOutcome.LOCK && attempt.enforced) lock = attempt;
      }
    }
  });

  for (const [name, database] of [
    ['here', () => first],
    ['on worker threads', () => second],
  ] as const) {
    it(`tells the README's story in the raw rows (made ${name}): locks with their history, no ALLOW after a lock`, async () => {
      const { dataSource } = database();
      const devices = await dataSource.getRepository(Device).find();
      const byDevice = await attemptsByDevice(database());
      const history = await dataSource.getRepository(DeviceStatusChange).find({ order: { id: 'ASC' } });
      const historyOf = (deviceId: number) => history.filter((change) => change.deviceId === deviceId);
      let locked = 0;
      let refusedAfterLock = 0;
      for (const device of devices) {
        const own = byDevice.get(device.id) ?? [];
        const lockIndex = own.findIndex((attempt) => attempt.outcome === DecisionOutcome.LOCK && attempt.enforced);
        const reviewed = own.some((attempt) => attempt.outcome === DecisionOutcome.REVIEW && attempt.enforced);
        const expected =
          lockIndex >= 0
            ? DeviceStatus.LOCKED
            : reviewed
              ? DeviceStatus.UNDER_REVIEW
              : own.length
                ? DeviceStatus.ACTIVE
                : DeviceStatus.NEW;
        expect(device.status).toBe(expected);
        const changes = historyOf(device.id);
        // The history runs from NEW to the status the device is in, each change from where the last left it.
        changes.forEach((change, index) =>
          expect(change.fromStatus).toBe(index === 0 ? DeviceStatus.NEW : changes[index - 1].toStatus),
        );
        expect(changes.at(-1)?.toStatus ?? DeviceStatus.NEW).toBe(device.status);
        if (lockIndex < 0) {
          expect(device.lockCause).toBeNull();
          continue;
        }
        locked += 1;
        const lock = own[lockIndex];
        expect(device).toMatchObject({
          lockedByAttemptId: lock.id,
          lockedAt: lock.receivedAt,
          lockCause: LockCause.DECISION,
          lockPolicyVersionId: lock.policyVersionId,
        });
        expect(changes.at(-1)).toMatchObject({ toStatus: 'LOCKED', cause: 'DECISION', attemptId: lock.id });
        // Every attempt after the lock is refused as the service refuses it: still locked, same policy version.
        for (const later of own.slice(lockIndex + 1)) {
          refusedAfterLock += 1;
          expect([later.outcome, later.reasonCodes[0], later.policyVersionId]).toEqual([
            DecisionOutcome.LOCK,
            'DEVICE_ALREADY_LOCKED',
            lock.policyVersionId,
          ]);
        }
      }
      expect(locked).toBeGreaterThan(0);
      expect(refusedAfterLock).toBeGreaterThan(0);
    });
  }

  it('adds to an existing database without reusing an IMEI', async () => {
    await seedDemo(first.dataSource, 50, 100, 'more');
    const devices = await first.dataSource.getRepository(Device).find();
    expect(devices).toHaveLength(350);
    expect(new Set(devices.map((device) => device.imei)).size).toBe(350);
  });
});
