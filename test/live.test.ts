/** Subscriptions over graphql-ws on one instance (SQLite or PostgreSQL), through a real HTTP server. */
import { createHash } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { App, createApp } from '../src/app';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { Settings } from '../src/config';
import { registry } from '../src/ops/metrics';
import { openTestDatabase, TestDatabase } from './support/database';
import { testImei } from './support/fixtures';
import { decideActivationWith } from './support/decisions';
import { graphqlOverHttp } from './support/http-graphql';
import { parse } from 'graphql';
import { ECHO_LIMITS } from '../src/common/errors';
import { estimateCost } from '../src/common/query-limits';
import { buildAppSchema } from '../src/schema';
import { LiveTestClient, eventually } from './support/live-client';

jest.setTimeout(60_000);

const ADMIN_KEY = 'cgk_bootstrap-admin-key-for-live-tests-0123456789';
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 10 } };
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 10 } };
const DECISIONS = `subscription ($filter: ActivationDecidedFilter) {
  activationDecided(filter: $filter) { committedAt attempt { id outcome enforced device { imei partner { name } } } }
}`;

let database: TestDatabase;
let app: App;
let origin: string;

const post = (query: string, variables: Record<string, unknown> = {}, key = ADMIN_KEY) =>
  graphqlOverHttp(`${origin}/graphql`, key, query, variables);

const decide = (imei: string, signals: unknown) =>
  decideActivationWith(post, { imei, signals }, 'attempt { id } userErrors { message }').then(
    (data) => data.decideActivation.attempt.id as string,
  );

async function partnerWithKey(name: string, serial: number) {
  const partnerId = (
    await post(
      'mutation ($name: String!) { createPartner(input: { name: $name, kind: CARRIER }) { partner { id } } }',
      {
        name,
      },
    )
  ).createPartner.partner.id;
  await post('mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { registeredCount } }', {
    input: {
      partnerId,
      devices: [0, 1, 2].map((offset) => ({
        imei: testImei(serial + offset),
        serialNumber: `L${serial + offset}`,
        modelCode: 'AR-5',
        marketRegionCode: 'DE',
      })),
    },
  });
  const key = (
    await post('mutation ($p: ID!) { createApiKey(input: { name: "p", role: PARTNER, partnerId: $p }) { secret } }', {
      p: partnerId,
    })
  ).createApiKey.secret as string;
  return { partnerId, key, imei: (offset: number) => testImei(serial + offset) };
}

async function keyFor(role: string, name = role.toLowerCase()) {
  const created = await post(
    'mutation ($role: Role!, $name: String!) { createApiKey(input: { name: $name, role: $role }) { apiKey { id } secret } }',
    { role, name },
  );
  return { id: created.createApiKey.apiKey.id as string, secret: created.createApiKey.secret as string };
}

async function counted(name: string, label: 'reason' | 'kind', value: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.find((counter) => counter.labels[label] === value)?.value ?? 0;
}
const closures = (reason: string) => counted('live_connections_closed_total', 'reason', reason);
const subscriptionsRunning = () => app.live.hub.subscriptionCount();
const clients: LiveTestClient[] = [];
async function connect(key: string | null = ADMIN_KEY) {
  const connected = await LiveTestClient.connect(`${origin}/graphql`, key);
  clients.push(connected.client);
  return connected;
}
async function subscribed(client: LiveTestClient, query: string, variables?: Record<string, unknown>) {
  const before = subscriptionsRunning();
  const subscription = client.subscribe(query, variables);
  await eventually(() => subscriptionsRunning() > before || subscription.errors.length > 0);
  return subscription;
}

