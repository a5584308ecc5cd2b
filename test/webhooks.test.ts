/**
 * Partner webhooks: events about a partner's devices go, signed, to its HTTPS endpoints only;
 * failed tries are retried with exponential backoff and logged; a partner lists its deliveries and
 * redelivers one.
 */
import { Role } from '../src/auth/roles';
import { registry } from '../src/ops/metrics';
import { decodeGlobalId } from '../src/common/global-id';
import { PartnerEvent } from '../src/webhooks/partner-event.entity';
import { verifyWebhookSignature } from '../src/webhooks/webhook-signature';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { HANG, HttpsReceiver } from './support/https-receiver';
import { rowCounts } from './support/row-counts';
import { imeiOf } from './support/imei';
import { decideActivation } from './support/decisions';

let database: TestDatabase;
let client: GraphQLClient;
const receiver = new HttpsReceiver();
const imei = (serial: number) => imeiOf(850_000 + serial);
const partners: { id: string; rowId: number; deviceIds: string[] }[] = [];

const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
const SIMFEROPOL_WITH_GERMAN_SIM = { gps: { latitude: 44.9521, longitude: 34.1024 }, sim: { mcc: '262', mnc: '01' } };
const CREATE = `mutation ($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id url eventTypes partner { name } } secret userErrors { field code message } }
}`;
const DELIVERIES = `query ($filter: WebhookDeliveryFilter) {
  webhookDeliveries(first: 50, filter: $filter) {
    totalCount
    nodes { id status attempts deliveredAt event { type device { imei } } redeliveryOf { id } attemptLog(first: 10) { nodes { statusCode error attemptedAt } } }
  }
}`;

function asPartner(index: number) {
  return client.as({
    keyId: 500 + index,
    name: `partner ${index}`,
    role: Role.PARTNER,
    partnerId: partners[index].rowId,
  });
}

const decide = (serial: number, signals: object) => decideActivation(client, { imei: imei(serial), signals });

