/** API keys, limits and the IDE's prefilled key, through real HTTP requests. */
import { Server, request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { App, createApp } from '../src/app';
import { ApiKey } from '../src/auth/api-key.entity';
import { ApiKeyAuthenticator } from '../src/auth/api-key.service';
import { Settings } from '../src/config';
import { openTestDatabase, TestDatabase } from './support/database';

const ADMIN_KEY = 'cgk_bootstrap-admin-key-for-tests-0123456789abcdef';
let database: TestDatabase;

interface Running {
  app: App;
  origin: string;
  close(): Promise<void>;
}

async function start(overrides: Partial<Settings> = {}): Promise<Running> {
  const settings: Settings = { ...database.settings, adminKey: ADMIN_KEY, ...overrides };
  const app = await createApp(database.dataSource, settings);
  const server: Server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    app,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => app.apollo.stop(),
  };
}

async function post(origin: string, body: unknown, key?: string | null, headers: Record<string, string> = {}) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const codesOf = (body: any): unknown[] => (body.errors ?? []).map((error: any) => error.extensions?.code);

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

describe('API keys over HTTP', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  const createKey = async (input: Record<string, unknown>) => {
    const { body } = await post(
      server.origin,
      {
        query: `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name role prefix } userErrors { field code } } }`,
        variables: { input },
      },
      ADMIN_KEY,
    );
    return body.data.createApiKey;
  };

  it('refuses everything but introspection without a key', async () => {
    const devices = await post(server.origin, { query: '{ devices { totalCount } }' });
    expect(codesOf(devices.body)).toEqual(['UNAUTHENTICATED']);
    const introspection = await post(server.origin, { query: '{ __schema { queryType { name } } }' });
    expect(introspection.body).toMatchObject({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('refuses a malformed header and an unknown key with 401, before running anything', async () => {
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer cgk_not-a-key']) {
      const response = await post(server.origin, { query: '{ __typename }' }, null, { authorization });
      expect(response.status).toBe(401);
      expect(codesOf(response.body)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('creates a key whose secret is shown once and stored only as a digest', async () => {
    const created = await createKey({ name: 'analyst-1', role: 'ANALYST' });
    expect(created.userErrors).toEqual([]);
    expect(created.secret).toMatch(/^cgk_[\w-]{43}$/);
    expect(created.secret.startsWith(created.apiKey.prefix)).toBe(true);
    const rows = await database.dataSource.query('SELECT * FROM api_key');
    expect(JSON.stringify(rows)).not.toContain(created.secret);

    const viewer = await post(
      server.origin,
      { query: '{ viewer { name role apiKey { id lastUsedAt } } }' },
      created.secret,
    );
    expect(viewer.body.data.viewer).toMatchObject({
      name: 'analyst-1',
      role: 'ANALYST',
      apiKey: { id: created.apiKey.id },
    });
    // The use is recorded in the background.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [stored] = await database.dataSource.getRepository(ApiKey).findBy({ name: 'analyst-1' });
    expect(stored.lastUsedAt).not.toBeNull();

    const listed = await post(server.origin, { query: '{ apiKeys { nodes { name } } }' }, created.secret);
    expect(codesOf(listed.body)).toEqual(['FORBIDDEN']);
  });

  it('checks a new key: partner required for PARTNER only, expiry in the future', async () => {
    expect((await createKey({ name: 'p', role: 'PARTNER' })).userErrors).toEqual([
      { field: ['input', 'partnerId'], code: 'REQUIRED' },
    ]);
    expect((await createKey({ name: 'x', role: 'ANALYST', expiresAt: '2020-01-01T00:00:00Z' })).userErrors).toEqual([
      { field: ['input', 'expiresAt'], code: 'INVALID' },
    ]);
    expect((await createKey({ name: '', role: 'ANALYST' })).userErrors).toEqual([
      { field: ['input', 'name'], code: 'INVALID' },
    ]);
    const count = await database.dataSource.getRepository(ApiKey).count();
    expect(count).toBe(1); // only analyst-1
  });

  it('refuses a revoked key from the next request on, and audits both changes with the actor key', async () => {
    const created = await createKey({ name: 'gateway-1', role: 'GATEWAY' });
    expect((await post(server.origin, { query: '{ viewer { role } }' }, created.secret)).status).toBe(200);
    const revoked = await post(
      server.origin,
      {
        query: `mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } userErrors { code } } }`,
        variables: { id: created.apiKey.id },
      },
      ADMIN_KEY,
    );
    expect(revoked.body.data.revokeApiKey.apiKey.revokedAt).not.toBeNull();
    const refused = await post(server.origin, { query: '{ viewer { role } }' }, created.secret);
    expect(refused.status).toBe(401);
    expect(refused.body.errors[0].message).toMatch(/revoked/);

    const again = await post(
      server.origin,
      {
        query: `mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { userErrors { code } } }`,
        variables: { id: created.apiKey.id },
      },
      ADMIN_KEY,
    );
    expect(again.body.data.revokeApiKey.userErrors).toEqual([{ code: 'INVALID_STATE' }]);

    const audit = await post(
      server.origin,
      {
        query: `query ($id: ID!) { auditEvents(filter: { targetId: $id }) { nodes { action actor actorRole after } } }`,
        variables: { id: created.apiKey.id },
      },
      ADMIN_KEY,
    );
    const events = audit.body.data.auditEvents.nodes;
    expect(events.map((event: any) => event.action)).toEqual(['apiKey.revoke', 'apiKey.create']);
    expect(events[0]).toMatchObject({ actor: 'bootstrap admin (ADMIN)', actorRole: 'ADMIN' });
    expect(JSON.stringify(events)).not.toContain(created.secret);
    expect(JSON.stringify(events)).not.toContain('secretHash');
  });

  it('records which key made a change', async () => {
    const author = await createKey({ name: 'author-1', role: 'ADMIN' });
    await post(
      server.origin,
      { query: 'mutation { createPartner(input: { name: "Audited", kind: CARRIER }) { partner { id } } }' },
      author.secret,
    );
    const audit = await post(
      server.origin,
      {
        query: `query ($id: ID!) { auditEvents(filter: { actorKeyId: $id }) { nodes { action actor actorRole actorKeyId } } }`,
        variables: { id: author.apiKey.id },
      },
      ADMIN_KEY,
    );
    expect(audit.body.data.auditEvents.nodes).toEqual([
      { action: 'partner.create', actor: 'author-1 (ADMIN)', actorRole: 'ADMIN', actorKeyId: author.apiKey.id },
    ]);
  });

  it('refuses an expired key', async () => {
    const created = await createKey({
      name: 'short-lived',
      role: 'SUPPORT',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    const authenticator = new ApiKeyAuthenticator(database.dataSource, undefined);
    await expect(authenticator.authenticate(created.secret)).resolves.toMatchObject({ role: 'SUPPORT' });
    await expect(authenticator.authenticate(created.secret, Date.now() + 61_000)).rejects.toThrow(/expired/);
  });
});

describe('limits on documents', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start({
      limits: {
        maxDepth: 5,
        maxCost: 1_000,
        maxAliases: 3,
        maxDirectives: 2,
        maxTokens: 60,
        maxBatchSize: 2,
        maxCostNodes: 10_000,
      },
    });
  });
  afterAll(() => server.close());
  const run = (query: string, variables?: unknown) => post(server.origin, { query, variables }, ADMIN_KEY);

  it('depth: just under passes, just over is refused', async () => {
    expect((await run('{ devices { nodes { model { devices { totalCount } } } } }')).body.errors).toBeUndefined();
    const over = await run('{ devices { nodes { model { devices { nodes { id } } } } } }');
    expect(over.body.errors[0].message).toMatch(/depth limit of 5/);
    expect(codesOf(over.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('aliases: just under passes, just over is refused', async () => {
    expect(
      (await run('{ a: regions { totalCount } b: regions { totalCount } c: regions { totalCount } }')).body.errors,
    ).toBeUndefined();
    const over = await run(
      '{ a: regions { totalCount } b: regions { totalCount } c: regions { totalCount } d: regions { totalCount } }',
    );
    expect(over.body.errors[0].message).toMatch(/Aliases limit of 3/i);
  });

  it('directives: just under passes, just over is refused', async () => {
    expect((await run('{ __typename @skip(if: false) @include(if: true) }')).body.errors).toBeUndefined();
    const over = await run('{ __typename @skip(if: false) @include(if: true) @skip(if: false) }');
    expect(over.body.errors[0].message).toMatch(/Directives limit of 2/i);
  });

  it('tokens: just under passes, just over is refused', async () => {
    const fields = (count: number) => `{ ${Array.from({ length: count }, () => '__typename').join(' ')} }`;
    expect((await run(fields(58))).body.errors).toBeUndefined();
    const over = await run(fields(59));
    expect(over.body.errors[0].message).toMatch(/more tha[nt] 60 tokens/);
    expect(codesOf(over.body)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('cost: page sizes multiply; just under passes, just over is refused, before anything runs', async () => {
    // devices(first: 10) × (nodes + attempts) × (inner × (nodes + id + outcome)): 1 + 10 × (2 + inner × 3),
    // 981 for 32 attempts a device, 1011 for 33.
    const query = `query ($outer: Int!, $inner: Int!) { devices(first: $outer) { nodes { attempts(first: $inner) { nodes { id outcome } } } } }`;
    expect((await run(query, { outer: 10, inner: 32 })).body.errors).toBeUndefined();
    const over = await run(query, { outer: 10, inner: 33 });
    expect(over.status).toBe(400);
    expect(codesOf(over.body)).toEqual(['QUERY_TOO_COSTLY']);
    expect(over.body.errors[0].extensions).toMatchObject({ maxCost: 1000 });
  });

  it('batches: up to the limit run, one more is refused whole', async () => {
    const op = { query: '{ __typename }' };
    const two = await post(server.origin, [op, op], ADMIN_KEY);
    expect(two.body).toMatchObject([{ data: { __typename: 'Query' } }, { data: { __typename: 'Query' } }]);
    const three = await post(server.origin, [op, op, op], ADMIN_KEY);
    expect(three.status).toBe(400);
    expect(codesOf(three.body)).toEqual(['BATCH_TOO_LARGE']);
  });

  it('batches: the operations share one budget, and a batch over it is refused whole before anything runs', async () => {
    // 471 and 501 each (see above): two of the first fit in 1,000, two of the second do not.
    const query = `query ($outer: Int!, $inner: Int!) { devices(first: $outer) { nodes { attempts(first: $inner) { nodes { id outcome } } } } }`;
    const fits = await post(
      server.origin,
      [15, 15].map((inner) => ({ query, variables: { outer: 10, inner } })),
      ADMIN_KEY,
    );
    expect(fits.status).toBe(200);
    expect(fits.body.map((result: any) => result.errors)).toEqual([undefined, undefined]);
    const over = await post(
      server.origin,
      [16, 16].map((inner) => ({ query, variables: { outer: 10, inner } })),
      ADMIN_KEY,
    );
    expect(over.status).toBe(400);
    expect(codesOf(over.body)).toEqual(['QUERY_TOO_COSTLY']);
    expect(over.body.errors[0].extensions).toMatchObject({ cost: 1002, maxCost: 1000 });
  });

  it('page size: over the maximum names the argument', async () => {
    const over = await run('{ regions(first: 101) { totalCount } }');
    expect(codesOf(over.body)).toEqual(['BAD_USER_INPUT']);
    expect(over.body.errors[0].message).toMatch(/first/);
  });
});

describe('the cost limit fails closed', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start({ limits: { ...database.settings.limits, maxBatchSize: 10 } });
  });
  afterAll(() => server.close());

  /**
   * Pages of 100 × 100 × 100 attempts whose innermost selection spreads a fragment of 300 fields
   * `spreads` times: a few hundred tokens that the estimator visits spreads × 300 times.
   */
  const nestedSpreads = (spreads: number) =>
    `{ devices(first: 100) { nodes { attempts(first: 100) { nodes { device { attempts(first: 100) { nodes { ${'...F '.repeat(spreads)} } } } } } } } }` +
    ` fragment F on ActivationAttempt { ${'id '.repeat(300)} }`;

  it('refuses a document the estimator gives up on (nested fragment spreads), with 400 and QUERY_TOO_COSTLY', async () => {
    const refused = await post(server.origin, { query: nestedSpreads(40) }, ADMIN_KEY);
    expect(refused.status).toBe(400);
    expect(refused.body.data).toBeUndefined();
    expect(codesOf(refused.body)).toEqual(['QUERY_TOO_COSTLY']);
    expect(refused.body.errors[0].extensions).toMatchObject({ maxCostNodes: 10_000 });
    // Under the node cap the same shape is measured, and its pages of 100 × 100 × 100 are over the cost.
    const measured = await post(server.origin, { query: nestedSpreads(1) }, ADMIN_KEY);
    expect(measured.status).toBe(400);
    expect(codesOf(measured.body)).toEqual(['QUERY_TOO_COSTLY']);
    expect(measured.body.errors[0].extensions.cost).toBeGreaterThan(1_000_000);
  });

  it('takes the node cap from the configuration', async () => {
    const small = await start({ limits: { ...database.settings.limits, maxCostNodes: 100 } });
    try {
      const fields = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: __typename`).join(' ')} }`;
      expect((await post(small.origin, { query: fields(19) }, ADMIN_KEY)).body.errors).toBeUndefined();
      const wide = `{ devices(first: 1) { nodes { ${Array.from({ length: 120 }, () => 'imei').join(' ')} } } }`;
      const refused = await post(small.origin, { query: wide }, ADMIN_KEY);
      expect(codesOf(refused.body)).toEqual(['QUERY_TOO_COSTLY']);
      expect(refused.body.errors[0].extensions).toMatchObject({ maxCostNodes: 100 });
    } finally {
      await small.close();
    }
  });

  it('gives a batch of ten one budget, not ten; a batch hiding a document the estimator gives up on is refused', async () => {
    // 1 + 100 × (1 + (1 + 12 × 2)) = 2,601 each: nine fit in 25,000, ten do not.
    const operation = { query: '{ devices(first: 100) { nodes { attempts(first: 12) { nodes { id } } } } }' };
    const nine = await post(server.origin, Array(9).fill(operation), ADMIN_KEY);
    expect(nine.status).toBe(200);
    expect(nine.body).toHaveLength(9);
    const ten = await post(server.origin, Array(10).fill(operation), ADMIN_KEY);
    expect(ten.status).toBe(400);
    expect(codesOf(ten.body)).toEqual(['QUERY_TOO_COSTLY']);
    expect(ten.body.errors[0].extensions).toMatchObject({ cost: 26_010, maxCost: 25_000 });
    const hidden = await post(server.origin, [{ query: '{ __typename }' }, { query: nestedSpreads(40) }], ADMIN_KEY);
    expect(hidden.status).toBe(400);
    expect(codesOf(hidden.body)).toEqual(['QUERY_TOO_COSTLY']);
  });

  it('leaves variables that do not fit their types to execution, which names them and runs nothing', async () => {
    const result = await post(
      server.origin,
      { query: 'query ($first: Int!) { devices(first: $first) { totalCount } }', variables: { first: 'many' } },
      ADMIN_KEY,
    );
    expect(codesOf(result.body)).toEqual(['BAD_USER_INPUT']);
    expect(result.body.errors[0].message).toMatch(/\$first/);
  });
});

describe('rate limits', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start({
      rateLimits: { perSecond: 3, gatewayPerSecond: 6, anonymousPerSecond: 2, registrationConflictsPerDay: 100 },
    });
  });
  afterAll(() => server.close());

  it('answers 429 with when to retry once a key spends its budget; a gateway key has its own, larger one', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await post(server.origin, { query: '{ __typename }' }, ADMIN_KEY)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await post(server.origin, { query: '{ __typename }' }, ADMIN_KEY);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });

    const created = await post(
      server.origin,
      { query: 'mutation { createApiKey(input: { name: "gw", role: GATEWAY }) { secret } }' },
      ADMIN_KEY,
    ).catch(() => null);
    // The admin key is spent for this second: wait for the next window.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const gateway = (
      await post(
        server.origin,
        { query: 'mutation { createApiKey(input: { name: "gw", role: GATEWAY }) { secret } }' },
        ADMIN_KEY,
      )
    ).body.data.createApiKey.secret;
    expect(created?.status).toBe(429);
    const gatewayStatuses: number[] = [];
    for (let i = 0; i < 7; i++)
      gatewayStatuses.push((await post(server.origin, { query: '{ viewer { role } }' }, gateway)).status);
    expect(gatewayStatuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
  });

  it('limits anonymous callers by address', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(server.origin, { query: '{ __typename }' })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('production mode', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start({ production: true, introspection: false });
  });
  afterAll(() => server.close());

  it('hides field suggestions', async () => {
    const result = await post(server.origin, { query: '{ devicez { totalCount } }' }, ADMIN_KEY);
    expect(result.body.errors[0].message).not.toMatch(/Did you mean/);
  });

  it('can switch introspection off', async () => {
    const result = await post(server.origin, { query: '{ __schema { queryType { name } } }' }, ADMIN_KEY);
    expect(codesOf(result.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('never puts a key into the IDE page', async () => {
    const page = await (await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(page).not.toContain(ADMIN_KEY);
  });
});

describe('the IDE page outside production', () => {
  let server: Running;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  it('comes with the admin key for this machine only, and is not cached', async () => {
    const local = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(local.headers.get('cache-control')).toBe('no-store');
    expect(await local.text()).toContain(ADMIN_KEY);
    const proxied = await fetch(`${server.origin}/graphql`, {
      headers: { accept: 'text/html', 'x-forwarded-for': '203.0.113.9' },
    });
    expect(await proxied.text()).not.toContain(ADMIN_KEY);
  });

  /** GET /graphql for a browser with a Host header of our choosing (fetch may not set one). */
  function pageWithHost(host: string | null): Promise<string> {
    const { port } = new URL(server.origin);
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: '127.0.0.1', port, path: '/graphql', headers: { accept: 'text/html' }, setHost: host !== null },
        (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve(body));
        },
      );
      if (host !== null) request.setHeader('host', host);
      request.on('error', reject);
      request.end();
    });
  }

  it('keeps the key from pages whose Host is not this machine at this port (DNS rebinding)', async () => {
    const { port } = new URL(server.origin);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect([host, (await pageWithHost(host)).includes(ADMIN_KEY)]).toEqual([host, true]);
    }
    const foreign = [
      `attacker.example:${port}`,
      `localhost.attacker.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      `localhost:${Number(port) + 1}`,
      'localhost',
      '127.0.0.1:',
      `127.0.0.1:${port}@attacker.example`,
    ];
    for (const host of foreign) {
      expect([host, (await pageWithHost(host)).includes(ADMIN_KEY)]).toEqual([host, false]);
    }
  });

  it('shows field suggestions to developers', async () => {
    const result = await post(server.origin, { query: '{ devicez { totalCount } }' }, ADMIN_KEY);
    expect(result.body.errors[0].message).toMatch(/Did you mean .*"devices"/);
  });
});
