/**
 * registerDevices as an existence oracle: what a partner learns about IMEIs another partner holds,
 * and what it costs (src/devices/registration-conflicts.ts). Both databases.
 */
import { AuditEvent } from '../src/audit/audit-event.entity';
import { Role } from '../src/auth/roles';
import { Viewer } from '../src/auth/viewer';
import { rowIdOf } from '../src/common/global-id';
import { readSettings } from '../src/config';
import { Device } from '../src/devices/device.entity';
import { withCheckDigit } from '../src/devices/imei';
import { registry } from '../src/ops/metrics';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { RedisProcess } from './support/redis-process';
import { rowCounts } from './support/row-counts';
import { imeiOf } from './support/imei';

const BUDGET = 5;
let database: TestDatabase;
let admin: GraphQLClient;
const partnerIds = { A: '', B: '' };
/** B's devices: the IMEIs A will try. */
const imei = (serial: number) => imeiOf(serial);
const row = (serial: number, overrides: Record<string, string> = {}) => ({
  imei: imei(serial),
  serialNumber: `SN-${serial}`,
  modelCode: 'AR-5',
  marketRegionCode: 'DE',
  ...overrides,
});
const REGISTER = `mutation ($input: RegisterDevicesInput!) {
  registerDevices(input: $input) { registeredCount userErrors { field code message } }
}`;

let keySerial = 0;
/** A PARTNER key of A, created for real so that the audit trail can name it. */
async function partnerKeyOfA(): Promise<{ viewer: Viewer; keyId: string }> {
  keySerial += 1;
  const created = await admin.data(
    `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } userErrors { message } } }`,
    { input: { name: `partner-a-${keySerial}`, role: 'PARTNER', partnerId: partnerIds.A } },
  );
  const keyId = created.createApiKey.apiKey.id;
  const viewer = {
    keyId: rowIdOf(keyId, 'ApiKey')!,
    name: `partner-a-${keySerial}`,
    role: Role.PARTNER,
    partnerId: rowIdOf(partnerIds.A, 'Partner'),
  };
  return { viewer, keyId };
}

async function conflictCount(reported: 'true' | 'false'): Promise<number> {
  const metric = await registry.getSingleMetric('device_registration_conflicts_total')!.get();
  return metric.values.find((value) => value.labels.reported === reported)?.value ?? 0;
}
async function refusalCount(): Promise<number> {
  const metric = await registry.getSingleMetric('device_registration_budget_refusals_total')!.get();
  return metric.values[0]?.value ?? 0;
}
const conflictEvents = () =>
  database.dataSource.getRepository(AuditEvent).find({ where: { action: 'device.registration-conflict' } });
const budgetLeft = async (viewer: Viewer) =>
  (await database.services.registrationConflicts.spend(`key:${viewer.keyId}`, 0)).remaining;

beforeAll(async () => {
  const { rateLimits } = readSettings({});
  database = await openTestDatabase({
    settings: { rateLimits: { ...rateLimits, registrationConflictsPerDay: BUDGET } },
  });
  admin = await GraphQLClient.create(database);
  for (const name of ['A', 'B'] as const) {
    const created = await admin.data(
      `mutation ($name: String!) { createPartner(input: { name: $name, kind: CARRIER }) { partner { id } } }`,
      { name: `Partner ${name}` },
    );
    partnerIds[name] = created.createPartner.partner.id;
  }
  // B holds 101–120; A holds 1–3.
  const registered = await admin.data(REGISTER, {
    input: { partnerId: partnerIds.B, devices: Array.from({ length: 20 }, (_, index) => row(101 + index)) },
  });
  expect(registered.registerDevices.registeredCount).toBe(20);
  const own = await admin.data(REGISTER, { input: { partnerId: partnerIds.A, devices: [row(1), row(2), row(3)] } });
  expect(own.registerDevices.registeredCount).toBe(3);
});
afterAll(async () => {
  await admin.stop();
  await database.close();
});

