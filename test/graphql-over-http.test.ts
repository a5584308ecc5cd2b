/**
 * GraphQL over HTTP as the specification says (graphql-http's conformance audit, run against the
 * real server), queries over GET without opening a way to cross-site requests, and documents or
 * bodies that cannot be parsed answered as the client's error.
 */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { auditServer } from 'graphql-http';
import { App, createApp } from '../src/app';
import { Settings } from '../src/config';
import { createLogger } from '../src/ops/logger';
import { openTestDatabase, TestDatabase } from './support/database';

const ADMIN_KEY = 'cgk_http-conformance-admin-key-0123456789abcdef';
let database: TestDatabase;
let app: App;
let url: string;
/** What the server logged, one parsed JSON line each. */
const logged: Record<string, any>[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  // The audit sends some sixty requests at once; rate limits have their own tests.
  const settings: Settings = {
    ...database.settings,
    adminKey: ADMIN_KEY,
    rateLimits: { ...database.settings.rateLimits, perSecond: 100_000, anonymousPerSecond: 100_000 },
  };
  const logger = createLogger('info', { write: (line: string) => logged.push(JSON.parse(line)) });
  app = await createApp(database.dataSource, { ...settings, limits: { ...settings.limits, maxTokens: 100 } }, logger);
  const server: Server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await app.apollo.stop();
  await database.close();
});

