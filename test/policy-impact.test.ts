/**
 * policyImpact from the counts kept per policy version (issue 21): the kept tables equal a recount
 * of the raw rows, and the report equals the report's own definition recounted here — attempts of
 * each version from its effectiveFrom, up to `to`, by outcome, region and refusal of an already
 * locked device, with distinct devices — after a bulk load (the seed), decisions, a load of late
 * attempts counted per row and per batch, attempts recorded before their version took effect,
 * windows ending inside an hour, a partner's view and (PostgreSQL) a retired month.
 */
import seedrandom from 'seedrandom';
import { ActivationAttempt, DecisionOutcome, RegionSource } from '../src/activations/activation-attempt.entity';
import { BulkAttempt, ingestAttempts } from '../src/activations/attempt-ingest';
import { retireAttemptMonths } from '../src/activations/attempt-partitions';
import { Role } from '../src/auth/roles';
import { Device } from '../src/devices/device.entity';
import { Policy } from '../src/policies/policy.entity';
import { PolicyVersion } from '../src/policies/policy-version.entity';
import { Region } from '../src/regions/region.entity';
import { openTestDatabase, rollBackMigrations, TestDatabase, usingPostgres } from './support/database';
import { decideActivation } from './support/decisions';
import { expectedImpact, impactTables } from './support/device-days';
import { registerTestDevices, seedDemo, testImei } from './support/fixtures';
import { GraphQLClient } from './support/graphql';

const POLICY = 'export-restricted-territories';
const IMPACT = `query ($to: DateTime) { policyImpact(policyKey: "${POLICY}", to: $to) {
  policyVersion { number } outcome enforced alreadyLocked region { code } attempts devices } }`;
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 }, sim: { mcc: '368', mnc: '01' } };
const BERLIN = { sim: { mcc: '262', mnc: '01' } };
/** A second version, effective from inside an hour (by its milliseconds too). */
const SECOND_FROM = new Date('2026-10-10T10:30:00.250Z');
/** Windows ending: never, inside an hour, on a whole hour, inside the second version's first hour, before it. */
const ENDS = [
  null,
  new Date('2026-10-20T15:45:12.345Z'),
  new Date('2026-10-20T16:00:00Z'),
  new Date('2026-10-10T10:40:00Z'),
  new Date('2026-10-10T10:00:00Z'),
];

let database: TestDatabase;
let client: GraphQLClient;
let versions: PolicyVersion[];
let regionCode: Map<number, string>;

beforeAll(async () => {
  database = await openTestDatabase();
  const { dataSource } = database;
  await seedDemo(dataSource, 80, 2_000, 'policy-impact');
  client = await GraphQLClient.create(database);
  const policy = await dataSource.getRepository(Policy).findOneByOrFail({ key: POLICY });
  const [first] = await dataSource.getRepository(PolicyVersion).findBy({ policyId: policy.id });
  // A later version of the same policy (only its number and effectiveFrom matter to the report).
  const { id: _id, ...copied } = first;
  // Never approved, so no decision takes it: attempts name it only through the bulk path, as an import may.
  await dataSource
    .getRepository(PolicyVersion)
    .save({ ...copied, number: 2, effectiveFrom: SECOND_FROM, approvedAt: null, approvedBy: null });
  versions = await dataSource
    .getRepository(PolicyVersion)
    .find({ where: { policyId: policy.id }, order: { number: 'ASC' } });
  regionCode = new Map((await dataSource.getRepository(Region).find()).map((region) => [region.id, region.code]));
});
afterAll(async () => {
  await client?.stop();
  await database?.close();
});