/** Runs the dispatcher until nothing is pending (retries included), or fails after a while. */
async function deliverAll(timeoutMs = 15_000) {
  const dispatcher = database.services.webhooks;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    dispatcher.wake();
    await dispatcher.idle();
    const pending = await client.data(
      `{ webhookDeliveries(first: 1, filter: { statuses: [PENDING] }) { totalCount } }`,
    );
    if (pending.webhookDeliveries.totalCount === 0) return;
    if (Date.now() > deadline) throw new Error('deliveries still pending');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  await receiver.start();
  database = await openTestDatabase();
  database.settings.webhooks = {
    maxAttempts: 4,
    retryBaseMs: 50,
    retryMaxMs: 1_000,
    timeoutMs: 2_000,
    caFile: receiver.caFile,
    allowPrivateAddresses: true,
  };
  client = await GraphQLClient.create(database);
  for (const [index, name] of ['Hook Partner A', 'Hook Partner B'].entries()) {
    const created = await client.data(
      `mutation ($name: String!) { createPartner(input: { name: $name, kind: DISTRIBUTOR }) { partner { id } } }`,
      { name },
    );
    const id = created.createPartner.partner.id;
    const registered = await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id } userErrors { message } } }`,
      {
        input: {
          partnerId: id,
          devices: [1, 2, 3, 4].map((serial) => ({
            imei: imei(index * 10 + serial),
            serialNumber: `H${index}-${serial}`,
            modelCode: 'AR-5',
            marketRegionCode: 'DE',
          })),
        },
      },
    );
    partners.push({
      id,
      rowId: decodeGlobalId(id)!.rowId,
      deviceIds: registered.registerDevices.devices.map((device: { id: string }) => device.id),
    });
  }
});
afterAll(async () => {
  await client.stop();
  await database.close();
  await receiver.stop();
});

describe('registering an endpoint', () => {
  it.each([
    [{ url: 'http://localhost/hooks' }, 'url', 'INVALID', 'url must use https'],
    [{ url: 'https://user:pw@example.com/hooks' }, 'url', 'INVALID', 'url must not carry credentials'],
    [{ url: 'not a url' }, 'url', 'INVALID', 'url is not a valid URL'],
    [{ eventTypes: ['DEVICE_LOCKED', 'DEVICE_LOCKED'] }, 'eventTypes.1', 'DUPLICATE', 'DEVICE_LOCKED is listed twice'],
    [{ eventTypes: [] }, 'eventTypes', 'INVALID', 'eventTypes must name at least one event type'],
  ])('refuses %p, naming the field and writing nothing', async (change, field, code, message) => {
    const before = await rowCounts(database.dataSource);
    const data = await asPartner(0).data(CREATE, {
      input: { url: receiver.url, eventTypes: ['DEVICE_LOCKED'], ...change },
    });
    expect(data.createWebhookEndpoint).toMatchObject({
      endpoint: null,
      secret: null,
      userErrors: [{ field: ['input', ...field.split('.')], code, message }],
    });
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it('refuses private addresses unless allowed, another partner, and no partner for an ADMIN', async () => {
    database.settings.webhooks.allowPrivateAddresses = false;
    try {
      for (const url of ['https://127.0.0.1/x', 'https://localhost/x', 'https://10.1.2.3/x', 'https://[::1]/x']) {
        const data = await asPartner(0).data(CREATE, { input: { url, eventTypes: ['DEVICE_LOCKED'] } });
        expect(data.createWebhookEndpoint.userErrors).toMatchObject([{ field: ['input', 'url'], code: 'INVALID' }]);
      }
    } finally {
      database.settings.webhooks.allowPrivateAddresses = true;
    }
    const foreign = await asPartner(0).data(CREATE, {
      input: { partnerId: partners[1].id, url: receiver.url, eventTypes: ['DEVICE_LOCKED'] },
    });
    expect(foreign.createWebhookEndpoint.userErrors).toMatchObject([
      { field: ['input', 'partnerId'], code: 'NOT_FOUND' },
    ]);
    const admin = await client.data(CREATE, { input: { url: receiver.url, eventTypes: ['DEVICE_LOCKED'] } });
    expect(admin.createWebhookEndpoint.userErrors).toMatchObject([{ field: ['input', 'partnerId'], code: 'REQUIRED' }]);
  });
});

describe('deliveries', () => {
  let secret: string;
  let endpointId: string;
  let reviewAttemptId: string;

  it('sends a signed event for its own devices only, verifiable by the receiver and not replayable', async () => {
    const created = await asPartner(0).data(CREATE, {
      input: {
        url: receiver.url,
        eventTypes: ['DEVICE_LOCKED', 'DEVICE_UNLOCKED', 'REVIEW_OPENED', 'REVIEW_RESOLVED'],
        description: 'ops',
      },
    });
    expect(created.createWebhookEndpoint.userErrors).toEqual([]);
    expect(created.createWebhookEndpoint.endpoint.partner.name).toBe('Hook Partner A');
    secret = created.createWebhookEndpoint.secret;
    endpointId = created.createWebhookEndpoint.endpoint.id;
    expect(secret).toMatch(/^whsec_/);

    expect((await decide(1, HAVANA)).decision.outcome).toBe('LOCK');
    expect((await decide(11, HAVANA)).decision.outcome).toBe('LOCK'); // partner B's device
    await deliverAll();
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    const signature = request.headers['x-compliance-signature'] as string;
    expect(verifyWebhookSignature(secret, signature, request.body)).toBe(true);
    expect(verifyWebhookSignature(secret, signature, request.body.replace('LOCKED', 'UNLOCKED'))).toBe(false);
    expect(verifyWebhookSignature('whsec_wrong', signature, request.body)).toBe(false);
    const sentAt = Number(/t=(\d+)/.exec(signature)![1]);
    expect(verifyWebhookSignature(secret, signature, request.body, sentAt + 301)).toBe(false);
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      type: 'DEVICE_LOCKED',
      data: { device: { id: partners[0].deviceIds[0], imei: imei(1), status: 'LOCKED' } },
    });
    expect(request.headers['x-compliance-event-id']).toBe(body.id);
    expect(request.body).not.toMatch(/latitude|longitude/);
    // Partner B has an event in the outbox but no endpoint: nothing is sent anywhere for it.
    const events = await database.dataSource.getRepository(PartnerEvent).countBy({ partnerId: partners[1].rowId });
    expect(events).toBe(1);
    expect((await asPartner(1).data(DELIVERIES, {})).webhookDeliveries.totalCount).toBe(0);
  });

  it('retries a failing endpoint with exponential backoff and logs every try', async () => {
    receiver.answers = [500, 503];
    const sentBefore = receiver.received.length;
    await client.data(
      `mutation ($id: ID!) { unlockDevice(input: { deviceId: $id, reason: "traveller verified" }) { userErrors { message } } }`,
      { id: partners[0].deviceIds[0] },
    );
    await deliverAll();
    const tries = receiver.received.slice(sentBefore);
    expect(tries.map((entry) => entry.answered)).toEqual([500, 503, 200]);
    // Every try carries the same event, signed afresh.
    expect(new Set(tries.map((entry) => entry.body)).size).toBe(1);
    for (const entry of tries) {
      expect(verifyWebhookSignature(secret, entry.headers['x-compliance-signature'] as string, entry.body)).toBe(true);
    }
    const deliveries = await asPartner(0).data(DELIVERIES, { filter: { endpointId } });
    const unlocked = deliveries.webhookDeliveries.nodes.find(
      (node: { event: { type: string } }) => node.event.type === 'DEVICE_UNLOCKED',
    );
    const times = unlocked.attemptLog.nodes.map((node: { attemptedAt: string }) => Date.parse(node.attemptedAt));
    // Waits of at least 50 and 100 ms: the base, doubled.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(50);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(100);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/webhook_delivery_tries_total\{result="retry"\} [1-9]/);
    expect(metrics).toMatch(/webhook_delivery_tries_total\{result="delivered"\} [1-9]/);
    expect(unlocked).toMatchObject({
      status: 'DELIVERED',
      attempts: 3,
      attemptLog: {
        nodes: [
          { statusCode: 500, error: 'answered HTTP 500' },
          { statusCode: 503, error: 'answered HTTP 503' },
          { statusCode: 200, error: null },
        ],
      },
    });
  });

  it('gives up after the last try, and a partner redelivers it; another partner cannot', async () => {
    receiver.answers = [500, 500, 500, 500];
    const reviewed = await decide(2, SIMFEROPOL_WITH_GERMAN_SIM);
    expect(reviewed.decision.outcome).toBe('REVIEW');
    reviewAttemptId = reviewed.attempt.id;
    await deliverAll();
    const failed = await asPartner(0).data(DELIVERIES, { filter: { statuses: ['FAILED'] } });
    expect(failed.webhookDeliveries.nodes).toMatchObject([
      { status: 'FAILED', attempts: 4, event: { type: 'REVIEW_OPENED' } },
    ]);
    const failedId = failed.webhookDeliveries.nodes[0].id;

    const REDELIVER = `mutation ($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) { delivery { id status redeliveryOf { id } } userErrors { field code } } }`;
    const foreign = await asPartner(1).data(REDELIVER, { id: failedId });
    expect(foreign.redeliverWebhook.userErrors).toEqual([{ field: ['input', 'deliveryId'], code: 'NOT_FOUND' }]);
    expect((await asPartner(1).data(`query ($id: ID!) { node(id: $id) { id } }`, { id: failedId })).node).toBeNull();

    const again = await asPartner(0).data(REDELIVER, { id: failedId });
    expect(again.redeliverWebhook.delivery).toMatchObject({ status: 'PENDING', redeliveryOf: { id: failedId } });
    await deliverAll();
    const done = await asPartner(0).data(
      `query ($id: ID!) { node(id: $id) { ... on WebhookDelivery { status attempts } } }`,
      {
        id: again.redeliverWebhook.delivery.id,
      },
    );
    expect(done.node).toEqual({ status: 'DELIVERED', attempts: 1 });
  });

  it('tells of a review resolved, and sends nothing to a disabled endpoint', async () => {
    const sentBefore = receiver.received.length;
    await client.data(
      `mutation ($id: ID!) { resolveReview(input: { attemptId: $id, resolution: ALLOW, note: "checked" }) { userErrors { message } } }`,
      { id: reviewAttemptId },
    );
    await deliverAll();
    expect(receiver.received.slice(sentBefore).map((entry) => JSON.parse(entry.body).type)).toEqual([
      'REVIEW_RESOLVED',
    ]);

    const disabled = await asPartner(0).data(
      `mutation ($id: ID!) { disableWebhookEndpoint(input: { id: $id }) { endpoint { disabledAt } userErrors { code } } }`,
      { id: endpointId },
    );
    expect(disabled.disableWebhookEndpoint.endpoint.disabledAt).not.toBeNull();
    expect((await decide(3, HAVANA)).decision.outcome).toBe('LOCK');
    await deliverAll();
    expect(receiver.received.length).toBe(sentBefore + 1);
  });
});

describe('endpoints that cannot be reached', () => {
  it('counts a try that gets no answer in time as failed, and refuses a private address at sending time', async () => {
    const created = await asPartner(1).data(CREATE, { input: { url: receiver.url, eventTypes: ['DEVICE_LOCKED'] } });
    expect(created.createWebhookEndpoint.userErrors).toEqual([]);
    database.settings.webhooks.timeoutMs = 200;
    receiver.answers = [HANG, HANG, HANG, HANG];
    expect((await decide(12, HAVANA)).decision.outcome).toBe('LOCK');
    await deliverAll();
    const hung = await asPartner(1).data(DELIVERIES, { filter: { statuses: ['FAILED'] } });
    expect(hung.webhookDeliveries.nodes[0]).toMatchObject({
      attempts: 4,
      attemptLog: { nodes: Array(4).fill({ statusCode: null, error: 'no answer within 200 ms' }) },
    });

    // Registered while private addresses were allowed; a try after they are not is refused before connecting.
    database.settings.webhooks.allowPrivateAddresses = false;
    try {
      const sentBefore = receiver.received.length;
      expect((await decide(13, HAVANA)).decision.outcome).toBe('LOCK');
      await deliverAll();
      expect(receiver.received.length).toBe(sentBefore);
      const refused = await asPartner(1).data(DELIVERIES, { filter: { statuses: ['FAILED'] } });
      expect(refused.webhookDeliveries.nodes[0].attemptLog.nodes[0]).toMatchObject({
        statusCode: null,
        error: 'url must not point to a loopback or private address',
      });
    } finally {
      database.settings.webhooks.allowPrivateAddresses = true;
      database.settings.webhooks.timeoutMs = 2_000;
    }
  });
});

describe('the outbox', () => {
  it('holds exactly one event per lock and unlock of a partner device: written with the change, never apart', async () => {
    const counts = async (sql: string) => Number((await database.dataSource.query(sql))[0].count);
    const locks = await counts(`SELECT COUNT(*) AS "count" FROM "device_status_change" WHERE "toStatus" = 'LOCKED'`);
    const unlocks = await counts(
      `SELECT COUNT(*) AS "count" FROM "device_status_change" WHERE "fromStatus" = 'LOCKED' AND "toStatus" = 'ACTIVE'`,
    );
    expect(locks).toBeGreaterThan(0);
    expect(await counts(`SELECT COUNT(*) AS "count" FROM "partner_event" WHERE "type" = 'DEVICE_LOCKED'`)).toBe(locks);
    expect(await counts(`SELECT COUNT(*) AS "count" FROM "partner_event" WHERE "type" = 'DEVICE_UNLOCKED'`)).toBe(
      unlocks,
    );
  });
});
