/**
 * How simulatePolicy reads attempts (COPY text on PostgreSQL; on SQLite rows read by time or by id,
 * by the thread that decides them; the device's
 * model and partner joined only when the rules look at them) gives what deciding the same
 * attempts, read through the ORM, one by one gives: with signals whose text needs escaping, with
 * purged signals skipped, with a draft limited to models and an exemption naming a partner, on the
 * request's thread and on worker threads.
 */
import { ActivationAttempt, DecisionOutcome } from '../src/activations/activation-attempt.entity';
import { ingestAttempts } from '../src/activations/attempt-ingest';
import { internalViewer } from '../src/auth/viewer';
import { RequestScope, createRequestScope } from '../src/common/request-scope';
import { CompiledRules, Evaluator } from '../src/decisions/evaluator';
import { DecisionEngine } from '../src/decisions/engine/engine';
import { CompiledPolicy, Decision } from '../src/decisions/engine/types';
import { Device } from '../src/devices/device.entity';
import { SimulatePolicyInput } from '../src/reports/report.types';
import { SimulationOptions, simulatePolicy } from '../src/reports/simulation.service';
import { readDatabaseSettings } from '../src/config';
import { loadReferenceData } from '../src/seeding/reference-data';
import { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { FIXED_UNTIL, seedDemo } from './support/fixtures';
import { allowedByIp } from './support/attempts';

const DAY = 86_400_000;
const window = { from: new Date(FIXED_UNTIL.getTime() - 40 * DAY), to: FIXED_UNTIL };
let database: TestDatabase;
let devices: Device[];

/** The window's data: the demo's, and attempts whose signals are awkward to read back. */
async function seedWindow(dataSource: DataSource): Promise<Device[]> {
  await seedDemo(dataSource, 200, 2500, 'simulation-reading');
  const seeded = await dataSource.getRepository(Device).find({ order: { id: 'ASC' } });
  // Signals whose JSON text holds what COPY escapes (backslashes, a tab, a newline) and more than ASCII.
  const awkward = (index: number) => ({
    gps: { latitude: 39.93 + index / 1000, longitude: 32.85, accuracyMeters: 10 },
    sim: { mcc: '286', mnc: '01' },
    ipCountry: 'TR',
    note: `back\\slash "quoted"\ttab\nline ç ${index}`,
  });
  await ingestAttempts(dataSource, [
    Array.from({ length: 30 }, (_, index) =>
      allowedByIp(seeded[index % seeded.length].id, new Date(FIXED_UNTIL.getTime() - (index + 1) * 3_600_000 - 0.5), {
        receivedAt: new Date(FIXED_UNTIL.getTime() - (index + 1) * 3_600_000 + 1_000),
        signals: awkward(index) as never,
        // Every third one purged: skipped, never decided.
        signalsPurgedAt: index % 3 === 0 ? FIXED_UNTIL : null,
      }),
    ),
  ]);
  return seeded;
}

/** On SQLite, the same data in memory. */
let inMemory: DataSource | null = null;

beforeAll(async () => {
  database = await openTestDatabase();
  devices = await seedWindow(database.dataSource);
  if (!usingPostgres) {
    inMemory = createDataSource({ ...readDatabaseSettings(), url: undefined, sqlitePath: ':memory:' });
    await inMemory.initialize();
    await inMemory.runMigrations({ transaction: 'each' });
    await loadReferenceData(inMemory, database.settings);
    await seedWindow(inMemory);
  }
}, 180_000);
afterAll(async () => {
  await inMemory?.destroy();
  await database.close();
});

const effective = (decision: Decision) => (decision.enforced ? decision.outcome : DecisionOutcome.ALLOW);

/** The simulation worked out here: every attempt of the window read through the ORM and decided twice. */
async function expected(rules: CompiledRules, draft: CompiledPolicy) {
  const drafted = new DecisionEngine({
    ...rules.engineData,
    policies: [...rules.engineData.policies.filter((policy) => policy.policyKey !== draft.policyKey), draft],
  });
  const byId = new Map(devices.map((device) => [device.id, device]));
  const attempts = (await database.dataSource.getRepository(ActivationAttempt).find({ order: { id: 'ASC' } })).filter(
    (attempt) => attempt.occurredAt >= window.from && attempt.occurredAt < window.to,
  );
  const kept = attempts.filter((attempt) => !attempt.signalsPurgedAt);
  const changed = new Map<string, number>();
  const changedDevices = new Set<number>();
  for (const attempt of kept) {
    const device = byId.get(attempt.deviceId)!;
    const facts = {
      deviceId: device.id,
      modelCode: rules.modelCodeById.get(device.modelId)!,
      partnerId: device.partnerId,
      locked: false,
      lockedByVersionId: null,
      recordedSpeedKmh: attempt.fixSpeedKmh,
    };
    const before = effective(rules.engine.decide(attempt.signals as never, facts, attempt.occurredAt));
    const after = effective(drafted.decide(attempt.signals as never, facts, attempt.occurredAt));
    if (before === after) continue;
    changed.set(`${before}>${after}`, (changed.get(`${before}>${after}`) ?? 0) + 1);
    changedDevices.add(device.id);
  }
  return {
    attempts: kept.length,
    skippedAttempts: attempts.length - kept.length,
    changedAttempts: [...changed.values()].reduce((sum, count) => sum + count, 0),
    changedDevices: changedDevices.size,
    transitions: Object.fromEntries(changed),
    // The lowest ids, whatever order the window was read in.
    sampleDeviceIds: [...changedDevices].sort((a, b) => a - b).slice(0, 20),
  };
}

it.each([
  ['the rules look at neither model nor partner', false],
  ['a draft limited to a model, an exemption naming a partner', true],
])(
  'equals deciding one by one when %s',
  async (_, facts) => {
    let rules = await new Evaluator(database.dataSource).compile();
    const modelCode = rules.modelCodeById.get(devices[0].modelId)!;
    if (facts) {
      // A partner exempt from the export policy (not saved: these rules only).
      const engineData = {
        ...rules.engineData,
        exemptions: [
          ...rules.engineData.exemptions,
          {
            reference: 'test-exemption',
            policyKey: 'export-restricted-territories',
            deviceId: null,
            partnerId: devices[1].partnerId,
            expiresAt: null,
          },
        ],
      };
      rules = { ...rules, engineData, engine: new DecisionEngine(engineData) };
    }
    const draft: CompiledPolicy = {
      versionId: -1,
      policyKey: 'turkey',
      versionNumber: 1,
      action: 'LOCK',
      mode: 'ENFORCE',
      priority: 0,
      effectiveFrom: Date.parse('2020-01-01T00:00:00Z'),
      effectiveUntil: null,
      regionCodes: new Set(['TR', 'DE']),
      modelCodes: facts ? new Set([modelCode]) : null,
    };
    const input = Object.assign(new SimulatePolicyInput(), {
      policy: {
        policyKey: 'turkey',
        action: 'LOCK',
        mode: 'ENFORCE',
        regionCodes: ['TR', 'DE'],
        effectiveFrom: new Date(draft.effectiveFrom),
        ...(facts ? { productScope: [modelCode] } : {}),
      },
      ...window,
    }) as SimulatePolicyInput;
    const want = await expected(rules, draft);
    expect(want.changedAttempts).toBeGreaterThan(0);
    expect(want.skippedAttempts).toBe(10);
    // More changed devices than the sample holds: which come first differs with the order read.
    expect(want.changedDevices).toBeGreaterThan(20);
    const scope = createRequestScope(database.dataSource, database.settings, 'test', internalViewer('test'));
    const sqliteReads = usingPostgres
      ? []
      : [
          { threads: 0, sqliteRead: { order: 'time' as const } },
          // Slices of 97 ids: the window's rows cut at many places, none read twice or missed.
          { threads: 0, sqliteRead: { order: 'id' as const, idsPerSlice: 97 } },
          { threads: 2, threadedFrom: 0, sqliteRead: { order: 'time' as const } },
          // Many slices on two threads, each reading its own: counted in reading order all the same.
          { threads: 2, threadedFrom: 0, sqliteRead: { order: 'id' as const, idsPerSlice: 97 } },
        ];
    const runs: [RequestScope, SimulationOptions][] = [
      ...[{ threads: 0 }, { threads: 2, threadedFrom: 0 }, ...sqliteReads].map(
        (options): [RequestScope, SimulationOptions] => [scope, options],
      ),
      // An in-memory database (the same data): no thread can open it, so its rows are read on the
      // request's thread and handed to the threads.
      ...(usingPostgres
        ? []
        : [
            { threads: 2, threadedFrom: 0, sqliteRead: { order: 'time' as const } },
            { threads: 2, threadedFrom: 0, sqliteRead: { order: 'id' as const, idsPerSlice: 97 } },
          ].map((options): [RequestScope, SimulationOptions] => [
            createRequestScope(inMemory!, database.settings, 'test', internalViewer('test')),
            options,
          ])),
    ];
    for (const [runScope, options] of runs) {
      const found = await simulatePolicy(runScope, rules, input, options);
      expect({
        attempts: found.attempts,
        skippedAttempts: found.skippedAttempts,
        changedAttempts: found.changedAttempts,
        changedDevices: found.changedDevices,
        transitions: Object.fromEntries(
          found.transitions.map((transition) => [`${transition.from}>${transition.to}`, transition.attempts]),
        ),
        sampleDeviceIds: found.sampleDeviceIds,
      }).toEqual(want);
    }
  },
  180_000,
);
