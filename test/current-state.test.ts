/**
 * Reports on the state things are in now: the devices locked (by region, policy, cause, model,
 * partner) and the open review queue (size and age). Checked against counts computed here from the
 * raw rows, after locks by decisions, by a sweep and by a person's review, and an unlock; partner
 * scoping; bad input named.
 */
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { Role } from '../src/auth/roles';
import { rowIdOf } from '../src/common/global-id';
import { Device, LOCKED_DEVICES_INDEX } from '../src/devices/device.entity';
import { DeviceModel } from '../src/device-models/device-model.entity';
import { DeviceStatusChange } from '../src/devices/device-status-change.entity';
import { PolicyVersion } from '../src/policies/policy-version.entity';
import { Policy } from '../src/policies/policy.entity';
import { Region } from '../src/regions/region.entity';
import { Sweep } from '../src/sweeps/sweep.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { OPEN_REVIEWS_INDEX } from '../src/activations/activation-attempt.entity';
import { seedDemo, testImei } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { decideActivation } from './support/decisions';
import { applyWithApproval } from './support/policies';
import { rowCounts } from './support/row-counts';

let database: TestDatabase;
let client: GraphQLClient;
let partnerId: string;
const PARIS = { gps: { latitude: 48.8566, longitude: 2.3522, accuracyMeters: 5 } };
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
// GPS in Crimea, SIM of a German network: the signals disagree, so a person decides.
const SIMFEROPOL_GERMAN_SIM = {
  gps: { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 20 },
  sim: { mcc: '262', mnc: '01' },
};

async function decide(imei: string, signals: object, key: string) {
  const decided = await decideActivation(
    client,
    { imei, signals, idempotencyKey: key },
    'decision { outcome } attempt { id } userErrors { message }',
  );
  expect(decided.userErrors).toEqual([]);
  return decided as { decision: { outcome: string }; attempt: { id: string } };
}