describe('a manifest with any other error', () => {
  /** Every other way a manifest fails, each beside two IMEIs of B's. */
  const otherErrors: [string, (partnerA: string) => { partnerId: string; devices: object[] }][] = [
    [
      'a bad checksum',
      (p) => ({
        partnerId: p,
        devices: [row(101), row(102), row(50, { imei: `${imei(50).slice(0, 14)}${(Number(imei(50)[14]) + 1) % 10}` })],
      }),
    ],
    ['a short IMEI', (p) => ({ partnerId: p, devices: [row(101), row(102), row(51, { imei: '12345' })] })],
    ['a duplicate row', (p) => ({ partnerId: p, devices: [row(101), row(102), row(52), row(52)] })],
    ['an unknown model', (p) => ({ partnerId: p, devices: [row(101), row(102), row(53, { modelCode: 'NOPE' })] })],
    [
      'an unknown region',
      (p) => ({ partnerId: p, devices: [row(101), row(102), row(54, { marketRegionCode: 'XX' })] }),
    ],
    [
      'a TAC of another model',
      (p) => ({ partnerId: p, devices: [row(101), row(102), { ...row(55), imei: withCheckDigit('35402117000055') }] }),
    ],
    [
      'an empty serial number',
      (p) => ({ partnerId: p, devices: [row(101), row(102), row(56, { serialNumber: '  ' })] }),
    ],
    ["another partner's ID", () => ({ partnerId: partnerIds.B, devices: [row(101), row(102)] })],
    ['an unknown partner', () => ({ partnerId: 'bm9wZQ', devices: [row(101), row(102)] })],
    ['its own device registered again', (p) => ({ partnerId: p, devices: [row(101), row(102), row(1)] })],
  ];

  it.each(otherErrors)(
    'with %s says nothing about the IMEIs B holds, spends and audits nothing',
    async (_, manifest) => {
      const { viewer } = await partnerKeyOfA();
      const before = { rows: await rowCounts(database.dataSource), reported: await conflictCount('true') };
      const data = await admin.as(viewer).data(REGISTER, { input: manifest(partnerIds.A) });
      const errors = data.registerDevices.userErrors as { field: string[]; code: string; message: string }[];
      expect(errors.length).toBeGreaterThan(0);
      expect(data.registerDevices.registeredCount).toBe(0);
      // Rows 0 and 1 (B's IMEIs) are not mentioned at all.
      expect(errors.filter((error) => ['0', '1'].includes(error.field[2]))).toEqual([]);
      expect(JSON.stringify(errors)).not.toMatch(/another partner/);
      expect(await rowCounts(database.dataSource)).toEqual(before.rows);
      expect(await conflictCount('true')).toBe(before.reported);
      expect(await budgetLeft(viewer)).toBe(BUDGET);
    },
  );
});

describe('a manifest that is otherwise valid', () => {
  it('names each IMEI B holds, audits each with the asking key and counts it; registers nothing', async () => {
    const { viewer, keyId } = await partnerKeyOfA();
    const before = {
      rows: await rowCounts(database.dataSource),
      reported: await conflictCount('true'),
      events: (await conflictEvents()).length,
    };
    const data = await admin.as(viewer).data(REGISTER, {
      input: { partnerId: partnerIds.A, devices: [row(60), row(103), row(61), row(104)] },
    });
    expect(data.registerDevices).toEqual({
      registeredCount: 0,
      userErrors: [
        {
          field: ['input', 'devices', '1', 'imei'],
          code: 'TAKEN',
          message: `imei ${imei(103)} is registered to another partner`,
        },
        {
          field: ['input', 'devices', '3', 'imei'],
          code: 'TAKEN',
          message: `imei ${imei(104)} is registered to another partner`,
        },
      ],
    });
    expect(await conflictCount('true')).toBe(before.reported + 2);
    const events = (await conflictEvents()).slice(before.events);
    const devices = await database.dataSource.getRepository(Device).findBy([{ imei: imei(103) }, { imei: imei(104) }]);
    expect(
      events
        .map((event) => ({ ...event, id: undefined, occurredAt: undefined }))
        .sort((a, b) => a.targetId.localeCompare(b.targetId)),
    ).toEqual(
      devices
        .map((device) => ({
          id: undefined,
          occurredAt: undefined,
          actor: `${viewer.name} (PARTNER)`,
          actorRole: 'PARTNER',
          actorKeyId: keyId,
          action: 'device.registration-conflict',
          targetType: 'Device',
          targetId: device.globalId,
          relatedTargetId: partnerIds.A,
          before: null,
          after: { imei: device.imei, askedForPartnerId: partnerIds.A, reported: true },
          requestId: 'test-request',
        }))
        .sort((a, b) => a.targetId.localeCompare(b.targetId)),
    );
    // Only the audit rows were written.
    expect({ ...(await rowCounts(database.dataSource)), audit_event: before.rows.audit_event }).toEqual(before.rows);
    expect(await budgetLeft(viewer)).toBe(BUDGET - 2);
  });

  it("reports a partner's own devices without spending its budget or auditing a conflict", async () => {
    const { viewer } = await partnerKeyOfA();
    const events = (await conflictEvents()).length;
    const data = await admin.as(viewer).data(REGISTER, {
      input: { partnerId: partnerIds.A, devices: [row(62), row(2), row(3)] },
    });
    expect(data.registerDevices.userErrors).toEqual([
      {
        field: ['input', 'devices', '1', 'imei'],
        code: 'TAKEN',
        message: `imei ${imei(2)} is already registered to this partner`,
      },
      {
        field: ['input', 'devices', '2', 'imei'],
        code: 'TAKEN',
        message: `imei ${imei(3)} is already registered to this partner`,
      },
    ]);
    expect(await budgetLeft(viewer)).toBe(BUDGET);
    expect((await conflictEvents()).length).toBe(events);
    // And it registers new devices as before.
    const fresh = await admin.as(viewer).data(REGISTER, { input: { partnerId: partnerIds.A, devices: [row(63)] } });
    expect(fresh.registerDevices).toEqual({ registeredCount: 1, userErrors: [] });
  });
});