/** fetch with the caller's API key, as every client of this API sends it. */
const withKey: typeof fetch = (input, init = {}) =>
  fetch(input, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${ADMIN_KEY}` },
  });

async function failedAudits(fetchFn: typeof fetch, levels: RegExp) {
  const results = await auditServer({ url, fetchFn });
  const failed = [];
  for (const result of results) {
    if (result.status === 'ok' || !levels.test(result.name)) continue;
    failed.push({ id: result.id, name: result.name, reason: result.reason });
  }
  return failed;
}

describe('the GraphQL-over-HTTP conformance audit (graphql-http)', () => {
  it('passes every MUST and SHOULD audit, and every MAY, for a client with an API key', async () => {
    expect(await failedAudits(withKey, /^(MUST|SHOULD|MAY)/)).toEqual([]);
  });

  it('passes every MUST and SHOULD audit for a client without a key (introspection only)', async () => {
    expect(await failedAudits(fetch, /^(MUST|SHOULD)/)).toEqual([]);
    // The MAY audits that fail are the GETs without any header a browser could not send cross-site:
    // CSRF prevention refuses them (listed in the README).
    expect((await failedAudits(fetch, /^MAY/)).map((audit) => audit.id).sort()).toEqual(['5A70', '6A70', 'D6D5']);
  });
});

const JSON_TYPE = 'application/json';
const GRAPHQL_RESPONSE = 'application/graphql-response+json';

async function post(body: string, accept?: string, key: string | null = ADMIN_KEY) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(accept ? { accept } : {}),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as any };
}

const codesOf = (body: any) => body.errors?.map((error: any) => error.extensions?.code);
const linesAbout = (message: string) => logged.filter((line) => line.msg === message);

describe("documents and bodies that cannot be parsed are the client's error", () => {
  const overTokenLimit = `{ ${Array.from({ length: 120 }, () => '__typename').join(' ')} }`;

  it.each([
    ['a syntax error', '{ devices { nodes { imei }'],
    ['a document over the token limit', overTokenLimit],
  ])(
    '%s: GRAPHQL_PARSE_FAILED, 200 under application/json and 400 under graphql-response+json, a warning without a stack',
    async (_, query) => {
      const before = linesAbout('document refused while parsing').length;
      for (const [accept, status, type] of [
        [undefined, 200, JSON_TYPE],
        [JSON_TYPE, 200, JSON_TYPE],
        [GRAPHQL_RESPONSE, 400, GRAPHQL_RESPONSE],
        [`${GRAPHQL_RESPONSE}, ${JSON_TYPE};q=0.9`, 400, GRAPHQL_RESPONSE],
      ] as const) {
        const answer = await post(JSON.stringify({ query }), accept);
        expect({ accept, status: answer.status, type: answer.type?.split(';')[0] }).toEqual({ accept, status, type });
        expect(answer.body.data).toBeUndefined();
        expect(codesOf(answer.body)).toEqual(['GRAPHQL_PARSE_FAILED']);
      }
      const warnings = linesAbout('document refused while parsing').slice(before);
      expect(warnings).toHaveLength(4);
      for (const warning of warnings) {
        expect(warning.level).toBe(40);
        expect(JSON.stringify(warning)).not.toMatch(/\n\s+at |__typename|devices/);
      }
      expect(logged.filter((line) => line.level >= 50)).toEqual([]);
    },
  );

  it('the token limit names itself', async () => {
    const answer = await post(JSON.stringify({ query: overTokenLimit }));
    expect(answer.body.errors[0].message).toMatch(/more tha[nt] 100 tokens/);
  });

  it('validation and variable errors: 200 under application/json, 400 under graphql-response+json', async () => {
    const cases = [
      [{ query: '{ noSuchField }' }, 'GRAPHQL_VALIDATION_FAILED'],
      [
        { query: 'query ($first: Int!) { regions(first: $first) { totalCount } }', variables: { first: 'x' } },
        'BAD_USER_INPUT',
      ],
      [{ query: 'query A { __typename }', operationName: 'B' }, 'OPERATION_RESOLUTION_FAILURE'],
    ] as const;
    for (const [body, code] of cases) {
      const legacy = await post(JSON.stringify(body), JSON_TYPE);
      expect({ code: codesOf(legacy.body)[0], status: legacy.status }).toEqual({ code, status: 200 });
      const modern = await post(JSON.stringify(body), GRAPHQL_RESPONSE);
      expect({ code: codesOf(modern.body)[0], status: modern.status }).toEqual({ code, status: 400 });
    }
  });

  it('a body that is not JSON: 400 GRAPHQL_PARSE_FAILED under both media types, a warning that does not quote it', async () => {
    const before = logged.length;
    for (const accept of [JSON_TYPE, GRAPHQL_RESPONSE]) {
      const answer = await post('{ "query": "{ secretCoordinate44.95 ', accept);
      expect(answer.status).toBe(400);
      expect(answer.type?.split(';')[0]).toBe(accept);
      expect(codesOf(answer.body)).toEqual(['GRAPHQL_PARSE_FAILED']);
      expect(answer.body.errors[0].message).toMatch(/^the request body is not valid JSON/);
    }
    const lines = logged.slice(before).filter((line) => line.msg === 'request refused before GraphQL');
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.level === 40)).toBe(true);
    expect(JSON.stringify(logged.slice(before))).not.toMatch(/secretCoordinate|44\.95|\n\s+at /);
  });
});

describe('queries over GET', () => {
  const get = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${url}?${new URLSearchParams({ query })}`, { headers });

  it('runs a query for a client with a key, and never a mutation', async () => {
    const query = await get('{ viewer { role } }', { authorization: `Bearer ${ADMIN_KEY}` });
    expect(query.status).toBe(200);
    expect(await query.json()).toMatchObject({ data: { viewer: { role: 'ADMIN' } } });
    const mutation = await get('mutation { revokeApiKey(input: { id: "x" }) { userErrors { code } } }', {
      authorization: `Bearer ${ADMIN_KEY}`,
    });
    expect(mutation.status).toBe(405);
    expect(mutation.headers.get('allow')).toBe('POST');
  });

  it('answers without an ETag, over GET as over POST: an answer depends on the key and is never revalidated', async () => {
    const authorization = `Bearer ${ADMIN_KEY}`;
    const query = await get('{ viewer { role } }', { authorization });
    const posted = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE, authorization },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    for (const answer of [query, posted]) {
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ data: { viewer: { role: 'ADMIN' } } });
      expect(answer.headers.get('etag')).toBeNull();
    }
  });

  it('refuses a GET a page on another site could make (no key, no preflighted header): CSRF prevention', async () => {
    const forged = await get('{ __typename }');
    expect(forged.status).toBe(400);
    expect((await forged.text()).toLowerCase()).toContain('csrf');
  });

  it('still gives a browser the IDE page', async () => {
    const page = await fetch(url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>compliance-graph — GraphQL IDE</title>');
  });
});
