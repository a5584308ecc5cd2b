/**
 * Persisted operations over real HTTP: a manifest registered by an ADMIN, all or nothing; operations
 * sent by hash in Apollo's and in GraphQL-over-HTTP's form; keys held to registered operations.
 */
import { createHash } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { App, createApp } from '../src/app';
import { Settings } from '../src/config';
import { PersistedOperation } from '../src/persisted-operations/persisted-operation.entity';
import { openTestDatabase, TestDatabase } from './support/database';
import { rowCounts } from './support/row-counts';

const ADMIN_KEY = 'cgk_persisted-operations-admin-key-0123456789abcdef';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const VIEWER = 'query Viewer { viewer { name role } }';
const REGION = 'query Region($code: String!) { region(code: $code) { code name } }';
const REGISTER = `mutation ($input: RegisterPersistedOperationsInput!) {
  registerPersistedOperations(input: $input) { registeredCount alreadyRegisteredCount userErrors { field code message } }
}`;

let database: TestDatabase;
let app: App;
let settings: Settings;
let origin: string;

async function post(body: unknown, key: string = ADMIN_KEY) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const byHash = (query: string, variables?: object) => ({
  variables,
  extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } },
});

async function register(operations: { id: string; body: string }[], clientName = 'partner-portal') {
  const result = await post({ query: REGISTER, variables: { input: { clientName, operations } } });
  expect(result.body.errors).toBeUndefined();
  return result.body.data.registerPersistedOperations;
}

async function createKey(input: Record<string, unknown>): Promise<{ secret: string; restricted: boolean }> {
  const result = await post({
    query: `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { registeredOperationsOnly } userErrors { message } } }`,
    variables: { input },
  });
  const payload = result.body.data.createApiKey;
  return { secret: payload.secret, restricted: payload.apiKey.registeredOperationsOnly };
}

beforeAll(async () => {
  database = await openTestDatabase();
  settings = { ...database.settings, adminKey: ADMIN_KEY };
  app = await createApp(database.dataSource, settings);
  const server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.apollo.stop();
  await database.close();
});

describe('registering a manifest', () => {
  it('registers every operation, and again is a no-op', async () => {
    const manifest = [VIEWER, REGION].map((body) => ({ id: sha256(body), body }));
    expect(await register(manifest)).toEqual({ registeredCount: 2, alreadyRegisteredCount: 0, userErrors: [] });
    expect(await register(manifest)).toEqual({ registeredCount: 0, alreadyRegisteredCount: 2, userErrors: [] });
    const rows = await database.dataSource.getRepository(PersistedOperation).find({ order: { id: 'ASC' } });
    expect(rows.map((row) => [row.documentId, row.clientName, row.createdBy])).toEqual([
      [sha256(VIEWER), 'partner-portal', 'bootstrap admin (ADMIN)'],
      [sha256(REGION), 'partner-portal', 'bootstrap admin (ADMIN)'],
    ]);
  });

  it('registers nothing of a manifest with an invalid operation, naming each', async () => {
    const fresh = 'query Fresh { viewer { role } }';
    const unknownField = 'query Bad { viewer { secretSauce } }';
    const broken = 'query { viewer {';
    const before = await rowCounts(database.dataSource);
    const result = await register([
      { id: sha256(fresh), body: fresh },
      { id: sha256(unknownField), body: unknownField },
      { id: sha256(broken), body: broken },
      { id: sha256(VIEWER), body: `${VIEWER} ` },
      { id: sha256(fresh), body: fresh },
      { id: 'abc', body: fresh },
    ]);
    expect(result.registeredCount).toBeNull();
    expect(result.userErrors).toEqual([
      {
        field: ['input', 'operations', '1', 'body'],
        code: 'INVALID_OPERATION',
        message: 'body is not a valid operation: Cannot query field "secretSauce" on type "Viewer".',
      },
      {
        field: ['input', 'operations', '2', 'body'],
        code: 'INVALID_OPERATION',
        message: 'body does not parse: Syntax Error: Expected Name, found <EOF>.',
      },
      {
        field: ['input', 'operations', '3', 'id'],
        code: 'HASH_MISMATCH',
        message: 'id is not the SHA-256 hash of body',
      },
      {
        field: ['input', 'operations', '4', 'id'],
        code: 'DUPLICATE',
        message: 'the operation is listed twice (first at 0)',
      },
      { field: ['input', 'operations', '5', 'id'], code: 'INVALID', message: 'id must be a SHA-256 hash in hex' },
    ]);
    expect(await rowCounts(database.dataSource)).toEqual(before);
    expect((await post(byHash(fresh))).body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses an operation over the query limits', async () => {
    const deep = `query Deep { ${'region(code: "DE") { parent { '.repeat(7)}code${' } }'.repeat(7)} }`;
    const result = await register([{ id: sha256(deep), body: deep }]);
    expect(result.userErrors).toMatchObject([
      { field: ['input', 'operations', '0', 'body'], code: 'INVALID_OPERATION' },
    ]);
    expect(result.userErrors[0].message).toMatch(/depth/i);
  });
});

describe('sending an operation by hash', () => {
  it('runs it in Apollo form, in documentId form and over GET', async () => {
    const apollo = await post(byHash(REGION, { code: 'CU' }));
    expect(apollo).toMatchObject({ status: 200, body: { data: { region: { code: 'CU', name: 'Cuba' } } } });
    const documentId = await post({ documentId: `sha256:${sha256(VIEWER)}` });
    expect(documentId.body).toMatchObject({ data: { viewer: { name: 'bootstrap admin', role: 'ADMIN' } } });
    const search = new URLSearchParams({
      variables: JSON.stringify({ code: 'IR' }),
      extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256(REGION) } }),
    });
    const get = await fetch(`${origin}/graphql?${search}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(await get.json()).toMatchObject({ data: { region: { code: 'IR', name: 'Islamic Republic of Iran' } } });
  });

  it('answers an unknown hash, and a hash that is not the query’s, each with its own code', async () => {
    const unknown = await post({
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ __typename }') } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([
      {
        message: `no operation is registered with id ${sha256('{ __typename }')}: an ADMIN registers the client's manifest with registerPersistedOperations`,
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
      },
    ]);
    const mismatch = await post({ query: VIEWER, ...byHash(REGION) });
    expect([mismatch.status, mismatch.body.errors[0].extensions.code]).toEqual([400, 'PERSISTED_QUERY_HASH_MISMATCH']);
    const batch = await post([byHash(VIEWER), byHash('{ __typename }')]);
    expect([batch.status, batch.body.errors[0].extensions.code]).toEqual([400, 'PERSISTED_QUERY_NOT_FOUND']);
  });
});

