/** Every mutation that succeeds leaves an audit event naming the caller's key and role and the request. */
import { createHash } from 'node:crypto';
import { AuditEvent } from '../src/audit/audit-event.entity';
import { Role } from '../src/auth/roles';
import { encodeGlobalId } from '../src/common/global-id';
import { printAppSchema } from '../src/schema';
import { WebhookDelivery } from '../src/webhooks/webhook-delivery.entity';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { imeiOf } from './support/imei';
import { decideActivationDocument } from './support/decisions';

let database: TestDatabase;
let client: GraphQLClient;
const imei = (serial: number) => imeiOf(serial);
const KEY_ROW_ID = 42;
const audited = new Set<string>();

beforeAll(async () => {
  database = await openTestDatabase();
  client = (await GraphQLClient.create(database)).as({
    keyId: KEY_ROW_ID,
    name: 'ops',
    role: Role.ADMIN,
    partnerId: null,
  });
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

/** A second policy author: change requests are approved or rejected by someone besides their author. */
const SECOND = { keyId: KEY_ROW_ID + 1, name: 'second', role: Role.POLICY_AUTHOR, partnerId: null };

/** Runs a mutation that must succeed and returns its payload; checks the audit events it wrote. */
async function mutate(
  mutation: string,
  document: string,
  variables: Record<string, unknown>,
  actions: string[],
  caller: { keyId: number; name: string; role: Role } = { keyId: KEY_ROW_ID, name: 'ops', role: Role.ADMIN },
) {
  const before = await database.dataSource.getRepository(AuditEvent).count();
  const data = await (caller.keyId === KEY_ROW_ID ? client : client.as({ ...caller, partnerId: null })).data(
    document,
    variables,
  );
  const payload = data[mutation];
  expect(payload.userErrors).toEqual([]);
  const events = await database.dataSource.getRepository(AuditEvent).find({ order: { id: 'ASC' }, skip: before });
  expect(events.map((event) => event.action)).toEqual(actions);
  for (const event of events) {
    expect(event).toMatchObject({
      actor: `${caller.name} (${caller.role})`,
      actorRole: caller.role,
      actorKeyId: encodeGlobalId('ApiKey', caller.keyId),
      requestId: 'test-request',
    });
    expect(event.after).not.toBeNull();
  }
  audited.add(mutation);
  return payload;
}

/** A fixture made on first use, by whichever test needs it first: each test can run alone. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

const DECIDE = decideActivationDocument('attempt { id } userErrors { message }');
const CRIMEA = { latitude: 44.9521, longitude: 34.1024 };

const partnerId = once(async () => {
  const partner = await mutate(
    'createPartner',
    `mutation { createPartner(input: { name: "Audit Partner", kind: CARRIER }) { partner { id } userErrors { message } } }`,
    {},
    ['partner.create'],
  );
  return partner.partner.id as string;
});

/** Two AR-5 devices of the partner: imei(1) is locked by a decision, imei(2) held for review. */
const devices = once(async () => {
  const registered = await mutate(
    'registerDevices',
    `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id } userErrors { message } } }`,
    {
      input: {
        partnerId: await partnerId(),
        devices: [1, 2].map((serial) => ({
          imei: imei(serial),
          serialNumber: `A${serial}`,
          modelCode: 'AR-5',
          marketRegionCode: 'DE',
        })),
      },
    },
    ['device.register'],
  );
  return registered.devices as { id: string }[];
});

/** imei(1) activated in Crimea: locked by the export policy, and a partner event for its webhooks. */
const lockedDevice = once(async () => {
  const [device] = await devices();
  await mutate('decideActivation', DECIDE, { input: { imei: imei(1), signals: { gps: CRIMEA } } }, ['device.lock']);
  return device;
});

describe('every mutation that succeeds leaves its audit event', () => {
  it('partners and device models', async () => {
    await mutate(
      'updatePartner',
      `mutation ($id: ID!) { updatePartner(input: { id: $id, contactEmail: "c@example.com" }) { partner { id } userErrors { message } } }`,
      { id: await partnerId() },
      ['partner.update'],
    );
    const model = await mutate(
      'createDeviceModel',
      `mutation { createDeviceModel(input: { code: "AU-1", marketingName: "Audit One", tacPrefixes: ["35999911"] }) { deviceModel { id } userErrors { message } } }`,
      {},
      ['deviceModel.create'],
    );
    await mutate(
      'updateDeviceModel',
      `mutation ($id: ID!) { updateDeviceModel(input: { id: $id, marketingName: "Audit One Plus" }) { deviceModel { id } userErrors { message } } }`,
      { id: model.deviceModel.id },
      ['deviceModel.update'],
    );
  });

  it('policies, and their change requests rejected, withdrawn and approved', async () => {
    const policy = await mutate(
      'createPolicy',
      `mutation { createPolicy(input: { key: "audit-policy", title: "Audit", description: "d", legalBasis: "l", action: REVIEW, mode: MONITOR,
        effectiveFrom: "2026-01-01T00:00:00Z", regionCodes: ["IR"], lockMessage: "m" }) { policy { id } userErrors { message } } }`,
      {},
      ['policy.create'],
    );
    const policyId = policy.policy.id;
    await mutate(
      'updatePolicy',
      `mutation ($id: ID!) { updatePolicy(input: { id: $id, title: "Audit 2" }) { policy { id } userErrors { message } } }`,
      { id: policyId },
      ['policy.update'],
    );
    await mutate(
      'activatePolicy',
      `mutation ($id: ID!) { activatePolicy(input: { id: $id }) { policy { id } userErrors { message } } }`,
      { id: policyId },
      ['policy.activate'],
    );
    const ENFORCE = `mutation ($id: ID!) { updatePolicy(input: { id: $id, mode: ENFORCE, note: "now for real" }) { changeRequest { id } userErrors { message } } }`;
    const rejected = await mutate('updatePolicy', ENFORCE, { id: policyId }, ['policy.change.request']);
    await mutate(
      'rejectPolicyChange',
      `mutation ($id: ID!) { rejectPolicyChange(input: { id: $id, comment: "not yet" }) { changeRequest { id } userErrors { message } } }`,
      { id: rejected.changeRequest.id },
      ['policy.change.reject'],
      SECOND,
    );
    const withdrawn = await mutate('updatePolicy', ENFORCE, { id: policyId }, ['policy.change.request']);
    await mutate(
      'withdrawPolicyChange',
      `mutation ($id: ID!) { withdrawPolicyChange(input: { id: $id, comment: "wrong" }) { changeRequest { id } userErrors { message } } }`,
      { id: withdrawn.changeRequest.id },
      ['policy.change.withdraw'],
    );
    const approved = await mutate('updatePolicy', ENFORCE, { id: policyId }, ['policy.change.request']);
    await mutate(
      'approvePolicyChange',
      `mutation ($id: ID!) { approvePolicyChange(input: { id: $id }) { changeRequest { id } userErrors { message } } }`,
      { id: approved.changeRequest.id },
      ['policy.update', 'policy.change.approve'],
      SECOND,
    );
    // The trail finds the approval by the change request's ID as well as by the policy's.
    const TRAIL = `query ($id: ID!) { auditEvents(first: 10, filter: { targetId: $id }) { nodes { action targetType targetId relatedTargetId } } }`;
    const byRequest = await client.data(TRAIL, { id: approved.changeRequest.id });
    expect(byRequest.auditEvents.nodes).toEqual([
      {
        action: 'policy.change.approve',
        targetType: 'Policy',
        targetId: policyId,
        relatedTargetId: approved.changeRequest.id,
      },
      {
        action: 'policy.change.request',
        targetType: 'Policy',
        targetId: policyId,
        relatedTargetId: approved.changeRequest.id,
      },
    ]);
    const byPolicy = await client.data(TRAIL, { id: policyId });
    expect(byPolicy.auditEvents.nodes[0]).toMatchObject({
      action: 'policy.change.approve',
      relatedTargetId: approved.changeRequest.id,
    });
    await mutate(
      'retirePolicy',
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "done" }) { policy { id } userErrors { message } } }`,
      { id: policyId },
      ['policy.retire'],
    );
  });

  it('exemptions granted and revoked', async () => {
    const exemption = await mutate(
      'createExemption',
      `mutation ($id: ID!) { createExemption(input: { policyKey: "export-restricted-territories", deviceId: $id, reason: "r" }) { exemption { id } userErrors { message } } }`,
      { id: (await devices())[1].id },
      ['exemption.create'],
    );
    await mutate(
      'revokeExemption',
      `mutation ($id: ID!) { revokeExemption(input: { id: $id, reason: "r" }) { exemption { id } userErrors { message } } }`,
      { id: exemption.exemption.id },
      ['exemption.revoke'],
    );
  });

  it('a sweep started, paused, resumed and cancelled; its batches write no events of their own', async () => {
    // A sweep with devices to examine but, the partner being exempt, none to change: its batches
    // write no audit events of their own while it is steered.
    const partner = await partnerId();
    await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { userErrors { message } } }`,
      {
        input: {
          partnerId: partner,
          devices: [3, 4, 5].map((serial) => ({
            imei: imei(serial),
            serialNumber: `A${serial}`,
            modelCode: 'AR-5',
            marketRegionCode: 'DE',
          })),
        },
      },
    );
    for (const serial of [3, 4, 5])
      await client.data(DECIDE, {
        input: { imei: imei(serial), signals: { gps: { latitude: 59.9139, longitude: 10.7522 } } },
      });
    const norway = await client.data(
      `mutation { createPolicy(input: { key: "audit-sweep", title: "Norway", description: "d", legalBasis: "l", action: LOCK, mode: ENFORCE,
        effectiveFrom: "2026-01-01T00:00:00Z", regionCodes: ["NO"], lockMessage: "m" }) { policy { id } } }`,
    );
    const norwayRequest = await client.data(
      `mutation ($id: ID!) { activatePolicy(input: { id: $id }) { changeRequest { id } } }`,
      { id: norway.createPolicy.policy.id },
    );
    await client
      .as({ ...SECOND, partnerId: null })
      .data(`mutation ($id: ID!) { approvePolicyChange(input: { id: $id }) { userErrors { message } } }`, {
        id: norwayRequest.activatePolicy.changeRequest.id,
      });
    await client.data(
      `mutation ($id: ID!) { createExemption(input: { policyKey: "audit-sweep", partnerId: $id, reason: "r" }) { userErrors { message } } }`,
      { id: partner },
    );
    database.settings.sweeps = { batchSize: 1, leaseMs: 30_000, batchPauseMs: 2_000 };
    const sweep = await mutate(
      'startSweep',
      `mutation { startSweep(input: { policyKey: "audit-sweep", action: LOCK_ACTIVE_DEVICES, dryRun: false }) { sweep { id } userErrors { message } } }`,
      {},
      ['sweep.start'],
    );
    for (const [mutation, action] of [
      ['pauseSweep', 'sweep.pause'],
      ['resumeSweep', 'sweep.resume'],
      ['cancelSweep', 'sweep.cancel'],
    ]) {
      await mutate(
        mutation,
        `mutation ($id: ID!) { ${mutation}(input: { id: $id }) { sweep { id } userErrors { message } } }`,
        { id: sweep.sweep.id },
        [action],
      );
    }
    await database.services.sweeps.idle();
  });

  it("a device's status changes: locked by a decision, unlocked, held for review and allowed", async () => {
    const locked = await lockedDevice();
    await mutate(
      'unlockDevice',
      `mutation ($id: ID!) { unlockDevice(input: { deviceId: $id, reason: "verified traveller" }) { device { id } userErrors { message } } }`,
      { id: locked.id },
      ['device.unlock'],
    );
    await devices();
    const review = await mutate(
      'decideActivation',
      DECIDE,
      { input: { imei: imei(2), signals: { gps: CRIMEA, sim: { mcc: '262', mnc: '01' } } } },
      ['device.hold'],
    );
    await mutate(
      'resolveReview',
      `mutation ($id: ID!) { resolveReview(input: { attemptId: $id, resolution: ALLOW, note: "checked" }) { attempt { id } userErrors { message } } }`,
      { id: review.attempt.id },
      ['device.activate', 'review.resolve'],
    );
  });

  it("a partner's webhook endpoint registered (its secret kept out of the trail), a delivery sent again, the endpoint disabled", async () => {
    // A delivery of the lock, sent again.
    await lockedDevice();
    database.settings.webhooks.allowPrivateAddresses = true;
    const endpoint = await mutate(
      'createWebhookEndpoint',
      `mutation ($partnerId: ID!) { createWebhookEndpoint(input: { partnerId: $partnerId, url: "https://127.0.0.1:9/hooks", eventTypes: [DEVICE_LOCKED] }) { endpoint { id } secret userErrors { message } } }`,
      { partnerId: await partnerId() },
      ['webhookEndpoint.create'],
    );
    const [created] = await database.dataSource
      .getRepository(AuditEvent)
      .find({ where: { action: 'webhookEndpoint.create' } });
    expect(JSON.stringify(created)).not.toContain(endpoint.secret);
    const dispatcher = database.services.webhooks;
    await dispatcher.fanOut();
    const [delivery] = await database.dataSource.getRepository(WebhookDelivery).find();
    await mutate(
      'redeliverWebhook',
      `mutation ($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) { delivery { id } userErrors { message } } }`,
      { id: delivery.globalId },
      ['webhookDelivery.redeliver'],
    );
    await mutate(
      'disableWebhookEndpoint',
      `mutation ($id: ID!) { disableWebhookEndpoint(input: { id: $id }) { endpoint { id } userErrors { message } } }`,
      { id: endpoint.endpoint.id },
      ['webhookEndpoint.disable'],
    );
    await dispatcher.stop();
  });

  it('API keys created and revoked, persisted operations registered', async () => {
    const key = await mutate(
      'createApiKey',
      `mutation { createApiKey(input: { name: "audited", role: SUPPORT }) { apiKey { id } secret userErrors { message } } }`,
      {},
      ['apiKey.create'],
    );
    await mutate(
      'revokeApiKey',
      `mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } userErrors { message } } }`,
      { id: key.apiKey.id },
      ['apiKey.revoke'],
    );
    await mutate(
      'registerPersistedOperations',
      `mutation ($input: RegisterPersistedOperationsInput!) { registerPersistedOperations(input: $input) { registeredCount userErrors { message } } }`,
      {
        input: {
          clientName: 'audit-client',
          operations: [
            { id: createHash('sha256').update('{ viewer { name } }').digest('hex'), body: '{ viewer { name } }' },
          ],
        },
      },
      ['persistedOperations.register'],
    );
  });

  // Reads what the tests above audited: it comes last (Jest runs a file's tests in order) and
  // fails when a mutation is added to the schema without a test here.
  it('covers every mutation of the schema', async () => {
    const mutations = [
      .../^type Mutation \{([\s\S]*?)^\}/m.exec(await printAppSchema())![1].matchAll(/^ {2}(\w+)\(/gm),
    ].map((m) => m[1]);
    expect([...audited].sort()).toEqual(mutations.sort());
  });
});