describe('the conflict budget', () => {
  const refusedWith = async (viewer: Viewer, devices: object[]) => {
    const before = await rowCounts(database.dataSource);
    const result = await admin.as(viewer).execute(REGISTER, { input: { partnerId: partnerIds.A, devices } });
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
    const { retryAfterSeconds, resetAt, limit } = result.errors![0].extensions as Record<string, never>;
    expect(retryAfterSeconds).toBeGreaterThan(86_400 - 120);
    expect(retryAfterSeconds).toBeLessThanOrEqual(86_400);
    expect(Date.parse(resetAt)).toBeGreaterThan(Date.now());
    expect(limit).toBe(BUDGET);
    expect(JSON.stringify(result)).not.toMatch(/3529181/);
    expect({ ...(await rowCounts(database.dataSource)), audit_event: before.audit_event }).toEqual(before);
    return result;
  };

  it('reports conflicts up to the budget, then refuses every registration of the key with RATE_LIMITED', async () => {
    const { viewer } = await partnerKeyOfA();
    const refusals = await refusalCount();
    for (const devices of [
      [row(105), row(106)],
      [row(107), row(108), row(109)],
    ]) {
      const data = await admin
        .as(viewer)
        .data(REGISTER, { input: { partnerId: partnerIds.A, devices: [row(70), ...devices] } });
      expect(data.registerDevices.userErrors.map((error: { code: string }) => error.code)).toEqual(
        devices.map(() => 'TAKEN'),
      );
    }
    expect(await budgetLeft(viewer)).toBe(0);
    // A clean manifest, an invalid one, one with its own devices: all refused until the window ends.
    await refusedWith(viewer, [row(71)]);
    await refusedWith(viewer, [row(72, { modelCode: 'NOPE' })]);
    await refusedWith(viewer, [row(1)]);
    expect(await refusalCount()).toBe(refusals + 3);
    // Another key of the same partner has its own budget.
    const { viewer: other } = await partnerKeyOfA();
    const data = await admin.as(other).data(REGISTER, { input: { partnerId: partnerIds.A, devices: [row(73)] } });
    expect(data.registerDevices.registeredCount).toBe(1);
  });

  it('refuses a manifest with more conflicts than are left without naming them, audited as not reported', async () => {
    const { viewer } = await partnerKeyOfA();
    const withheld = await conflictCount('false');
    const events = (await conflictEvents()).length;
    const many = Array.from({ length: BUDGET + 1 }, (_, index) => row(110 + index));
    await refusedWith(viewer, [row(74), ...many]);
    expect(await conflictCount('false')).toBe(withheld + BUDGET + 1);
    const audited = (await conflictEvents()).slice(events);
    expect(audited).toHaveLength(BUDGET + 1);
    expect(audited.every((event) => event.after?.reported === false)).toBe(true);
    // The attempt spent the budget: the key is refused from now on.
    await refusedWith(viewer, [row(75)]);
  });

  it('does not apply to keys that may read every partner’s devices, whose conflicts are still audited', async () => {
    const reported = await conflictCount('true');
    const many = Array.from({ length: BUDGET * 2 }, (_, index) => row(101 + index));
    const asAdmin = admin.as({ keyId: null, name: 'admin-key', role: Role.ADMIN, partnerId: null });
    for (let round = 0; round < 2; round++) {
      const data = await asAdmin.data(REGISTER, { input: { partnerId: partnerIds.A, devices: many } });
      expect(data.registerDevices.userErrors).toHaveLength(BUDGET * 2);
    }
    expect(await conflictCount('true')).toBe(reported + BUDGET * 4);
  });
});