async function startApp(live: Settings['live']) {
  const settings: Settings = {
    ...database.settings,
    adminKey: ADMIN_KEY,
    rateLimits: { ...database.settings.rateLimits, perSecond: 1_000_000 },
    live,
  };
  app = await createApp(database.dataSource, settings);
  app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => app.httpServer.once('listening', resolve));
  origin = `http://127.0.0.1:${(app.httpServer.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  database = await openTestDatabase();
  await startApp({
    maxConnectionsPerKey: 3,
    maxSubscriptionsPerKey: 4,
    maxQueuedEvents: 100,
    maxBufferedBytes: 65_536,
    keepAliveMs: 12_000,
    closeGraceMs: 10_000,
  });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await eventually(() => subscriptionsRunning() === 0);
});
afterAll(async () => {
  await app?.apollo.stop();
  await database?.close();
});

describe('activationDecided', () => {
  it('delivers each decision once, after its commit, with the attempt as a graph node', async () => {
    const partner = await partnerWithKey('Live One', 100);
    const { client } = await connect();
    const subscription = await subscribed(client, DECISIONS);
    const seenInDatabase: boolean[] = [];
    client.socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type !== 'next' || !message.payload.data) return;
      // The row is there when the event arrives: it was published after the commit.
      const id = Number(
        Buffer.from(message.payload.data.activationDecided.attempt.id, 'base64url').toString().split(':')[1],
      );
      void database.dataSource
        .getRepository(ActivationAttempt)
        .existsBy({ id })
        .then((exists) => seenInDatabase.push(exists));
    });
    const attemptId = await decide(partner.imei(0), BERLIN);
    const [event] = await subscription.waitFor(1);
    expect(event.activationDecided.attempt).toMatchObject({
      id: attemptId,
      outcome: 'ALLOW',
      device: { imei: partner.imei(0), partner: { name: 'Live One' } },
    });
    await eventually(() => seenInDatabase.length === 1);
    expect(seenInDatabase).toEqual([true]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(subscription.events).toHaveLength(1);
  });

  it('filters by outcome and region, and a partner receives its own devices only, whichever decides first', async () => {
    const one = await partnerWithKey('Live A', 200);
    const two = await partnerWithKey('Live B', 300);
    const admin = (await connect()).client;
    const locks = await subscribed(admin, DECISIONS, { filter: { outcomes: ['LOCK'], regionCodes: ['CU'] } });
    const oneSees = await subscribed((await connect(one.key)).client, DECISIONS);
    const twoSees = await subscribed((await connect(two.key)).client, DECISIONS);
    // A partner asking for another's devices gets nothing of theirs either.
    const oneAsksForTwo = await subscribed((await connect(one.key)).client, DECISIONS, {
      filter: { partnerId: two.partnerId },
    });
    await decide(one.imei(0), BERLIN);
    await decide(two.imei(0), HAVANA);
    await decide(two.imei(1), BERLIN);
    await decide(one.imei(1), HAVANA);
    await oneSees.waitFor(2);
    await twoSees.waitFor(2);
    await locks.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const imeis = (events: any[]) => events.map((event) => event.activationDecided.attempt.device.imei);
    expect(imeis(oneSees.events)).toEqual([one.imei(0), one.imei(1)]);
    expect(imeis(twoSees.events)).toEqual([two.imei(0), two.imei(1)]);
    expect(imeis(locks.events)).toEqual([two.imei(0), one.imei(1)]);
    expect(oneAsksForTwo.events).toEqual([]);
  });

  it('executes a document once per event for all who send it with the same rights, apart for other rights or variables', async () => {
    const partner = await partnerWithKey('Live G', 700);
    const first = (await connect()).client;
    const second = (await connect()).client;
    const shared = [await subscribed(first, DECISIONS), await subscribed(second, DECISIONS)];
    // The same document twice on one connection: two subscriptions, each with its own messages.
    shared.push(await subscribed(second, DECISIONS));
    const partnerSees = await subscribed((await connect(partner.key)).client, DECISIONS);
    const allowed = await subscribed(first, DECISIONS, { filter: { outcomes: ['ALLOW'] } });
    expect(app.live.hub.groupCount()).toBe(3);
    const executions = () => counted('live_executions_total', 'kind', 'decision');
    const before = await executions();

    const attemptId = await decide(partner.imei(0), BERLIN);
    for (const subscription of [...shared, partnerSees, allowed]) await subscription.waitFor(1);
    expect(shared[0].events[0].activationDecided.attempt).toMatchObject({ id: attemptId, outcome: 'ALLOW' });
    for (const subscription of [...shared, partnerSees, allowed]) expect(subscription.events).toEqual(shared[0].events);
    // Five subscriptions, three groups (the administrator's, the partner's, the filtered one): three executions.
    expect((await executions()) - before).toBe(3);

    // One member leaving ends its subscriptions only; its group goes on for the others, and a group
    // left empty ends.
    first.close();
    await eventually(() => subscriptionsRunning() === 3 && app.live.hub.groupCount() === 2);
    await decide(partner.imei(1), BERLIN);
    for (const subscription of [shared[1], shared[2], partnerSees]) await subscription.waitFor(2);
    expect((await executions()) - before).toBe(5);
    expect(shared[0].events).toHaveLength(1);
  });

  it('refuses a bad filter by name', async () => {
    const { client } = await connect();
    const subscription = client.subscribe(DECISIONS, { filter: { regionCodes: ['XX-NOWHERE'] } });
    await eventually(() => subscription.errors.length > 0);
    expect(subscription.errors[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'filter.regionCodes' },
    });
  });
});

describe('values echoed in errors', () => {
  it('bounds what a refused variable quotes, as over HTTP', async () => {
    const { client } = await connect();
    const huge = 'x'.repeat(50_000);
    const subscription = client.subscribe(DECISIONS, { filter: { outcomes: [huge], regionCodes: { [huge]: huge } } });
    await eventually(() => subscription.errors.length > 0);
    expect(subscription.errors.length).toBeGreaterThan(0);
    for (const error of subscription.errors) {
      expect(error.message).toMatch(/^Variable "\$filter"/);
      expect(error.message.length).toBeLessThanOrEqual(ECHO_LIMITS.messageCharacters + 40);
    }
  });
});

describe('rights and bounds', () => {
  it('refuses a connection without a key, with a bad key, or with a GATEWAY key, saying why', async () => {
    expect((await connect(null)).refused).toEqual({
      code: 4401,
      reason: 'connection_init must carry { "authorization": "Bearer <api key>" }',
    });
    expect((await connect('cgk_not-a-key')).refused).toEqual({ code: 4401, reason: 'the API key is not known' });
    const gateway = await keyFor('GATEWAY');
    expect((await connect(gateway.secret)).refused).toEqual({ code: 4403, reason: 'a GATEWAY key cannot subscribe' });
  });

  it('refuses a subscription whose document costs more than a query may, as over HTTP', async () => {
    // Executed once per event, a costly document would cost that much per decision: the same
    // estimate and limit as HTTP's apply before it starts.
    const deep = 'attempts(first: 100) { nodes { device { statusHistory(first: 100) { nodes { reason } } } } }';
    const costly = `subscription { activationDecided { attempt { device { a: ${deep} b: ${deep} } } } }`;
    const requested = estimateCost(await buildAppSchema(), parse(costly), undefined, {}, database.settings)!;
    expect(requested).toBeGreaterThan(database.settings.limits.maxCost);
    const { client } = await connect();
    const running = subscriptionsRunning();
    const subscription = client.subscribe(costly);
    await eventually(() => subscription.errors.length > 0);
    expect(subscription.errors[0].extensions).toMatchObject({
      code: 'QUERY_TOO_COSTLY',
      cost: requested,
      maxCost: database.settings.limits.maxCost,
    });
    expect(subscriptionsRunning()).toBe(running);
    // Within the limit, the same feed starts.
    const cheap = await subscribed(client, 'subscription { activationDecided { attempt { id } } }');
    expect(cheap.errors).toEqual([]);
  });

  it('runs subscriptions only: a query or mutation sent over the socket is refused, nothing run or written', async () => {
    // graphql-ws executes any operation it is sent. Over the socket a query or mutation met none of
    // the HTTP route's limits (request budget, cost limit, registered operations only): a document
    // costing many times the limit ran, and a key over its budget kept asking.
    const deep = 'attempts(first: 100) { nodes { device { statusHistory(first: 100) { nodes { reason } } } } }';
    const costly = `{ devices(first: 100) { nodes { a: ${deep} b: ${deep} } } }`;
    const requested = estimateCost(await buildAppSchema(), parse(costly), undefined, {}, database.settings)!;
    expect(requested).toBeGreaterThan(database.settings.limits.maxCost);
    const { client } = await connect();
    const partners = async () => (await post('{ partners(first: 100) { nodes { name } } }')).partners.nodes.length;
    const before = await partners();
    for (const document of [
      costly,
      '{ viewer { name } }',
      'mutation { createPartner(input: { name: "Over the socket", kind: CARRIER }) { partner { id } } }',
    ]) {
      const operation = client.subscribe(document);
      await eventually(() => operation.errors.length > 0 || operation.completed);
      expect(operation.events).toEqual([]);
      expect(operation.errors.map((error) => error.extensions?.code)).toEqual(['BAD_REQUEST']);
      expect(operation.errors[0].message).toMatch(/over HTTP/);
    }
    expect(await partners()).toBe(before);
    // The same connection still subscribes.
    const feed = await subscribed(client, 'subscription { activationDecided { attempt { id } } }');
    expect(feed.errors).toEqual([]);
  });

  it('holds a key restricted to registered operations to them on the socket too', async () => {
    // Over HTTP such a key's free-form document is refused (PERSISTED_QUERY_REQUIRED); the socket
    // ran any subscription document it sent.
    const partner = await partnerWithKey('Live R', 800);
    const restricted = (
      await post(
        'mutation ($p: ID!) { createApiKey(input: { name: "registered only", role: PARTNER, partnerId: $p, registeredOperationsOnly: true }) { secret } }',
        { p: partner.partnerId },
      )
    ).createApiKey.secret as string;
    const document = 'subscription RegisteredFeed { activationDecided { attempt { id outcome } } }';
    const { client } = await connect(restricted);
    const running = subscriptionsRunning();
    const refused = client.subscribe(document);
    await eventually(() => refused.errors.length > 0 || refused.completed);
    expect(refused.errors.map((error) => error.extensions?.code)).toEqual(['PERSISTED_QUERY_REQUIRED']);
    expect(subscriptionsRunning()).toBe(running);
    // Once an ADMIN registers it, the same document runs.
    const registered = await post(
      'mutation ($input: RegisterPersistedOperationsInput!) { registerPersistedOperations(input: $input) { registeredCount userErrors { message } } }',
      {
        input: {
          clientName: 'live-monitor',
          operations: [{ id: createHash('sha256').update(document).digest('hex'), body: document }],
        },
      },
    );
    expect(registered.registerPersistedOperations).toEqual({ registeredCount: 1, userErrors: [] });
    const feed = await subscribed(client, document);
    expect(feed.errors).toEqual([]);
    expect(subscriptionsRunning()).toBe(running + 1);
  });

  it('authorizes each subscription as it starts: a partner cannot watch the review queue', async () => {
    const partner = await partnerWithKey('Live C', 400);
    const { client } = await connect(partner.key);
    const subscription = client.subscribe('subscription { reviewQueueChanged { queue { waiting } } }');
    await eventually(() => subscription.errors.length > 0);
    expect(subscription.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('bounds connections and subscriptions per key, with a clear error past the bound', async () => {
    const support = await keyFor('SUPPORT', 'bounded');
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await connect(support.secret));
    expect(open.every((connection) => !connection.refused)).toBe(true);
    expect((await connect(support.secret)).refused).toEqual({
      code: 4029,
      reason: 'this API key already holds 3 connections to this instance (LIVE_MAX_CONNECTIONS_PER_KEY)',
    });
    const client = open[0].client;
    for (let i = 0; i < 4; i++) await subscribed(client, DECISIONS);
    const fifth = open[1].client.subscribe(DECISIONS);
    await eventually(() => fifth.errors.length > 0);
    expect(fifth.errors[0]).toMatchObject({
      message: expect.stringContaining('already runs 4 subscriptions'),
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 4 },
    });
  });

  it('closes the connections of a key revoked while subscribed within a second, and refuses it after', async () => {
    const analyst = await keyFor('ANALYST', 'revoked');
    const { client } = await connect(analyst.secret);
    await subscribed(client, DECISIONS);
    const revokedAt = Date.now();
    await post('mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { userErrors { message } } }', {
      id: analyst.id,
    });
    const closed = await client.closed;
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect(closed).toEqual({ code: 4403, reason: 'the API key was revoked' });
    expect((await connect(analyst.secret)).refused).toEqual({ code: 4401, reason: 'the API key was revoked' });
  });

  it('closes the connections of a key when it expires, as when it is revoked, and refuses it after', async () => {
    // Long enough to connect and subscribe on a loaded machine.
    const expiresAt = Date.now() + 4_000;
    const created = await post(
      'mutation ($at: DateTime!) { createApiKey(input: { name: "expiring", role: ANALYST, expiresAt: $at }) { secret } }',
      { at: new Date(expiresAt).toISOString() },
    );
    const secret = created.createApiKey.secret as string;
    const { client } = await connect(secret);
    await subscribed(client, DECISIONS);
    const expiredBefore = await closures('expired');
    const closed = await client.closed;
    const closedAt = Date.now();
    expect(closed).toEqual({ code: 4403, reason: 'the API key expired' });
    // Not before its expiry (timers keep milliseconds), and within a second of it.
    expect(closedAt).toBeGreaterThanOrEqual(expiresAt - 1);
    expect(closedAt - expiresAt).toBeLessThan(1_000);
    expect((await closures('expired')) - expiredBefore).toBe(1);
    expect(subscriptionsRunning()).toBe(0);
    expect((await connect(secret)).refused).toEqual({ code: 4401, reason: 'the API key has expired' });
  });
});

describe('other subscriptions', () => {
  it('reviewQueueChanged and deviceStatusChanged follow a review from its opening to its resolution', async () => {
    const partner = await partnerWithKey('Live D', 500);
    const { client } = await connect();
    const queue = await subscribed(
      client,
      'subscription { reviewQueueChanged { change attempt { id reviewStatus } queue { waiting oldestReceivedAt } } }',
    );
    const devices = await subscribed(
      client,
      'subscription ($filter: DeviceStatusChangedFilter) { deviceStatusChanged(filter: $filter) { device { imei status } change { fromStatus toStatus cause } } }',
      { filter: { partnerId: partner.partnerId } },
    );
    // A SIM from Cuba with a GPS fix in Berlin: the signals disagree and a person must look.
    const attemptId = await decide(partner.imei(0), { ...BERLIN, sim: { mcc: '368', mnc: '01' } });
    const [opened] = await queue.waitFor(1);
    expect(opened.reviewQueueChanged).toMatchObject({
      change: 'OPENED',
      attempt: { id: attemptId, reviewStatus: 'OPEN' },
      queue: { waiting: 1 },
    });
    await post(
      'mutation ($id: ID!) { resolveReview(input: { attemptId: $id, resolution: ALLOW, note: "traveller" }) { userErrors { message } } }',
      { id: attemptId },
    );
    const [, resolved] = await queue.waitFor(2);
    expect(resolved.reviewQueueChanged).toMatchObject({ change: 'RESOLVED', queue: { waiting: 0 } });
    await devices.waitFor(2);
    expect(devices.events.map((event) => event.deviceStatusChanged.change)).toEqual([
      { fromStatus: 'NEW', toStatus: 'UNDER_REVIEW', cause: 'DECISION' },
      { fromStatus: 'UNDER_REVIEW', toStatus: 'ACTIVE', cause: 'REVIEW' },
    ]);
  });
});

describe('a subscriber that never reads', () => {
  const FAT = `subscription { activationDecided { attempt { id occurredAt receivedAt outcome enforced reasonCodes
    explanation { signals { source regionCode usable finding detail } policies { policyKey applies finding detail } } } } }`;

  beforeAll(async () => {
    // The same database; a server allowing many subscriptions per key, so that one connection's
    // socket backs up after a few hundred decisions rather than thousands (the kernel's buffers first).
    await app.apollo.stop();
    await startApp({
      maxConnectionsPerKey: 3,
      maxSubscriptionsPerKey: 100,
      maxQueuedEvents: 30,
      maxBufferedBytes: 65_536,
      // The paused client cannot answer pings: on a loaded machine the keepalive would drop it before
      // its backlog is measured.
      keepAliveMs: 600_000,
      // The close frame that says why waits behind the megabytes the kernel already buffered for the
      // paused client; on a loaded machine reading them takes longer than the default grace.
      closeGraceMs: 90_000,
    });
  });

  it('is closed with a reason once its writes back up; the others go on, and nothing of it stays queued', async () => {
    // Thousands of decisions and a socket's worth of events to skip: slow on a loaded machine.
    const partner = await partnerWithKey('Live E', 600);
    const slow = (await connect()).client;
    for (let i = 0; i < 80; i++) await subscribed(slow, FAT);
    const reading = (await connect((await keyFor('ANALYST', 'reader')).secret)).client;
    const readingSubscription = await subscribed(reading, 'subscription { activationDecided { attempt { id } } }');
    // The client stops reading its socket: the server's writes back up.
    (slow.socket as any)._socket.pause();
    const slowBefore = await closures('slow');
    let closedBy: { code: number; reason: string } | null = null;
    void slow.closed.then((closed) => (closedBy = closed));
    let decided = 0;
    while (subscriptionsRunning() > 1 && decided < 3_000) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => decide(partner.imei((decided + j) % 3), BERLIN)));
      decided += 10;
    }
    // The hub dropped the slow connection's queues at once, and counted it as slow, once.
    expect(subscriptionsRunning()).toBe(1);
    expect((await closures('slow')) - slowBefore).toBe(1);
    process.stderr.write(`slow consumer closed after ${decided} decisions\n`);
    // The client reads again, skipping the events it no longer wants: the close frame comes after what
    // was already on its way, within the grace period before the server drops the socket, so it always
    // says why.
    slow.socket.removeAllListeners('message');
    const resumedAt = Date.now();
    (slow.socket as any)._socket.resume();
    await eventually(() => closedBy !== null, 80_000);
    process.stderr.write(`slow consumer read its close ${Date.now() - resumedAt} ms after it resumed\n`);
    expect(closedBy).toEqual({
      code: 4008,
      reason: 'events arrived faster than this connection read them; reconnect and resume from queries',
    });
    // The reader has had every decision.
    await readingSubscription.waitFor(decided, 20_000);
    expect(readingSubscription.events).toHaveLength(decided);
  }, 240_000);
});