type Line = {
  policyVersion: { number: number };
  outcome: string;
  enforced: boolean;
  alreadyLocked: boolean;
  region: { code: string } | null;
  attempts: number;
  devices: number;
};
const sorted = (lines: Line[]) => [...lines].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** The report's definition, recounted from the raw rows (of some devices only, for a partner). */
async function recount(to: Date | null, deviceIds?: Set<number>): Promise<Line[]> {
  const attempts = await database.dataSource.getRepository(ActivationAttempt).find();
  const lines = new Map<string, { line: Omit<Line, 'attempts' | 'devices'>; attempts: number; devices: Set<number> }>();
  for (const attempt of attempts) {
    const version = versions.find((candidate) => candidate.id === attempt.policyVersionId);
    if (!version || attempt.occurredAt < version.effectiveFrom || (to && attempt.occurredAt >= to)) continue;
    if (deviceIds && !deviceIds.has(attempt.deviceId)) continue;
    const line = {
      policyVersion: { number: version.number },
      outcome: attempt.outcome,
      enforced: attempt.enforced,
      alreadyLocked: attempt.reasonCodes[0] === 'DEVICE_ALREADY_LOCKED',
      region: attempt.resolvedRegionId === null ? null : { code: regionCode.get(attempt.resolvedRegionId)! },
    };
    const key = JSON.stringify(line);
    const counted = lines.get(key) ?? lines.set(key, { line, attempts: 0, devices: new Set() }).get(key)!;
    counted.attempts += 1;
    counted.devices.add(attempt.deviceId);
  }
  return sorted(
    [...lines.values()].map(({ line, attempts, devices }) => ({ ...line, attempts, devices: devices.size })),
  );
}

async function report(to: Date | null, as: GraphQLClient = client): Promise<Line[]> {
  return (await as.data(IMPACT, { to: to?.toISOString() ?? null })).policyImpact;
}

/** The kept tables against the raw rows, and the report against its definition for every window end. */
async function expectExact(): Promise<void> {
  const { dataSource } = database;
  expect(await impactTables(dataSource)).toEqual(
    expectedImpact(await dataSource.getRepository(ActivationAttempt).find()),
  );
  for (const to of ENDS) expect([to, sorted(await report(to))]).toEqual([to, await recount(to)]);
}