it('offers no way to change or delete the trail', async () => {
  const mutations = /^type Mutation \{([\s\S]*?)^\}/m.exec(await printAppSchema())![1];
  expect(mutations).not.toMatch(/^\s+\w*audit\w*\(/im);
});

it('reads the trail by API key and by related object through their partial indexes (rows naming neither are not indexed)', async () => {
  const postgres = database.dataSource.options.type === 'postgres';
  const plan = async (where: string) => {
    const sql = `SELECT "id" FROM "audit_event" WHERE ${where} ORDER BY "id"`;
    if (!postgres) {
      const rows: { detail: string }[] = await database.dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, ['x']);
      return rows.map((row) => row.detail).join('\n');
    }
    // A parameter, as the resolver sends it, planned generically: the index is usable for any value.
    return database.dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL enable_seqscan = off');
      await manager.query('SET LOCAL plan_cache_mode = force_generic_plan');
      const rows: { 'QUERY PLAN': string }[] = await manager.query(`EXPLAIN ${sql}`, ['x']);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
  };
  const parameter = postgres ? '$1' : '?';
  expect(await plan(`"actorKeyId" = ${parameter}`)).toContain('audit_event_actor_key_idx');
  expect(await plan(`"relatedTargetId" = ${parameter}`)).toContain('audit_event_related_target_idx');
  const partial: { count: number | string }[] = postgres
    ? await database.dataSource.query(
        `SELECT COUNT(*) AS "count" FROM pg_indexes WHERE tablename = 'audit_event' AND indexdef LIKE '%WHERE%IS NOT NULL%'`,
      )
    : await database.dataSource.query(
        `SELECT COUNT(*) AS "count" FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event' AND sql LIKE '%WHERE%IS NOT NULL%'`,
      );
  expect(Number(partial[0].count)).toBe(2);
});
