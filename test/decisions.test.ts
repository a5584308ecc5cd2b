import { applyWithApproval } from './support/policies';
import { Like } from 'typeorm';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { AuditEvent } from '../src/audit/audit-event.entity';
import { Device } from '../src/devices/device.entity';
import { withCheckDigit } from '../src/devices/imei';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { rowCounts } from './support/row-counts';
import { imeiOf } from './support/imei';
import { decideActivation, previewDecisionDocument } from './support/decisions';

let database: TestDatabase;
let client: GraphQLClient;
const imei = (serial: number) => imeiOf(serial);
const deviceIds: Record<string, string> = {};

/** What these tests read of a decision. */
const DECIDED = `
    decision {
      outcome enforced regionSource reasonCodes lockMessage
      region { code }
      policyVersion { number policy { key } }
      explanation { signals { source regionCode usable finding detail } policies { policyKey applies finding detail policyVersion { number } } }
    }
    attempt { id outcome reviewStatus idempotencyKey device { imei status } }
    userErrors { field message code }
  
`;
const PREVIEW = previewDecisionDocument('outcome enforced reasonCodes region { code } lockMessage');

const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 8 } };
const SIMFEROPOL = { gps: { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 20 } };

const decide = (input: Record<string, unknown>) => decideActivation(client, input, DECIDED);

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
  const partner = await client.data(
    `mutation { createPartner(input: { name: "Gateway Test Partner", kind: CARRIER }) { partner { id } } }`,
  );
  const partnerId = partner.createPartner.partner.id;
  const devices = Array.from({ length: 20 }, (_, index) => ({
    imei: imei(index + 1),
    serialNumber: `SN${index + 1}`,
    modelCode: 'AR-5',
    marketRegionCode: 'DE',
  }));
  const registered = await client.data(
    `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id imei } userErrors { message } } }`,
    { input: { partnerId, devices } },
  );
  for (const device of registered.registerDevices.devices) deviceIds[device.imei] = device.id;
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