/** Attempts under the policy's versions at random instants around SECOND_FROM, some before each device's first. */
function lateAttempts(devices: Device[], regions: number[], count: number, seed: string): BulkAttempt[] {
  const random = seedrandom(seed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const start = Date.parse('2026-09-01T00:00:00Z');
  return Array.from({ length: count }, () => {
    const occurredAt = new Date(start + Math.floor(random() * 60 * 86_400_000));
    const alreadyLocked = random() < 0.2;
    return {
      deviceId: pick(devices).id,
      occurredAt,
      receivedAt: new Date(occurredAt.getTime() + 1_000),
      signals: { ipCountry: 'CU' },
      signalsPurgedAt: null,
      // Also right around the second version's start, and with no region.
      ...(random() < 0.1
        ? { occurredAt: new Date(SECOND_FROM.getTime() + Math.floor((random() - 0.5) * 7_200_000)) }
        : {}),
      resolvedRegionId: random() < 0.1 ? null : pick(regions),
      regionSource: RegionSource.IP,
      outcome: pick([DecisionOutcome.LOCK, DecisionOutcome.LOCK, DecisionOutcome.REVIEW]),
      enforced: random() < 0.8,
      // The second version also before it took effect: recorded under it, not counted by the report.
      policyVersionId: pick(versions).id,
      reasonCodes: alreadyLocked ? ['DEVICE_ALREADY_LOCKED', 'POLICY_APPLIES'] : ['POLICY_APPLIES'],
      reviewStatus: null,
      idempotencyKey: null,
    };
  });
}

it('counts a bulk load (the seed) as a recount of the raw rows does, and the report follows its definition', async () => {
  const decided = await database.dataSource
    .getRepository(ActivationAttempt)
    .countBy({ policyVersionId: versions[0].id });
  expect(decided).toBeGreaterThan(0);
  await expectExact();
});

it('keeps counting decisions, a refusal of a locked device, and late attempts counted per row and per batch', async () => {
  const { dataSource } = database;
  const imeis = [1, 2, 3].map((serial) => testImei(serial));
  await registerTestDevices(client, imeis, 'Impact Partner');
  for (const imei of imeis) {
    const locked = await decideActivation(client, { imei, signals: HAVANA });
    expect(locked.decision.outcome).toBe('LOCK');
  }
  const refused = await decideActivation(client, { imei: imeis[0], signals: BERLIN });
  expect(refused.decision.reasonCodes[0]).toBe('DEVICE_ALREADY_LOCKED');
  await expectExact();

  const devices = await dataSource.getRepository(Device).find();
  const regions = (await dataSource.getRepository(Region).find()).slice(0, 12).map((region) => region.id);
  const rows = lateAttempts(devices, regions, 1_200, 'late');
  // Per row (as decisions are counted on SQLite), then in small batches and statements.
  await ingestAttempts(dataSource, [rows.slice(0, 300)], { countPerRow: true });
  await ingestAttempts(
    dataSource,
    Array.from({ length: 9 }, (_, index) => rows.slice(300 + index * 100, 400 + index * 100)),
    { rowsPerTransaction: 200, rowsPerStatement: 200 },
  );
  await expectExact();
});

it("gives a partner its own devices' lines only", async () => {
  const [device] = await database.dataSource.getRepository(Device).find({ order: { id: 'ASC' }, take: 1 });
  const own = await database.dataSource.getRepository(Device).findBy({ partnerId: device.partnerId });
  const partner = client.as({ keyId: null, name: 'p', role: Role.PARTNER, partnerId: device.partnerId });
  for (const to of [null, ENDS[1]])
    expect(sorted(await report(to, partner))).toEqual(await recount(to, new Set(own.map((each) => each.id))));
});

(usingPostgres ? it : it.skip)('keeps the figures of a retired month', async () => {
  const { dataSource } = database;
  const devices = await dataSource.getRepository(Device).find({ order: { id: 'ASC' }, take: 10 });
  const cuba = await dataSource.getRepository(Region).findOneByOrFail({ code: 'CU' });
  // April: history under the first version only, no open review, no lock evidence.
  await ingestAttempts(dataSource, [
    devices.map((device, index) => ({
      ...lateAttempts([device], [cuba.id], 1, `april-${index}`)[0],
      occurredAt: new Date(`2026-04-${String(index + 1).padStart(2, '0')}T08:15:00Z`),
      policyVersionId: versions[0].id,
    })),
  ]);
  await expectExact();
  const before = await Promise.all(ENDS.map((to) => report(to)));
  const tables = await impactTables(dataSource);
  const outcome = await retireAttemptMonths(dataSource, { keepMonths: 3, now: new Date('2026-11-15T00:00:00Z') });
  expect(outcome.retired.map((month) => month.name)).toContain('activation_attempt_y2026m04');
  expect(await impactTables(dataSource)).toEqual(tables);
  expect(await Promise.all(ENDS.map((to) => report(to)))).toEqual(before);
  // A window ending on a whole hour after April still counts April's attempts.
  const may = await report(new Date('2026-05-01T00:00:00Z'));
  expect(may.reduce((sum, line) => sum + line.attempts, 0)).toBe(10);
});

describe('the migrations, on a database with history', () => {
  it("count the stored attempts and copy each lock's region as the triggers and the lifecycle did", async () => {
    const history = await openTestDatabase();
    try {
      const { dataSource } = history;
      await seedDemo(dataSource, 60, 1_500, 'impact-migration');
      const counted = await impactTables(dataSource);
      const attempts = await dataSource.getRepository(ActivationAttempt).find();
      expect(counted).toEqual(expectedImpact(attempts));
      const locks = async () =>
        (await dataSource.query('SELECT "id", "lockRegionId" FROM "device" ORDER BY "id"')).map(
          (row: { id: number; lockRegionId: number | null }) => [Number(row.id), row.lockRegionId],
        );
      const locked = await locks();
      // The lifecycle wrote each lock's region: the evidence attempt's.
      const byId = new Map(attempts.map((attempt) => [attempt.id, attempt]));
      const devices = await dataSource.getRepository(Device).find({ order: { id: 'ASC' } });
      expect(locked).toEqual(
        devices.map((device) => [
          device.id,
          device.lockedByAttemptId === null ? null : (byId.get(device.lockedByAttemptId)!.resolvedRegionId ?? null),
        ]),
      );
      expect(locked.filter(([, region]: [number, number | null]) => region !== null).length).toBeGreaterThan(0);

      const undone = await rollBackMigrations(dataSource, 'PolicyImpactRollup1765750000000');
      expect(undone.slice(0, 2)).toEqual(['PolicyImpactRollup1765750000000', 'LockRegionAndOpenReviews1765750000001']);
      await dataSource.runMigrations({ transaction: 'each' });
      expect(await impactTables(dataSource)).toEqual(counted);
      expect(await locks()).toEqual(locked);
    } finally {
      await history.close();
    }
  });
});