describe('a key restricted to registered operations', () => {
  it('runs registered operations only, by hash or by their exact text', async () => {
    const key = await createKey({ name: 'restricted-partner-reader', role: 'ANALYST', registeredOperationsOnly: true });
    expect(key.restricted).toBe(true);
    expect((await post(byHash(VIEWER), key.secret)).body).toMatchObject({
      data: { viewer: { name: 'restricted-partner-reader', role: 'ANALYST' } },
    });
    expect((await post({ query: VIEWER }, key.secret)).body.data.viewer.role).toBe('ANALYST');
    const freeForm = await post({ query: '{ viewer { name } }' }, key.secret);
    expect(freeForm.status).toBe(403);
    expect(freeForm.body.errors).toEqual([
      {
        message:
          'this API key may only run registered operations: send the operation by its id (extensions.persistedQuery.sha256Hash or documentId)',
        extensions: { code: 'PERSISTED_QUERY_REQUIRED' },
      },
    ]);
    // An unrestricted key still sends anything.
    expect((await post({ query: '{ viewer { name } }' })).body.data.viewer.name).toBe('bootstrap admin');
  });

  it('is the default for GATEWAY keys in production, and only there', async () => {
    expect((await createKey({ name: 'gateway-dev', role: 'GATEWAY' })).restricted).toBe(false);
    settings.production = true;
    try {
      expect((await createKey({ name: 'gateway-prod', role: 'GATEWAY' })).restricted).toBe(true);
      expect((await createKey({ name: 'analyst-prod', role: 'ANALYST' })).restricted).toBe(false);
      expect(
        (await createKey({ name: 'gateway-open', role: 'GATEWAY', registeredOperationsOnly: false })).restricted,
      ).toBe(false);
    } finally {
      settings.production = false;
    }
  });

  it('cannot be registered for by a non-ADMIN key', async () => {
    const key = await createKey({ name: 'policy-author', role: 'POLICY_AUTHOR' });
    const result = await post(
      {
        query: REGISTER,
        variables: { input: { clientName: 'x', operations: [{ id: sha256(VIEWER), body: VIEWER }] } },
      },
      key.secret,
    );
    expect(result.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
