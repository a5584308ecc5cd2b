/**
 * The partner kit in examples/ run against a real server over HTTP: the generated typed client
 * (persisted operations, paging, evidence, userErrors, 429 backoff) and the webhook receivers in
 * TypeScript and Python, fed by the server's own webhook dispatcher.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { App, createApp } from '../src/app';
import { Settings } from '../src/config';
import { DeliveryStatus, WebhookDelivery } from '../src/webhooks/webhook-delivery.entity';
import { signatureHeader } from '../src/webhooks/webhook-signature';
import { PartnerClient, UserErrorsError } from '../examples/partner-client/client';
import { allDevices, decideIdempotently, explainAttempt, registerManifest } from '../examples/partner-client/flows';
import { uploadManifest } from '../examples/partner-client/upload-manifest';
import { WebhookEvent, webhookReceiver } from '../examples/webhook-receiver/receiver';
import { openTestDatabase, TestDatabase } from './support/database';
import { localhostCertificate } from './support/https-receiver';
import { freePort } from './support/server-process';
import { imeiOf } from './support/imei';
import { decideActivationWith } from './support/decisions';
import { graphqlOverHttp } from './support/http-graphql';

const ADMIN_KEY = 'cgk_examples-admin-key-0123456789abcdef0123456789';
const ROOT = join(__dirname, '..');
const imei = (serial: number) => imeiOf(700_000 + serial);
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };

let database: TestDatabase;
let settings: Settings;
const servers: { app: App; url: string }[] = [];
let url: string;
let partnerId: string;
let partnerKey: string;
const certificate = localhostCertificate();

async function serve(overrides: Partial<Settings> = {}): Promise<string> {
  const app = await createApp(database.dataSource, { ...settings, ...overrides });
  const server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  servers.push({ app, url: serverUrl });
  return serverUrl;
}

const asAdmin = (query: string, variables: Record<string, unknown> = {}) =>
  graphqlOverHttp(url, ADMIN_KEY, query, variables);

async function lockDevice(serial: number): Promise<string> {
  const data = await decideActivationWith(
    asAdmin,
    { imei: imei(serial), signals: HAVANA },
    'decision { outcome } attempt { id }',
  );
  expect(data.decideActivation.decision.outcome).toBe('LOCK');
  return data.decideActivation.attempt.id;
}

/** Runs the server's dispatcher until no delivery is pending. */
async function deliverAll() {
  const dispatcher = database.services.webhooks;
  for (let round = 0; round < 200; round += 1) {
    dispatcher.wake();
    await dispatcher.idle();
    if ((await database.dataSource.getRepository(WebhookDelivery).countBy({ status: DeliveryStatus.PENDING })) === 0)
      return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('deliveries still pending');
}

async function createEndpoint(endpointUrl: string): Promise<string> {
  const data = await asAdmin(
    `mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret userErrors { message } } }`,
    { input: { partnerId, url: endpointUrl, eventTypes: ['DEVICE_LOCKED', 'DEVICE_UNLOCKED'] } },
  );
  expect(data.createWebhookEndpoint.userErrors).toEqual([]);
  return data.createWebhookEndpoint.secret;
}

beforeAll(async () => {
  database = await openTestDatabase();
  settings = {
    ...database.settings,
    adminKey: ADMIN_KEY,
    webhooks: {
      maxAttempts: 3,
      retryBaseMs: 50,
      retryMaxMs: 500,
      timeoutMs: 5_000,
      caFile: certificate.cert,
      allowPrivateAddresses: true,
    },
  };
  database.settings.webhooks = settings.webhooks;
  url = await serve();
  const created = await asAdmin(
    `mutation { createPartner(input: { name: "Example Carrier", kind: CARRIER }) { partner { id } } }`,
  );
  partnerId = created.createPartner.partner.id;
  // The partner's key runs only the operations of its client's manifest.
  const key = await asAdmin(`mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`, {
    input: { name: 'example-carrier', role: 'PARTNER', partnerId, registeredOperationsOnly: true },
  });
  partnerKey = key.createApiKey.secret;
  const uploaded = await uploadManifest(
    url,
    ADMIN_KEY,
    'example-partner-client',
    join(ROOT, 'examples', 'partner-client', 'gql', 'persisted-documents.json'),
  );
  expect(uploaded).toMatchObject({ registeredCount: 4, alreadyRegisteredCount: 0 });
});
afterAll(async () => {
  for (const { app } of servers) await app.apollo.stop();
  await database.close();
});

describe('the generated client code', () => {
  it('is what GraphQL Code Generator makes of operations.ts and the schema (run `npm run examples:codegen`)', async () => {
    // In its own process: the code generator loads ES modules that Jest's module loader does not.
    const script = `require('ts-node/register/transpile-only');
      const { generate } = require('@graphql-codegen/cli');
      const config = require('./examples/partner-client/codegen.ts').default;
      generate({ ...config, silent: true }, false).then((outputs) => process.stdout.write(JSON.stringify(outputs)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
      maxBuffer: 10_000_000,
    });
    const outputs: { filename: string; content: string }[] = JSON.parse(stdout);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs)
      expect([output.filename, output.content]).toEqual([
        output.filename,
        readFileSync(join(ROOT, output.filename), 'utf8'),
      ]);
  });
});

describe('the typed partner client', () => {
  it('registers a manifest of devices, pages through them and follows an attempt to its evidence', async () => {
    const client = new PartnerClient({ url, apiKey: partnerKey, fallbackToText: false });
    const devices = Array.from({ length: 120 }, (_, index) => ({
      imei: imei(index + 1),
      serialNumber: `EX-${index + 1}`,
      modelCode: 'AR-5',
      marketRegionCode: 'DE',
    }));
    expect(await registerManifest(client, partnerId, devices)).toBe(120);
    const attemptId = await lockDevice(7);

    const seen: string[] = [];
    let attemptOfSeven: string | undefined;
    for await (const device of allDevices(client, 50)) {
      seen.push(device.imei);
      if (device.imei === imei(7)) attemptOfSeven = device.attempts.nodes[0]?.id;
    }
    expect(seen.sort()).toEqual(devices.map((device) => device.imei).sort());
    expect(attemptOfSeven).toBe(attemptId);

    const evidence = await explainAttempt(client, attemptId);
    expect(evidence[0]).toMatch(/^LOCK in CU \(.*POLICY:export-restricted-territories/);
    expect(evidence).toContain('signal GPS: GPS_IN_REGION CU');
    expect(evidence).toContainEqual(
      expect.stringMatching(/^policy export-restricted-territories: APPLIES \(applies\)$/),
    );
  });

  it('reports userErrors of a refused manifest, naming each bad row, and registers nothing', async () => {
    const client = new PartnerClient({ url, apiKey: partnerKey, fallbackToText: false });
    const bad = [
      { imei: imei(500), serialNumber: 'EX-500', modelCode: 'AR-5', marketRegionCode: 'DE' },
      { imei: '352918117005001', serialNumber: 'EX-501', modelCode: 'AR-5', marketRegionCode: 'DE' },
    ];
    const refused = await registerManifest(client, partnerId, bad).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UserErrorsError);
    expect((refused as UserErrorsError).userErrors).toMatchObject([
      { field: ['input', 'devices', '1', 'imei'], code: 'INVALID_CHECKSUM' },
    ]);
    let count = 0;
    for await (const _device of allDevices(client)) count += 1;
    expect(count).toBe(120);
  });

  it('decides an activation once however often the gateway retries it', async () => {
    const key = await asAdmin(`mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`, {
      input: { name: 'example-gateway', role: 'GATEWAY', registeredOperationsOnly: true },
    });
    const gateway = new PartnerClient({ url, apiKey: key.createApiKey.secret, fallbackToText: false });
    const activation = { id: 'a-1', imei: imei(30), signals: HAVANA };
    const first = await decideIdempotently(gateway, activation);
    const again = await decideIdempotently(gateway, activation);
    expect(first.decision).toMatchObject({ outcome: 'LOCK', enforced: true });
    expect(again.attempt!.id).toBe(first.attempt!.id);
  });

  it('waits out 429 answers and gets every request through', async () => {
    const limitedUrl = await serve({ rateLimits: { ...settings.rateLimits, perSecond: 4 } });
    const client = new PartnerClient({ url: limitedUrl, apiKey: partnerKey, fallbackToText: false, baseDelayMs: 100 });
    const started = Date.now();
    const pages = await Promise.all(Array.from({ length: 10 }, () => allDevices(client, 1).next()));
    expect(pages.every((page) => page.value?.imei)).toBe(true);
    expect(client.rateLimitedCount).toBeGreaterThan(0);
    // 10 requests at 4 a second take at least two more windows.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });
});

describe('webhook receivers', () => {
  let tsServer: HttpsServer;
  let python: ChildProcess;
  const pythonLines: Record<string, unknown>[] = [];
  const handledByTs: WebhookEvent[] = [];
  let tsSecret: string;
  let pythonSecret: string;
  let pythonUrl: string;
  let tsUrl: string;

  beforeAll(async () => {
    // Events from before the endpoints exist go nowhere (fanned out to no endpoint).
    await deliverAll();
    // The secret is known once the endpoint is registered, and the endpoint needs the address first.
    let receive: ReturnType<typeof webhookReceiver> | null = null;
    tsServer = createHttpsServer(
      { key: readFileSync(certificate.key), cert: readFileSync(certificate.cert) },
      (request, response) => receive!(request, response),
    );
    await new Promise<void>((resolve) => tsServer.listen(0, '127.0.0.1', resolve));
    tsUrl = `https://localhost:${(tsServer.address() as AddressInfo).port}/hooks`;
    tsSecret = await createEndpoint(tsUrl);
    receive = webhookReceiver({ secret: tsSecret, onEvent: (event) => void handledByTs.push(event) });

    // The Python receiver takes its secret at start: register on a free port, then start it there.
    const port = await freePort();
    pythonUrl = `https://localhost:${port}/hooks`;
    pythonSecret = await createEndpoint(pythonUrl);
    python = spawn(
      'python3',
      [
        join(ROOT, 'examples', 'webhook-receiver', 'receiver.py'),
        '--secret',
        pythonSecret,
        '--cert',
        certificate.cert,
        '--key',
        certificate.key,
        '--port',
        String(port),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: python.stdout! });
    await new Promise<void>((resolve) => {
      lines.on('line', (line) => {
        const parsed = JSON.parse(line);
        if ('listening' in parsed) resolve();
        else pythonLines.push(parsed);
      });
    });
  });
  afterAll(async () => {
    python?.kill();
    tsServer?.closeAllConnections();
    await new Promise((resolve) => tsServer?.close(resolve));
  });

  /** The Python receiver's report lines, once it has printed `count` of them (stdout trails the HTTP answer). */
  async function pythonReport(count: number) {
    for (let waited = 0; pythonLines.length < count && waited < 5_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    return pythonLines;
  }

  /** POSTs a body to a receiver with a given signature header, as an attacker or a replaying proxy would. */
  async function postTo(receiverUrl: string, body: string, signature: string) {
    const { request } = await import('node:https');
    return new Promise<number>((resolve, reject) => {
      const outgoing = request(
        receiverUrl,
        {
          method: 'POST',
          ca: readFileSync(certificate.cert),
          headers: { 'content-type': 'application/json', 'x-compliance-signature': signature },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode!);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  it('accept a real delivery once, and a redelivery of it as a duplicate', async () => {
    await lockDevice(21);
    await deliverAll();
    expect(handledByTs.map((event) => event.type)).toEqual(['DEVICE_LOCKED']);
    const eventId = handledByTs[0].id;
    expect(await pythonReport(1)).toEqual([{ result: 'accepted', id: eventId, type: 'DEVICE_LOCKED' }]);

    // The server redelivers both deliveries of the event: the receivers recognise the event id.
    const deliveries = await asAdmin(`{ webhookDeliveries(first: 10) { nodes { id status } } }`);
    for (const delivery of deliveries.webhookDeliveries.nodes) {
      expect(delivery.status).toBe('DELIVERED');
      await asAdmin(`mutation ($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) { userErrors { message } } }`, {
        id: delivery.id,
      });
    }
    await deliverAll();
    expect(handledByTs).toHaveLength(1);
    expect((await pythonReport(2)).slice(1)).toEqual([{ result: 'duplicate', id: eventId }]);
  });

  it('reject a forged body, a wrong secret and a signature older than the tolerance', async () => {
    const body = JSON.stringify({
      id: 'UGFydG5lckV2ZW50Ojk5OQ',
      type: 'DEVICE_UNLOCKED',
      occurredAt: new Date().toISOString(),
      data: {},
    });
    const now = Math.floor(Date.now() / 1000);
    for (const [receiverUrl, secret] of [
      [tsUrl, tsSecret],
      [pythonUrl, pythonSecret],
    ]) {
      expect(await postTo(receiverUrl, body, signatureHeader('whsec_wrong', body, now))).toBe(400);
      expect(await postTo(receiverUrl, body.replace('UNLOCKED', 'LOCKED'), signatureHeader(secret, body, now))).toBe(
        400,
      );
      expect(await postTo(receiverUrl, body, signatureHeader(secret, body, now - 301))).toBe(400);
      expect(await postTo(receiverUrl, body, signatureHeader(secret, body, now))).toBe(200);
      expect(await postTo(receiverUrl, body, signatureHeader(secret, body, now))).toBe(200); // replay: a duplicate
    }
    expect(handledByTs.map((event) => event.type)).toEqual(['DEVICE_LOCKED', 'DEVICE_UNLOCKED']);
    expect((await pythonReport(7)).slice(2)).toEqual([
      { result: 'rejected', reason: 'bad signature' },
      { result: 'rejected', reason: 'bad signature' },
      { result: 'rejected', reason: 'bad signature' },
      { result: 'accepted', id: 'UGFydG5lckV2ZW50Ojk5OQ', type: 'DEVICE_UNLOCKED' },
      { result: 'duplicate', id: 'UGFydG5lckV2ZW50Ojk5OQ' },
    ]);
  });
});
