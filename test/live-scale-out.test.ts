/**
 * Two server processes on one PostgreSQL and one Redis, as behind a load balancer: subscriptions,
 * key revocation and rate limits hold across them.
 */
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { readDatabaseSettings } from '../src/config';
import { usingPostgres } from './support/database';
import { decideActivationWith } from './support/decisions';
import { LiveTestClient, eventually } from './support/live-client';
import { RedisProcess } from './support/redis-process';
import {
  PROCESS_ADMIN_KEY,
  ServerProcess,
  createPartnerOver,
  graphql,
  postTo,
  processImei,
  registerDevicesOver,
  startServer,
} from './support/server-process';

jest.setTimeout(120_000);

const DECISIONS = 'subscription { activationDecided { committedAt attempt { id device { imei } } } }';
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 10 } };
const PER_SECOND = 50;

(usingPostgres ? describe : describe.skip)('two instances on one PostgreSQL and one Redis', () => {
  let drop: () => Promise<void>;
  let redis: RedisProcess;
  let a: ServerProcess;
  let b: ServerProcess;
  let gatewayKey: string;
  const clients: LiveTestClient[] = [];

  const key = async (role: string, partnerId?: string) => {
    const created = await graphql(
      a.url,
      'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }',
      { input: { name: `${role} key`, role, partnerId } },
    );
    return created.body.data.createApiKey as { apiKey: { id: string }; secret: string };
  };
  const decide = async (server: ServerProcess, imei: string) => {
    const answer = await decideActivationWith(
      postTo(server.url, gatewayKey),
      { imei, signals: BERLIN },
      'attempt { id } userErrors { message }',
    );
    return { id: answer.body.data.decideActivation.attempt.id as string, returnedAt: Date.now() };
  };
  const connect = async (server: ServerProcess, secret: string) => {
    const { client, refused } = await LiveTestClient.connect(server.url, secret);
    clients.push(client);
    if (refused) throw new Error(`refused: ${JSON.stringify(refused)}`);
    return client;
  };
  /** Subscribes and gives the server a moment to open the feed (the protocol has no acknowledgement). */
  const subscribe = async (client: LiveTestClient, query: string) => {
    const subscription = client.subscribe(query);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return subscription;
  };
  const insuranceCount = async (server: ServerProcess) => {
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    return Number(/^rate_limit_insurance_total (\d+)/m.exec(text)?.[1] ?? 0);
  };
  const insuranceCounts = async () => (await insuranceCount(a)) + (await insuranceCount(b));
  /**
   * `count` requests of one key at once, alternating between the instances. Accepted: at most one
   * budget per window the burst spans (none over it within a window), plus any request that Redis was
   * too slow to count (each counted in memory by the insurance limiter, logged and in /metrics).
   */
  const expectOneBudget = async (secret: string, count: number) => {
    const insuredBefore = await insuranceCounts();
    const { accepted, elapsedMs } = await burst(secret, count);
    const insured = (await insuranceCounts()) - insuredBefore;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(PER_SECOND * Math.ceil(elapsedMs / 1_000) + insured);
    if (elapsedMs < 1_000 && insured === 0) expect(accepted).toBe(PER_SECOND);
    return insured;
  };
  /** `count` requests of one key at once, alternating between the instances; how many were accepted. */
  const burst = async (secret: string, count: number) => {
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        graphql((index % 2 ? a : b).url, '{ __typename }', undefined, secret).then((answer) => answer.status),
      ),
    );
    return { accepted: statuses.filter((status) => status === 200).length, elapsedMs: Date.now() - started, statuses };
  };

  beforeAll(async () => {
    const database = await createTemporaryDatabase(readDatabaseSettings().url!, 'cg_live');
    drop = database.drop;
    redis = await RedisProcess.start();
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, RATE_LIMIT_PER_SECOND: String(PER_SECOND) };
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
    const partner = await createPartnerOver(a.url, 'Live');
    await registerDevicesOver(a.url, partner, 10);
    gatewayKey = (await key('GATEWAY')).secret;
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    a?.child.kill('SIGKILL');
    b?.child.kill('SIGKILL');
    await Promise.all([a?.exited, b?.exited]);
    await redis?.stop();
    await drop?.();
  });

  it('deliver a decision made through one instance to a subscriber on the other within a second, once, after its commit', async () => {
    const subscription = await subscribe(await connect(a, PROCESS_ADMIN_KEY), DECISIONS);
    const decided = await decide(b, processImei(1));
    const [event] = await subscription.waitFor(1, 1_000);
    const receivedAt = Date.now();
    expect(event.activationDecided.attempt).toEqual({ id: decided.id, device: { imei: processImei(1) } });
    // Committed before it was announced: its commit instant precedes the delivery.
    expect(new Date(event.activationDecided.committedAt).getTime()).toBeLessThanOrEqual(receivedAt);
    expect(receivedAt - decided.returnedAt).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(subscription.events).toHaveLength(1);
  });

  it("give a partner's subscriber none of another partner's decisions, whichever instance decides first", async () => {
    const one = await createPartnerOver(a.url, 'Live One');
    const two = await createPartnerOver(a.url, 'Live Two');
    await registerDevicesOver(a.url, one, 2, 100);
    await registerDevicesOver(a.url, two, 2, 200);
    const oneSees = await subscribe(await connect(a, (await key('PARTNER', one)).secret), DECISIONS);
    const twoSees = await subscribe(await connect(b, (await key('PARTNER', two)).secret), DECISIONS);
    await decide(b, processImei(100));
    await decide(a, processImei(200));
    await decide(a, processImei(201));
    await decide(b, processImei(101));
    await oneSees.waitFor(2);
    await twoSees.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const imeis = (events: any[]) => events.map((event) => event.activationDecided.attempt.device.imei);
    expect(imeis(oneSees.events)).toEqual([processImei(100), processImei(101)]);
    expect(imeis(twoSees.events)).toEqual([processImei(200), processImei(201)]);
  });

  it('refuse a key revoked on one instance at its next request on the other, and close its subscriptions on both', async () => {
    const analyst = await key('ANALYST');
    // Used on both first, so both have it in their key caches.
    expect((await graphql(a.url, '{ __typename }', undefined, analyst.secret)).status).toBe(200);
    expect((await graphql(b.url, '{ __typename }', undefined, analyst.secret)).status).toBe(200);
    const onA = await connect(a, analyst.secret);
    const onB = await connect(b, analyst.secret);
    await subscribe(onA, DECISIONS);
    await subscribe(onB, DECISIONS);
    const revoked = await graphql(
      a.url,
      'mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { userErrors { message } } }',
      {
        id: analyst.apiKey.id,
      },
    );
    const revokedAt = Date.now();
    expect(revoked.body.data.revokeApiKey.userErrors).toEqual([]);
    const refused = await graphql(b.url, '{ __typename }', undefined, analyst.secret);
    expect(refused.status).toBe(401);
    expect(refused.body.errors[0].message).toBe('the API key was revoked');
    const closed = await Promise.all([onA.closed, onB.closed]);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect(closed).toEqual([
      { code: 4403, reason: 'the API key was revoked' },
      { code: 4403, reason: 'the API key was revoked' },
    ]);
  });

  it('share one rate limit between the instances through Redis, fall back to memory while it is down, and return to it', async () => {
    const analyst = (await key('ANALYST')).secret;
    // 200 requests at once over both instances: one budget of 50 for the key, not 50 per instance.
    // Tolerance: none within one window; a burst that outlasts its window (a loaded machine) is
    // allowed one budget per window it spans.
    await expectOneBudget(analyst, 200);

    await redis.stop();
    const before = [await insuranceCount(a), await insuranceCount(b)];
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // Requests go on, each instance counting its own budget in memory.
    const insured = await burst(analyst, 40);
    expect(insured.accepted).toBe(40);
    expect((await insuranceCount(a)) - before[0]).toBe(20);
    expect((await insuranceCount(b)) - before[1]).toBe(20);
    expect([...a.stdout, ...b.stdout].filter((line) => line.includes('Redis is unreachable'))).toHaveLength(2);

    await redis.resume();
    await eventually(
      () => [...a.stdout, ...b.stdout].filter((line) => line.includes('Redis is back')).length === 2,
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // Back to Redis: one budget again (the insurance counts at most a straggler, not the burst).
    expect(await expectOneBudget(analyst, 200)).toBeLessThan(10);
  });
});