describe('while the conflict budget cannot be counted (REDIS_URL set, Redis unreachable)', () => {
  let redis: RedisProcess;
  let outage: TestDatabase;
  let client: GraphQLClient;
  const ids = { A: '', B: '' };
  let viewerOfA: Viewer;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const { rateLimits } = readSettings({});
    outage = await openTestDatabase({
      settings: { redisUrl: redis.url, rateLimits: { ...rateLimits, registrationConflictsPerDay: BUDGET } },
    });
    client = await GraphQLClient.create(outage);
    for (const name of ['A', 'B'] as const) {
      const created = await client.data(
        `mutation ($name: String!) { createPartner(input: { name: $name, kind: CARRIER }) { partner { id } } }`,
        { name: `Outage partner ${name}` },
      );
      ids[name] = created.createPartner.partner.id;
    }
    await client.data(REGISTER, { input: { partnerId: ids.B, devices: [row(101), row(102)] } });
    const key = await client.data(
      `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }`,
      { input: { name: 'outage-partner-a', role: 'PARTNER', partnerId: ids.A } },
    );
    viewerOfA = {
      keyId: rowIdOf(key.createApiKey.apiKey.id, 'ApiKey')!,
      name: 'outage-partner-a',
      role: Role.PARTNER,
      partnerId: rowIdOf(ids.A, 'Partner'),
    };
    await redis.stop();
    const deadline = Date.now() + 5_000;
    while (outage.services.limiter.store !== 'insurance') {
      if (Date.now() > deadline) throw new Error('the limiter did not notice the outage');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  afterAll(async () => {
    await client.stop();
    await outage.close();
    await redis.stop();
  });

  it('answers a clean manifest and one naming another partner’s IMEI alike: both refused, nothing written', async () => {
    // Counted per instance in memory, each instance and each restart would grant a whole day's
    // budget. Refusing only the manifests that hold a conflict is no better: the refusal itself
    // says the IMEI is another partner's, once per request and never counted (an unbounded oracle).
    const before = await rowCounts(outage.dataSource);
    const withConflict = await client
      .as(viewerOfA)
      .execute(REGISTER, { input: { partnerId: ids.A, devices: [row(80), row(101)] } });
    const clean = await client.as(viewerOfA).execute(REGISTER, { input: { partnerId: ids.A, devices: [row(81)] } });
    for (const refused of [withConflict, clean]) {
      expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
      expect(refused.errors![0].extensions?.retryAfterSeconds).toBeGreaterThan(0);
      expect(JSON.stringify(refused)).not.toMatch(/3529181/);
    }
    // The same answer, word for word (the stack traces the test server adds aside).
    const answer = (result: typeof clean) => ({
      data: result.data,
      errors: result.errors?.map(({ message, path, extensions }) => ({
        message,
        path,
        code: extensions?.code,
        retryAfterSeconds: extensions?.retryAfterSeconds,
      })),
    });
    expect(answer(withConflict)).toEqual(answer(clean));
    // Nothing was looked up, so nothing was learnt about B's device: no conflict to audit.
    expect(await rowCounts(outage.dataSource)).toEqual(before);
  });

  it('lets a key with no budget (ADMIN: it may read every partner’s devices) register meanwhile', async () => {
    const registered = await client.data(REGISTER, { input: { partnerId: ids.A, devices: [row(82)] } });
    expect(registered.registerDevices).toEqual({ registeredCount: 1, userErrors: [] });
  });
});