describe('decideActivation', () => {
  it('locks a device activated in a restricted territory, with the message in the requested language and the evidence', async () => {
    const result = await decide({
      imei: imei(1),
      locale: 'ru',
      signals: { ...HAVANA, sim: { mcc: '368', mnc: '01' }, ipCountry: 'CU' },
    });
    expect(result.userErrors).toEqual([]);
    expect(result.decision).toMatchObject({
      outcome: 'LOCK',
      enforced: true,
      regionSource: 'GPS',
      region: { code: 'CU' },
      policyVersion: { number: 1, policy: { key: 'export-restricted-territories' } },
    });
    expect(result.decision.lockMessage).toMatch(/^Политика производителя/);
    expect(
      result.decision.explanation.signals.map((signal: any) => [signal.source, signal.regionCode, signal.usable]),
    ).toEqual([
      ['GPS', 'CU', true],
      ['SIM', 'CU', true],
      ['IP', 'CU', true],
    ]);
    expect(result.decision.explanation.policies).toEqual([
      expect.objectContaining({
        policyKey: 'export-restricted-territories',
        applies: true,
        finding: 'APPLIES',
        policyVersion: { number: 1 },
      }),
    ]);
    expect(result.attempt.device).toEqual({ imei: imei(1), status: 'LOCKED' });
    const device = await database.dataSource.getRepository(Device).findOneByOrFail({ imei: imei(1) });
    expect(device.lockedAt).not.toBeNull();
    expect(device.lockReason).toContain('POLICY_APPLIES');
    const [audit] = await database.dataSource.getRepository(AuditEvent).findBy({ action: 'device.lock' });
    expect(audit).toMatchObject({ targetId: deviceIds[imei(1)], before: { status: 'NEW' } });
  });

  it('keeps a locked device locked on later attempts anywhere, and falls back to English', async () => {
    // A German network, not a Berlin fix: a fix seconds after the Havana one would be impossible travel.
    const result = await decide({ imei: imei(1), locale: 'xx', signals: { sim: { mcc: '262', mnc: '01' } } });
    expect(result.decision).toMatchObject({ outcome: 'LOCK', enforced: true, region: { code: 'DE' } });
    expect(result.decision.reasonCodes[0]).toBe('DEVICE_ALREADY_LOCKED');
    expect(result.decision.lockMessage).toMatch(/^The manufacturer's policy/);
  });

  it('reports by policy count what the policy decided at the attempt: a refusal of a locked device is its own line', async () => {
    // imei(1) was locked in Havana, then refused in Berlin because it was locked already.
    const impact = await client.data(
      `{ policyImpact(policyKey: "export-restricted-territories") { region { code } outcome enforced alreadyLocked attempts devices } }`,
    );
    expect(impact.policyImpact).toEqual([
      { region: { code: 'CU' }, outcome: 'LOCK', enforced: true, alreadyLocked: false, attempts: 1, devices: 1 },
      { region: { code: 'DE' }, outcome: 'LOCK', enforced: true, alreadyLocked: true, attempts: 1, devices: 1 },
    ]);
    const stats = await client.data(
      `query ($filter: ActivationStatsFilter!) { activationStats(filter: $filter, groupBy: [POLICY, REGION]) { rows { policy { key } region { code } attempts locks } } }`,
      {
        filter: {
          from: new Date(Date.now() - 3_600_000).toISOString(),
          to: new Date(Date.now() + 60_000).toISOString(),
        },
      },
    );
    // The export policy locked in Cuba only; the refusal in Germany was decided by no policy.
    expect(stats.activationStats.rows).toEqual(
      expect.arrayContaining([
        { policy: { key: 'export-restricted-territories' }, region: { code: 'CU' }, attempts: 1, locks: 1 },
        { policy: null, region: { code: 'DE' }, attempts: 1, locks: 1 },
      ]),
    );
    expect(stats.activationStats.rows).toHaveLength(2);
  });

  it('allows and activates a device elsewhere', async () => {
    const result = await decide({ imei: imei(2), signals: BERLIN });
    expect(result.decision).toMatchObject({ outcome: 'ALLOW', enforced: true, lockMessage: null, policyVersion: null });
    expect(result.attempt.device.status).toBe('ACTIVE');
    const device = await database.dataSource.getRepository(Device).findOneByOrFail({ imei: imei(2) });
    expect(device.activatedAt).not.toBeNull();
  });

  it('resolves Crimea first, whatever a country data set says, and recognises Crimean SIMs', async () => {
    const byGps = await decide({ imei: imei(3), signals: SIMFEROPOL });
    expect(byGps.decision).toMatchObject({ outcome: 'LOCK', region: { code: 'UA-43' } });
    const bySim = await client.data(PREVIEW, { input: { imei: imei(4), signals: { sim: { mcc: '250', mnc: '34' } } } });
    expect(bySim.previewDecision).toMatchObject({ outcome: 'LOCK', region: { code: 'UA-43' } });
  });

  it('puts conflicting evidence in the review queue instead of locking, and a person resolves it', async () => {
    const result = await decide({ imei: imei(5), signals: { ...SIMFEROPOL, sim: { mcc: '262', mnc: '01' } } });
    expect(result.decision).toMatchObject({ outcome: 'REVIEW', enforced: true });
    expect(result.decision.reasonCodes.slice(0, 3)).toEqual(['SIGNALS_DISAGREE', 'GPS:UA-43', 'SIM:DE']);
    expect(result.attempt).toMatchObject({ reviewStatus: 'OPEN', device: { status: 'UNDER_REVIEW' } });

    const queue = await client.data(`{ reviewQueue { totalCount nodes { id device { imei } } } }`);
    expect(queue.reviewQueue.nodes).toContainEqual({ id: result.attempt.id, device: { imei: imei(5) } });

    const resolved = await client.data(
      `mutation ($input: ResolveReviewInput!) { resolveReview(input: $input) { attempt { reviewStatus reviewedBy reviewNote device { status lockedByAttempt { id } } } userErrors { field code } } }`,
      { input: { attemptId: result.attempt.id, resolution: 'LOCK', note: 'Confirmed on site' } },
    );
    expect(resolved.resolveReview.attempt).toEqual({
      reviewStatus: 'LOCKED',
      reviewedBy: 'test',
      reviewNote: 'Confirmed on site',
      device: { status: 'LOCKED', lockedByAttempt: { id: result.attempt.id } },
    });
    const again = await client.data(
      `mutation ($input: ResolveReviewInput!) { resolveReview(input: $input) { userErrors { field code } } }`,
      { input: { attemptId: result.attempt.id, resolution: 'ALLOW', note: 'again' } },
    );
    expect(again.resolveReview.userErrors).toEqual([{ field: ['input', 'attemptId'], code: 'INVALID_STATE' }]);
  });

  it('reviews an activation with no usable signal, and one located only by IP in a restricted country', async () => {
    expect((await decide({ imei: imei(6), signals: {} })).decision).toMatchObject({
      outcome: 'REVIEW',
      reasonCodes: ['NO_USABLE_SIGNAL'],
    });
    const byIp = await decide({ imei: imei(7), signals: { ipCountry: 'IR' } });
    expect(byIp.decision).toMatchObject({ outcome: 'REVIEW', region: { code: 'IR' }, regionSource: 'IP' });
  });

  it('unlocks through an audited path', async () => {
    const UNLOCK = `mutation ($input: UnlockDeviceInput!) { unlockDevice(input: $input) { device { status lockedAt lockReason } userErrors { field code message } } }`;
    const missingReason = await client.data(UNLOCK, { input: { deviceId: deviceIds[imei(1)], reason: ' ' } });
    expect(missingReason.unlockDevice.userErrors).toEqual([
      expect.objectContaining({ field: ['input', 'reason'], code: 'INVALID' }),
    ]);
    const unlocked = await client.data(UNLOCK, {
      input: { deviceId: deviceIds[imei(1)], reason: 'Traveller back home, verified' },
    });
    expect(unlocked.unlockDevice.device).toEqual({ status: 'ACTIVE', lockedAt: null, lockReason: null });
    const notLocked = await client.data(UNLOCK, { input: { deviceId: deviceIds[imei(1)], reason: 'again' } });
    expect(notLocked.unlockDevice.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_STATE' })]);
    const [audit] = await database.dataSource.getRepository(AuditEvent).findBy({ action: 'device.unlock' });
    expect(audit.after).toMatchObject({ status: 'ACTIVE', reason: 'Traveller back home, verified' });
  });
});

describe('idempotency', () => {
  it('answers a retry of the same request with the same decision and writes nothing new', async () => {
    const input = { imei: imei(8), idempotencyKey: 'gw-8-1', signals: HAVANA, occurredAt: '2026-01-05T10:00:00.000Z' };
    const first = await decide(input);
    const before = await rowCounts(database.dataSource);
    // The locale only chooses the language of the answer: the same request.
    const retry = await decide({ ...input, locale: 'ru', signals: { gps: { ...HAVANA.gps } } });
    expect(await rowCounts(database.dataSource)).toEqual(before);
    expect(retry.decision.outcome).toEqual(first.decision.outcome);
    expect(retry.decision.reasonCodes).toEqual(first.decision.reasonCodes);
    expect(retry.attempt.id).toBe(first.attempt.id);
    expect(retry.userErrors).toEqual([]);
  });

  it('refuses the same key with another request (IDEMPOTENCY_CONFLICT), whatever part differs, and writes nothing', async () => {
    const input = { imei: imei(8), idempotencyKey: 'gw-8-1', signals: HAVANA, occurredAt: '2026-01-05T10:00:00.000Z' };
    const before = await rowCounts(database.dataSource);
    const others = [
      { ...input, signals: SIMFEROPOL },
      { ...input, signals: BERLIN },
      { ...input, signals: { gps: { ...HAVANA.gps, accuracyMeters: 13 } } },
      { ...input, signals: { ...HAVANA, sim: { mcc: '368', mnc: '01' } } },
      { ...input, signals: { ...HAVANA, ipCountry: 'CU' } },
      // The evidence signals added later are part of the request too (a Crimean serving cell must not
      // come back as the first request's decision).
      { ...input, signals: { ...HAVANA, cell: { mcc: '250', mnc: '32' } } },
      { ...input, signals: { gps: { ...HAVANA.gps, mock: true } } },
      { ...input, signals: { gps: { ...HAVANA.gps, fixedAt: '2026-01-05T09:59:00.000Z' } } },
      { ...input, occurredAt: '2026-01-05T10:00:01.000Z' },
      { imei: imei(8), idempotencyKey: 'gw-8-1', signals: HAVANA },
    ];
    for (const other of others) {
      const refused = await decide(other);
      expect([other, refused.decision, refused.attempt, refused.userErrors]).toEqual([
        other,
        null,
        null,
        [
          {
            field: ['input', 'idempotencyKey'],
            code: 'IDEMPOTENCY_CONFLICT',
            message:
              'this idempotencyKey was used with a different request (occurredAt or signals); use a new key for a new request',
          },
        ],
      ]);
    }
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it('under concurrent retries of two different requests with one key, the first recorded wins and the other is refused', async () => {
    const inCrimea = {
      imei: imei(7),
      idempotencyKey: 'gw-7-race',
      signals: SIMFEROPOL,
      occurredAt: '2026-01-06T10:00:00.000Z',
    };
    const inBerlin = { ...inCrimea, signals: BERLIN };
    const inputs = [inCrimea, inBerlin, inCrimea, inBerlin, inCrimea, inBerlin, inCrimea, inBerlin];
    const results = await Promise.all(inputs.map((input) => decide(input)));
    const rows = await database.dataSource.getRepository(ActivationAttempt).findBy({ idempotencyKey: 'gw-7-race' });
    expect(rows).toHaveLength(1);
    const winner = rows[0].outcome === 'LOCK' ? inCrimea : inBerlin;
    for (const [index, result] of results.entries()) {
      if (inputs[index] === winner) {
        expect(result.userErrors).toEqual([]);
        expect(result.attempt.id).toBe(rows[0].globalId);
        expect(result.decision.outcome).toBe(rows[0].outcome);
      } else {
        expect(result.attempt).toBeNull();
        expect(result.userErrors.map((error: { code: string }) => error.code)).toEqual(['IDEMPOTENCY_CONFLICT']);
      }
    }
  });

  it('holds under concurrent retries', async () => {
    const input = { imei: imei(9), idempotencyKey: 'gw-9-1', signals: HAVANA };
    const results = await Promise.all(Array.from({ length: 6 }, () => decide(input)));
    expect(new Set(results.map((result) => result.attempt.id)).size).toBe(1);
    expect(results.every((result) => result.decision.outcome === 'LOCK')).toBe(true);
    expect(await database.dataSource.getRepository(ActivationAttempt).countBy({ idempotencyKey: 'gw-9-1' })).toBe(1);
  });

  it('answers each of many concurrent decisions with its own committed attempt (batched commits), a repeated key with the original', async () => {
    const partner = await client.data(
      `mutation { createPartner(input: { name: "Batch Partner", kind: CARRIER }) { partner { id } } }`,
    );
    await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { userErrors { message } } }`,
      {
        input: {
          partnerId: partner.createPartner.partner.id,
          devices: Array.from({ length: 9 }, (_, index) => ({
            imei: imei(112 + index),
            serialNumber: `B${index}`,
            modelCode: 'AR-5',
            marketRegionCode: 'DE',
          })),
        },
      },
    );
    // Active devices allowed again change nothing but the attempt: the batched path on both databases.
    for (let serial = 112; serial <= 120; serial += 1) await decide({ imei: imei(serial), signals: BERLIN });
    const before = await database.dataSource.getRepository(ActivationAttempt).count();
    const inputs = Array.from({ length: 27 }, (_, index) => ({
      // The last three repeat the first: same device, same key.
      imei: imei(112 + (index < 24 ? index % 9 : 0)),
      idempotencyKey: index < 24 ? `batch-${index}` : 'batch-0',
      signals: BERLIN,
    }));
    const results = await Promise.all(inputs.map((input) => decide(input)));
    expect(results.filter((result) => result.userErrors.length > 0 || result.decision.outcome !== 'ALLOW')).toEqual([]);
    const ids = results.map((result) => result.attempt.id);
    expect(new Set(ids).size).toBe(24);
    expect(ids.slice(24)).toEqual([ids[0], ids[0], ids[0]]);
    const rows = await database.dataSource
      .getRepository(ActivationAttempt)
      .find({ where: { idempotencyKey: Like('batch-%') } });
    expect(rows).toHaveLength(24);
    expect(await database.dataSource.getRepository(ActivationAttempt).count()).toBe(before + 24);
    for (const [index, result] of results.entries()) {
      const row = rows.find((candidate) => candidate.globalId === result.attempt.id)!;
      expect(row.idempotencyKey).toBe(inputs[index].idempotencyKey);
      expect(result.attempt.device.imei).toBe(inputs[index].imei);
    }
  });

  it('refuses a key already used for another device', async () => {
    const result = await decide({ imei: imei(10), idempotencyKey: 'gw-9-1', signals: BERLIN });
    expect(result.userErrors).toEqual([
      { field: ['input', 'idempotencyKey'], code: 'TAKEN', message: 'this idempotencyKey was used for another device' },
    ]);
  });
});

describe('bad input is a user error and writes nothing', () => {
  it.each([
    [
      { imei: imei(11).slice(0, 14) + ((Number(imei(11)[14]) + 1) % 10), signals: BERLIN },
      ['input', 'imei'],
      'INVALID_CHECKSUM',
    ],
    [{ imei: '000000000000000', signals: BERLIN }, ['input', 'imei'], 'INVALID'],
    [{ imei: withCheckDigit('49015420323751'), signals: BERLIN }, ['input', 'imei'], 'NOT_FOUND'],
    [
      { imei: imei(11), signals: { gps: { latitude: 91, longitude: 0 } } },
      ['input', 'signals', 'gps', 'latitude'],
      'INVALID',
    ],
    [
      { imei: imei(11), signals: { gps: { latitude: 0, longitude: -181 } } },
      ['input', 'signals', 'gps', 'longitude'],
      'INVALID',
    ],
    [
      { imei: imei(11), signals: { gps: { latitude: 0, longitude: 0, accuracyMeters: -1 } } },
      ['input', 'signals', 'gps', 'accuracyMeters'],
      'INVALID',
    ],
    [{ imei: imei(11), signals: { sim: { mcc: '25' } } }, ['input', 'signals', 'sim', 'mcc'], 'INVALID'],
    [{ imei: imei(11), signals: { sim: { mcc: '250', mnc: 'x1' } } }, ['input', 'signals', 'sim', 'mnc'], 'INVALID'],
    [{ imei: imei(11), signals: { ipCountry: 'IRN' } }, ['input', 'signals', 'ipCountry'], 'INVALID'],
    [
      { imei: imei(11), signals: BERLIN, occurredAt: new Date(Date.now() + 3_600_000).toISOString() },
      ['input', 'occurredAt'],
      'INVALID',
    ],
    // The year 1, or merely three years back: no gateway holds an attempt that long (and on
    // PostgreSQL each month sent would have become a partition).
    [{ imei: imei(11), signals: BERLIN, occurredAt: '0001-01-01T00:00:00Z' }, ['input', 'occurredAt'], 'INVALID'],
    [
      { imei: imei(11), signals: BERLIN, occurredAt: new Date(Date.now() - 3 * 365 * 86_400_000).toISOString() },
      ['input', 'occurredAt'],
      'INVALID',
    ],
    [{ imei: imei(11), signals: BERLIN, idempotencyKey: '' }, ['input', 'idempotencyKey'], 'INVALID'],
  ])('%p', async (input, field, code) => {
    const before = await rowCounts(database.dataSource);
    const result = await decide(input);
    expect(result.decision).toBeNull();
    expect(result.userErrors).toContainEqual(expect.objectContaining({ field, code }));
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it('previewDecision answers bad input with a top-level error naming the field', async () => {
    const result = await client.execute(PREVIEW, {
      input: { imei: imei(11), signals: { gps: { latitude: 100, longitude: 0 } } },
    });
    expect(result.errors).toMatchObject([
      { extensions: { code: 'BAD_USER_INPUT', field: 'input.signals.gps.latitude' } },
    ]);
  });
});

describe('rules in force', () => {
  it('previewDecision decides like decideActivation and writes nothing', async () => {
    const before = await rowCounts(database.dataSource);
    const preview = await client.data(PREVIEW, { input: { imei: imei(12), locale: 'es', signals: HAVANA } });
    expect(preview.previewDecision).toMatchObject({ outcome: 'LOCK', enforced: true, region: { code: 'CU' } });
    expect(preview.previewDecision.lockMessage).toMatch(/^La política del fabricante/);
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it('applies a new policy only to attempts that occurred after it became effective, however late they arrive', async () => {
    const effectiveFrom = '2026-10-01T00:00:00.000Z';
    const created = await client.data(
      `mutation ($input: CreatePolicyInput!) { createPolicy(input: $input) { policy { id } userErrors { message } } }`,
      {
        input: {
          key: 'review-france',
          title: 'Review France',
          description: 'test',
          legalBasis: 'test',
          action: 'REVIEW',
          mode: 'ENFORCE',
          regionCodes: ['FR'],
          effectiveFrom,
          lockMessage: 'Under review',
        },
      },
    );
    await applyWithApproval(client, 'activatePolicy', { id: created.createPolicy.policy.id });
    const paris = { gps: { latitude: 48.8566, longitude: 2.3522, accuracyMeters: 5 } };
    const before = await client.data(PREVIEW, {
      input: { imei: imei(13), occurredAt: '2026-09-30T23:59:59Z', signals: paris },
    });
    expect(before.previewDecision.outcome).toBe('ALLOW');
    const after = await client.data(PREVIEW, { input: { imei: imei(13), occurredAt: effectiveFrom, signals: paris } });
    expect(after.previewDecision.outcome).toBe('REVIEW');
  });

  it('in MONITOR mode records what would have happened and locks nothing', async () => {
    const policy = await client.data(`{ policy(key: "export-restricted-territories") { id } }`);
    const rebuildsBefore = database.services.evaluator.rebuilds;
    await client.data(
      `mutation ($id: ID!) { updatePolicy(input: { id: $id, mode: MONITOR }) { userErrors { message } } }`,
      {
        id: policy.policy.id,
      },
    );
    const result = await decide({ imei: imei(14), signals: HAVANA });
    expect(database.services.evaluator.rebuilds).toBe(rebuildsBefore + 1);
    expect(result.decision).toMatchObject({
      outcome: 'LOCK',
      enforced: false,
      lockMessage: null,
      policyVersion: { number: 2 },
    });
    expect(result.decision.reasonCodes[0]).toBe('MONITOR_ONLY');
    expect(result.attempt.device.status).toBe('ACTIVE');
    await applyWithApproval(client, 'updatePolicy', { id: policy.policy.id, mode: 'ENFORCE' });
    expect((await decide({ imei: imei(15), signals: HAVANA })).decision).toMatchObject({
      outcome: 'LOCK',
      enforced: true,
      policyVersion: { number: 3 },
    });
  });

  it('allows an exempted device until the exemption is revoked', async () => {
    const CREATE = `mutation ($input: CreateExemptionInput!) { createExemption(input: $input) { exemption { id } userErrors { field code } } }`;
    const bad = await client.data(CREATE, { input: { policyKey: 'export-restricted-territories', reason: 'x' } });
    expect(bad.createExemption.userErrors).toEqual([{ field: ['input', 'deviceId'], code: 'INVALID' }]);
    const created = await client.data(CREATE, {
      input: {
        policyKey: 'export-restricted-territories',
        deviceId: deviceIds[imei(16)],
        reason: 'Diplomatic mission device',
      },
    });
    const exemptionId = created.createExemption.exemption.id;
    const exempt = await client.data(PREVIEW, { input: { imei: imei(16), signals: HAVANA } });
    expect(exempt.previewDecision.outcome).toBe('ALLOW');
    // The reasons name the exemption by the ID the API gave it and the policy it set aside.
    expect(exempt.previewDecision.reasonCodes).toEqual([
      'EXEMPT',
      'EXEMPT_FROM:export-restricted-territories',
      `EXEMPTION:${exemptionId}`,
      'REGION:CU',
      'SOURCE:GPS',
    ]);
    expect((await client.data(`query ($id: ID!) { node(id: $id) { id } }`, { id: exemptionId })).node).toEqual({
      id: exemptionId,
    });
    await client.data(
      `mutation ($id: ID!) { revokeExemption(input: { id: $id, reason: "Mission ended" }) { userErrors { code } } }`,
      {
        id: exemptionId,
      },
    );
    expect((await client.data(PREVIEW, { input: { imei: imei(16), signals: HAVANA } })).previewDecision.outcome).toBe(
      'LOCK',
    );
  });

  it('knows a device model created after the rules were compiled, and applies product scopes to it', async () => {
    const model = await client.data(
      `mutation { createDeviceModel(input: { code: "SCOPE-1", marketingName: "Scope One", tacPrefixes: ["35777701"] }) { deviceModel { code } userErrors { message } } }`,
    );
    expect(model.createDeviceModel.userErrors).toEqual([]);
    const partner = await client.data(`{ partners(first: 1) { nodes { id } } }`);
    const scopedImei = withCheckDigit('35777701000001');
    await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { userErrors { message } } }`,
      {
        input: {
          partnerId: partner.partners.nodes[0].id,
          devices: [{ imei: scopedImei, serialNumber: 'SC1', modelCode: 'SCOPE-1', marketRegionCode: 'GB' }],
        },
      },
    );
    const created = await client.data(
      `mutation ($input: CreatePolicyInput!) { createPolicy(input: $input) { policy { id } userErrors { message } } }`,
      {
        input: {
          key: 'scope-one-in-germany',
          title: 'Scope One may not be sold in Germany',
          description: 'test',
          legalBasis: 'test',
          action: 'LOCK',
          mode: 'ENFORCE',
          regionCodes: ['DE'],
          productScope: ['SCOPE-1'],
          effectiveFrom: '2026-01-01T00:00:00Z',
          lockMessage: 'Not for this market',
        },
      },
    );
    await applyWithApproval(client, 'activatePolicy', { id: created.createPolicy.policy.id });
    const scoped = await client.data(PREVIEW, { input: { imei: scopedImei, signals: BERLIN } });
    expect(scoped.previewDecision).toMatchObject({ outcome: 'LOCK', lockMessage: 'Not for this market' });
    const other = await client.data(PREVIEW, { input: { imei: imei(17), signals: BERLIN } });
    expect(other.previewDecision.outcome).toBe('ALLOW');
  });

  it('rejects bad exemptions naming the field, writing nothing', async () => {
    const CREATE = `mutation ($input: CreateExemptionInput!) { createExemption(input: $input) { exemption { id } userErrors { field code } } }`;
    const cases: [Record<string, unknown>, string[], string][] = [
      [
        { policyKey: 'no-such-policy', deviceId: deviceIds[imei(18)], reason: 'x' },
        ['input', 'policyKey'],
        'NOT_FOUND',
      ],
      [
        {
          policyKey: 'export-restricted-territories',
          deviceId: deviceIds[imei(18)],
          partnerId: deviceIds[imei(18)],
          reason: 'x',
        },
        ['input', 'deviceId'],
        'INVALID',
      ],
      [
        { policyKey: 'export-restricted-territories', deviceId: 'bm9wZQ', reason: 'x' },
        ['input', 'deviceId'],
        'NOT_FOUND',
      ],
      [
        {
          policyKey: 'export-restricted-territories',
          deviceId: deviceIds[imei(18)],
          reason: 'x',
          expiresAt: '2020-01-01T00:00:00Z',
        },
        ['input', 'expiresAt'],
        'INVALID',
      ],
      [
        { policyKey: 'export-restricted-territories', deviceId: deviceIds[imei(18)], reason: '' },
        ['input', 'reason'],
        'INVALID',
      ],
    ];
    for (const [input, field, code] of cases) {
      const before = await rowCounts(database.dataSource);
      const result = await client.data(CREATE, { input });
      expect(result.createExemption.userErrors).toContainEqual({ field, code });
      expect(await rowCounts(database.dataSource)).toEqual(before);
    }
    const REVOKE = `mutation ($id: ID!) { revokeExemption(input: { id: $id, reason: "done" }) { userErrors { field code } } }`;
    expect((await client.data(REVOKE, { id: 'bm9wZQ' })).revokeExemption.userErrors).toEqual([
      { field: ['input', 'id'], code: 'NOT_FOUND' },
    ]);
    const created = await client.data(CREATE, {
      input: {
        policyKey: 'export-restricted-territories',
        partnerId: (await client.data('{ partners(first: 1) { nodes { id } } }')).partners.nodes[0].id,
        reason: 'Trial',
      },
    });
    const id = created.createExemption.exemption.id;
    expect((await client.data(REVOKE, { id })).revokeExemption.userErrors).toEqual([]);
    expect((await client.data(REVOKE, { id })).revokeExemption.userErrors).toEqual([
      { field: ['input', 'id'], code: 'INVALID_STATE' },
    ]);
  });

  it('lets a reviewer allow a device under review', async () => {
    const review = await decide({ imei: imei(19), signals: {} });
    expect(review.attempt).toMatchObject({ reviewStatus: 'OPEN', device: { status: 'UNDER_REVIEW' } });
    const RESOLVE = `mutation ($input: ResolveReviewInput!) { resolveReview(input: $input) { attempt { reviewStatus device { status activatedAt } } userErrors { field code } } }`;
    const invalid = await client.data(RESOLVE, {
      input: { attemptId: review.attempt.id, resolution: 'REVIEW', note: 'hm' },
    });
    expect(invalid.resolveReview.userErrors).toEqual([{ field: ['input', 'resolution'], code: 'INVALID' }]);
    // `outcome` (ALLOW or LOCK, no REVIEW) replaces the deprecated `resolution`: one of them, agreeing when both.
    const neither = await client.data(RESOLVE, { input: { attemptId: review.attempt.id, note: 'hm' } });
    expect(neither.resolveReview.userErrors).toEqual([{ field: ['input', 'outcome'], code: 'REQUIRED' }]);
    const contradicting = await client.data(RESOLVE, {
      input: { attemptId: review.attempt.id, outcome: 'ALLOW', resolution: 'LOCK', note: 'hm' },
    });
    expect(contradicting.resolveReview.userErrors).toEqual([{ field: ['input', 'resolution'], code: 'INVALID' }]);
    const allowed = await client.data(RESOLVE, {
      input: { attemptId: review.attempt.id, outcome: 'ALLOW', note: 'Called the owner' },
    });
    expect(allowed.resolveReview.attempt.reviewStatus).toBe('ALLOWED');
    expect(allowed.resolveReview.attempt.device.status).toBe('ACTIVE');
    expect(allowed.resolveReview.attempt.device.activatedAt).not.toBeNull();
    const audit = await client.data(
      `query ($id: ID!) { auditEvents(filter: { targetId: $id }) { nodes { action actor after } } }`,
      {
        id: review.attempt.id,
      },
    );
    expect(audit.auditEvents.nodes).toEqual([
      {
        action: 'review.resolve',
        actor: 'test',
        after: { reviewStatus: 'ALLOWED', note: 'Called the owner', deviceStatus: 'ACTIVE' },
      },
    ]);
  });
});