beforeAll(async () => {
  database = await openTestDatabase();
  database.settings.sweeps = { batchSize: 2, leaseMs: 30_000, batchPauseMs: 0 };
  client = await GraphQLClient.create(database);
  await seedDemo(database.dataSource, 300, 3000);
  const partner = await client.data(
    `mutation { createPartner(input: { name: "Paris Carrier", kind: CARRIER }) { partner { id } } }`,
  );
  partnerId = partner.createPartner.partner.id;
  const imeis = [1, 2, 3, 4, 5, 6, 7].map((serial) => testImei(900 + serial));
  const registered = await client.data(
    `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id } userErrors { message } } }`,
    {
      input: {
        partnerId,
        devices: imeis.map((imei, index) => ({
          imei,
          serialNumber: `s${index}`,
          modelCode: 'AR-5',
          marketRegionCode: 'FR',
        })),
      },
    },
  );
  expect(registered.registerDevices.userErrors).toEqual([]);
  const deviceIds: string[] = registered.registerDevices.devices.map((device: { id: string }) => device.id);

  // Two devices active in Paris before a French LOCK policy: its sweep locks them.
  await decide(imeis[0], PARIS, 'paris-0');
  await decide(imeis[1], PARIS, 'paris-1');
  const created = await client.data(
    `mutation { createPolicy(input: { key: "france", title: "t", description: "d", legalBasis: "l", action: LOCK, mode: ENFORCE,
      effectiveFrom: "2025-01-01T00:00:00Z", regionCodes: ["FR"], lockMessage: "Not for this market" }) { policy { id } } }`,
  );
  await applyWithApproval(client, 'activatePolicy', { id: created.createPolicy.policy.id });
  const started = await client.data(
    `mutation { startSweep(input: { policyKey: "france", action: LOCK_ACTIVE_DEVICES, dryRun: false }) { userErrors { message } } }`,
  );
  expect(started.startSweep.userErrors).toEqual([]);
  await database.services.sweeps.idle();
  // A decision under the French policy, one under the export policy, one unlocked again.
  expect((await decide(imeis[2], PARIS, 'paris-2')).decision.outcome).toBe('LOCK');
  expect((await decide(imeis[3], HAVANA, 'havana-3')).decision.outcome).toBe('LOCK');
  expect((await decide(imeis[4], HAVANA, 'havana-4')).decision.outcome).toBe('LOCK');
  const unlocked = await client.data(
    `mutation ($id: ID!) { unlockDevice(input: { deviceId: $id, reason: "traveller, verified" }) { userErrors { message } } }`,
    { id: deviceIds[4] },
  );
  expect(unlocked.unlockDevice.userErrors).toEqual([]);
  // A review a person resolves by locking, and one left open.
  const review = await decide(imeis[5], SIMFEROPOL_GERMAN_SIM, 'crimea-5');
  expect(review.decision.outcome).toBe('REVIEW');
  const resolved = await client.data(
    `mutation ($id: ID!) { resolveReview(input: { attemptId: $id, resolution: LOCK, note: "seen in Crimea" }) { userErrors { message } } }`,
    { id: review.attempt.id },
  );
  expect(resolved.resolveReview.userErrors).toEqual([]);
  // Another, left open.
  await decide(imeis[6], SIMFEROPOL_GERMAN_SIM, 'crimea-6');
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

/** The locked devices as the raw rows say: region of the locking attempt, policy, cause. */
async function lockedFromRawRows() {
  const { dataSource } = database;
  const attempts = new Map((await dataSource.getRepository(ActivationAttempt).find()).map((a) => [a.id, a]));
  const versions = new Map((await dataSource.getRepository(PolicyVersion).find()).map((v) => [v.id, v]));
  const sweeps = new Map((await dataSource.getRepository(Sweep).find()).map((s) => [s.id, s]));
  const changes = await dataSource.getRepository(DeviceStatusChange).find({ order: { id: 'ASC' } });
  const locked = await dataSource.getRepository(Device).findBy({ status: 'LOCKED' as Device['status'] });
  return locked.map((device) => {
    const attempt = device.lockedByAttemptId === null ? undefined : attempts.get(device.lockedByAttemptId);
    // What locked it, as its history says (the change that locked it last).
    const lockChange = changes.filter((c) => c.deviceId === device.id && c.toStatus === 'LOCKED').pop();
    const cause = lockChange?.cause ?? 'DECISION';
    const sweepLock = lockChange?.cause === 'SWEEP' ? lockChange : undefined;
    const policyId =
      cause === 'SWEEP'
        ? sweeps.get(sweepLock!.sweepId!)!.policyId
        : attempt?.policyVersionId
          ? versions.get(attempt.policyVersionId)!.policyId
          : null;
    return { device, regionId: attempt?.resolvedRegionId ?? null, policyId, cause, lockedAt: device.lockedAt! };
  });
}

const LOCKED = `query ($filter: DeviceScopeFilter, $groupBy: [LockedDevicesGroupBy!]) {
  lockedDeviceStats(filter: $filter, groupBy: $groupBy) {
    totals { devices oldestLockedAt }
    rows { region { code } country { code } policy { key } cause model { code } partner { id } devices oldestLockedAt }
  }
}`;

describe('lockedDeviceStats', () => {
  it('counts the devices locked now by region, policy and cause as the raw rows do', async () => {
    const expected = await lockedFromRawRows();
    const regions = new Map((await database.dataSource.getRepository(Region).find()).map((r) => [r.id, r.code]));
    const policies = new Map((await database.dataSource.getRepository(Policy).find()).map((p) => [p.id, p.key]));
    const data = await client.data(LOCKED, { groupBy: ['REGION', 'POLICY', 'CAUSE'] });
    const byKey = new Map<string, { devices: number; oldest: number }>();
    for (const row of expected) {
      const key = [
        row.regionId === null ? null : regions.get(row.regionId),
        row.policyId === null ? null : policies.get(row.policyId),
        row.cause,
      ].join('|');
      const entry = byKey.get(key) ?? { devices: 0, oldest: Infinity };
      byKey.set(key, { devices: entry.devices + 1, oldest: Math.min(entry.oldest, row.lockedAt.getTime()) });
    }
    const actual = new Map(
      data.lockedDeviceStats.rows.map((row: any) => [
        [row.region?.code ?? null, row.policy?.key ?? null, row.cause].join('|'),
        { devices: row.devices, oldest: new Date(row.oldestLockedAt).getTime() },
      ]),
    );
    expect(actual).toEqual(byKey);
    expect(data.lockedDeviceStats.totals.devices).toBe(expected.length);
    // The scenario's own locks are where they should be; the unlocked device is not counted.
    // The sweep locked the scenario's two Paris devices and seeded devices active in France.
    expect(byKey.get('FR|france|SWEEP')!.devices).toBeGreaterThanOrEqual(2);
    expect(byKey.get('FR|france|DECISION')?.devices).toBe(1);
    expect([...byKey.keys()].some((key) => key.endsWith('|REVIEW'))).toBe(true);
    expect(expected.filter((row) => row.cause === 'DECISION').length).toBeGreaterThan(10);
  });

  it('reads why a device is locked from its lockCause, never from the wording of its reason', async () => {
    const causes = async () =>
      (await client.data(LOCKED, { groupBy: ['POLICY', 'CAUSE'] })).lockedDeviceStats.rows.map((row: any) => [
        row.policy?.key ?? null,
        row.cause,
        row.devices,
      ]);
    const before = await causes();
    const devices = database.dataSource.getRepository(Device);
    const locked = await devices.findBy({ status: 'LOCKED' as Device['status'] });
    // A later release words its reasons differently: nothing a report says may change.
    await devices.update({ status: 'LOCKED' as Device['status'] }, { lockReason: 'reworded' });
    try {
      expect(await causes()).toEqual(before);
    } finally {
      for (const device of locked) await devices.update({ id: device.id }, { lockReason: device.lockReason });
    }
  });

  it("resolves the rows' regions, countries, policies, models and partners in one statement each", async () => {
    const measured = await database.statements.measure(() =>
      client.data(LOCKED, { groupBy: ['REGION', 'COUNTRY', 'POLICY', 'MODEL', 'PARTNER'] }),
    );
    expect(measured.result.lockedDeviceStats.rows.length).toBeGreaterThan(20);
    // The report, then regions (countries too), policies, models and partners: one batch each.
    expect(measured.statements.length).toBeLessThanOrEqual(5);
  });

  it('totals every locked device once, with the oldest lock', async () => {
    const expected = await lockedFromRawRows();
    const data = await client.data(LOCKED, {});
    expect(data.lockedDeviceStats.rows).toHaveLength(1);
    expect(data.lockedDeviceStats.totals).toEqual({
      devices: expected.length,
      oldestLockedAt: new Date(Math.min(...expected.map((row) => row.lockedAt.getTime()))).toISOString(),
    });
  });

  it('gives a partner its own devices only, whatever its filter says', async () => {
    const own = rowIdOf(partnerId, 'Partner')!;
    const partner = client.as({ keyId: null, name: 'paris carrier', role: Role.PARTNER, partnerId: own });
    const expected = (await lockedFromRawRows()).filter((row) => row.device.partnerId === own);
    const data = await partner.data(LOCKED, { groupBy: ['PARTNER', 'COUNTRY'] });
    expect(data.lockedDeviceStats.totals.devices).toBe(expected.length);
    expect(expected.length).toBe(5);
    expect(new Set(data.lockedDeviceStats.rows.map((row: any) => row.partner.id))).toEqual(new Set([partnerId]));
    const other = await client.data(`{ partners(first: 1) { nodes { id } } }`);
    const foreign = await partner.data(LOCKED, { filter: { partnerId: other.partners.nodes[0].id } });
    expect(foreign.lockedDeviceStats.totals.devices).toBe(0);
  });

  it('filters by region (with subdivisions) and model, and names a bad filter without writing', async () => {
    const expected = (await lockedFromRawRows()).filter((row) => row.regionId !== null);
    const regions = new Map((await database.dataSource.getRepository(Region).find()).map((r) => [r.id, r]));
    const inUkraine = expected.filter((row) => {
      const region = regions.get(row.regionId!)!;
      return region.code === 'UA' || region.code.startsWith('UA-');
    });
    const all = await client.data(LOCKED, { filter: { regionCodes: ['UA'] } });
    expect(all.lockedDeviceStats.totals.devices).toBe(inUkraine.length);
    expect(inUkraine.length).toBeGreaterThan(0);
    const ar5 = await database.dataSource.getRepository(DeviceModel).findOneByOrFail({ code: 'AR-5' });
    const ar5InUkraine = await client.data(LOCKED, { filter: { regionCodes: ['UA'], modelCodes: ['AR-5'] } });
    expect(ar5InUkraine.lockedDeviceStats.totals.devices).toBe(
      inUkraine.filter((row) => row.device.modelId === ar5.id).length,
    );

    const before = await rowCounts(database.dataSource);
    for (const [filter, field] of [
      [{ regionCodes: ['XX'] }, 'filter.regionCodes[0]'],
      [{ modelCodes: ['NOPE'] }, 'filter.modelCodes[0]'],
      [{ partnerId: 'not-an-id' }, 'filter.partnerId'],
      [{ regionCodes: Array(1000).fill('FR') }, 'filter.regionCodes'],
    ] as const) {
      const { errors } = await client.execute(LOCKED, { filter });
      expect(errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it('leaves regions out of a filter: Ukraine without Crimea and Sevastopol, in the locked devices and the attempts', async () => {
    const regions = new Map((await database.dataSource.getRepository(Region).find()).map((r) => [r.id, r]));
    const inUkraine = (code: string) => code === 'UA' || code.startsWith('UA-');
    const mainland = (code: string) => inUkraine(code) && code !== 'UA-43' && code !== 'UA-40';
    const locked = (await lockedFromRawRows()).filter((row) => row.regionId !== null);
    const codeOf = (regionId: number) => regions.get(regionId)!.code;
    expect(locked.filter((row) => ['UA-43', 'UA-40'].includes(codeOf(row.regionId!))).length).toBeGreaterThan(0);
    const filter = { regionCodes: ['UA'], excludeRegionCodes: ['UA-43', 'UA-40'] };
    const lockedThere = await client.data(LOCKED, { filter });
    expect(lockedThere.lockedDeviceStats.totals.devices).toBe(
      locked.filter((row) => mainland(codeOf(row.regionId!))).length,
    );

    const attempts = await database.dataSource.getRepository(ActivationAttempt).find();
    const window = { from: '2020-01-01T00:00:00Z', to: '2029-01-01T00:00:00Z' };
    const stats = await client.data(
      `query ($filter: ActivationStatsFilter!) { activationStats(filter: $filter) { totals { attempts } } }`,
      { filter: { ...window, ...filter } },
    );
    expect(stats.activationStats.totals.attempts).toBe(
      attempts.filter((a) => a.resolvedRegionId !== null && mainland(codeOf(a.resolvedRegionId))).length,
    );
    // Leaving out every region named counts nothing.
    const none = await client.data(LOCKED, { filter: { regionCodes: ['UA-43'], excludeRegionCodes: ['UA'] } });
    expect(none.lockedDeviceStats.totals.devices).toBe(0);

    for (const [bad, field] of [
      [{ excludeRegionCodes: ['UA-43'] }, 'filter.excludeRegionCodes'],
      [{ regionCodes: ['UA'], excludeRegionCodes: ['XX'] }, 'filter.excludeRegionCodes[0]'],
      [{ regionCodes: ['UA'], excludeRegionCodes: Array(1000).fill('FR') }, 'filter.excludeRegionCodes'],
    ] as const) {
      const { errors } = await client.execute(LOCKED, { filter: bad });
      expect(errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });
});

const QUEUE = `query ($filter: DeviceScopeFilter, $groupBy: [ReviewQueueGroupBy!]) {
  reviewQueueStats(filter: $filter, groupBy: $groupBy) {
    asOf
    totals { waiting waitingOverHour waitingOverDay waitingOverWeek oldestReceivedAt }
    rows { region { code } policy { key } model { code } waiting waitingOverHour waitingOverDay waitingOverWeek oldestReceivedAt }
  }
}`;

describe('reviewQueueStats', () => {
  it('counts the open reviews and their ages as the raw rows do, and agrees with the queue', async () => {
    const open = await database.dataSource.getRepository(ActivationAttempt).findBy({ reviewStatus: 'OPEN' as never });
    const data = await client.data(QUEUE, { groupBy: ['REGION'] });
    const asOf = new Date(data.reviewQueueStats.asOf).getTime();
    const waitedOver = (ms: number) => open.filter((a) => a.receivedAt.getTime() < asOf - ms).length;
    expect(data.reviewQueueStats.totals).toEqual({
      waiting: open.length,
      waitingOverHour: waitedOver(3_600_000),
      waitingOverDay: waitedOver(86_400_000),
      waitingOverWeek: waitedOver(7 * 86_400_000),
      oldestReceivedAt: new Date(Math.min(...open.map((a) => a.receivedAt.getTime()))).toISOString(),
    });
    // The seeded reviews are weeks old; the one decided in this test waits less than an hour.
    expect(data.reviewQueueStats.totals.waitingOverWeek).toBeGreaterThan(0);
    expect(data.reviewQueueStats.totals.waiting - data.reviewQueueStats.totals.waitingOverHour).toBeGreaterThanOrEqual(
      0,
    );
    const queue = await client.data(`{ reviewQueue { totalCount } }`);
    expect(queue.reviewQueue.totalCount).toBe(open.length);
    const rows = data.reviewQueueStats.rows as any[];
    expect(rows.reduce((sum, row) => sum + row.waiting, 0)).toBe(open.length);
    for (const row of rows) expect(row.waiting).toBeGreaterThanOrEqual(row.waitingOverHour);
  });

  it('is not shown to partners, and an empty scope counts nothing', async () => {
    const partner = client.as({
      keyId: null,
      name: 'paris carrier',
      role: Role.PARTNER,
      partnerId: rowIdOf(partnerId, 'Partner'),
    });
    const { errors } = await partner.execute(QUEUE, {});
    expect(errors![0].extensions!.code).toBe('FORBIDDEN');
    const empty = await client.data(QUEUE, { filter: { regionCodes: ['IS'] } });
    expect(empty.reviewQueueStats).toMatchObject({
      rows: [],
      totals: { waiting: 0, waitingOverHour: 0, waitingOverDay: 0, waitingOverWeek: 0, oldestReceivedAt: null },
    });
  });
});

/**
 * Runs `work`, collecting the statements whose SQL holds `marker`; then, on SQLite (which plans
 * without statistics; PostgreSQL chooses by its own), checks that each reads the table under
 * `alias` through `index`.
 */
async function statementsRead(marker: string, alias: string, index: string, work: () => Promise<void>) {
  const statements: { sql: string; parameters: unknown[] }[] = [];
  const query = database.dataSource.query.bind(database.dataSource);
  jest.spyOn(database.dataSource, 'query').mockImplementation(async (sql, parameters) => {
    if (sql.includes(marker)) statements.push({ sql, parameters: Array.isArray(parameters) ? parameters : [] });
    return query(sql, parameters);
  });
  try {
    await work();
  } finally {
    jest.restoreAllMocks();
  }
  if (!usingPostgres)
    for (const { sql, parameters } of statements) {
      const plan: { detail: string }[] = await database.dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, parameters);
      expect(plan.find((row) => row.detail.includes(` ${alias} USING `))?.detail).toContain(index);
    }
  return statements;
}

describe('reports over partial indexes on SQLite', () => {
  it('lockedDeviceStats reads the locked devices through their partial index however grouped or filtered, not each device row', async () => {
    const totals: number[] = [];
    const statements = await statementsRead(`"status" = 'LOCKED'`, 'd', LOCKED_DEVICES_INDEX, async () => {
      for (const groupBy of [['REGION'], ['COUNTRY'], ['POLICY', 'CAUSE'], ['MODEL', 'PARTNER'], []])
        totals.push((await client.data(LOCKED, { groupBy })).lockedDeviceStats.totals.devices);
      await client.data(LOCKED, { filter: { regionCodes: ['UA'], modelCodes: ['AR-5'] } });
    });
    expect(totals[0]).toBeGreaterThan(0);
    expect(new Set(totals).size).toBe(1);
    expect(statements).toHaveLength(6);
  });

  it('reviewQueueStats reads the open reviews through their partial index however it is grouped, not each review row', async () => {
    const totals: number[] = [];
    const statements = await statementsRead(`"reviewStatus" = 'OPEN'`, 'a', OPEN_REVIEWS_INDEX, async () => {
      for (const groupBy of [['REGION'], ['COUNTRY'], ['POLICY'], ['MODEL', 'PARTNER'], []])
        totals.push((await client.data(QUEUE, { groupBy })).reviewQueueStats.totals.waiting);
    });
    expect(totals[0]).toBeGreaterThan(0);
    expect(new Set(totals).size).toBe(1);
    expect(statements).toHaveLength(5);
  });
});
