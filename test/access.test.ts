/**
 * Who may do what: every role against every root field and mutation, and a partner probing another
 * partner's data through every path the graph offers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GraphQLObjectType,
  GraphQLResolveInfo,
  GraphQLSchema,
  getIntrospectionQuery,
  getNamedType,
  isInterfaceType,
  isObjectType,
} from 'graphql';
import { createContext } from '../src/context';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { enforceFieldAccess } from '../src/auth/access-policy';
import { Role } from '../src/auth/roles';
import { Viewer } from '../src/auth/viewer';
import { rowIdOf } from '../src/common/global-id';
import { withCheckDigit } from '../src/devices/imei';
import { buildAppSchema, printAppSchema } from '../src/schema';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { rowCounts } from './support/row-counts';
import { imeiOf } from './support/imei';
import { decideActivation, decideActivationWith } from './support/decisions';

let database: TestDatabase;
let admin: GraphQLClient;
const imei = (serial: number) => imeiOf(serial);
const partnerIds: Record<'A' | 'B', string> = { A: '', B: '' };
const deviceIdsOf: Record<'A' | 'B', string[]> = { A: [], B: [] };
const attemptIdsOf: Record<'A' | 'B', string[]> = { A: [], B: [] };
let exemptionId = '';

const viewerWith = (role: Role, partner?: 'A' | 'B'): Viewer => ({
  keyId: null,
  name: `${role.toLowerCase()}-key`,
  role,
  partnerId: partner ? rowIdOf(partnerIds[partner], 'Partner') : null,
});

beforeAll(async () => {
  database = await openTestDatabase();
  admin = await GraphQLClient.create(database);
  for (const [name, first] of [
    ['A', 1],
    ['B', 101],
  ] as const) {
    const created = await admin.data(
      `mutation ($name: String!) { createPartner(input: { name: $name, kind: CARRIER }) { partner { id } } }`,
      {
        name: `Partner ${name}`,
      },
    );
    partnerIds[name] = created.createPartner.partner.id;
    const devices = Array.from({ length: name === 'A' ? 3 : 4 }, (_, index) => ({
      imei: imei(first + index),
      serialNumber: `${name}-${index}`,
      modelCode: 'AR-5',
      marketRegionCode: 'DE',
    }));
    const registered = await admin.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id } userErrors { message } } }`,
      { input: { partnerId: partnerIds[name], devices } },
    );
    deviceIdsOf[name] = registered.registerDevices.devices.map((device: { id: string }) => device.id);
    for (const device of devices) {
      const decided = await decideActivation(
        admin,
        { imei: device.imei, signals: { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 8 } } },
        'attempt { id } userErrors { message }',
      );
      attemptIdsOf[name].push(decided.attempt.id);
    }
  }
  const exemption = await admin.data(
    `mutation ($id: ID!) { createExemption(input: { policyKey: "export-restricted-territories", partnerId: $id, reason: "Test" }) { exemption { id } } }`,
    { id: partnerIds.B },
  );
  exemptionId = exemption.createExemption.exemption.id;
});
afterAll(async () => {
  await admin.stop();
  await database.close();
});

const { ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, GATEWAY, PARTNER } = Role;
const ALL = [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, GATEWAY, PARTNER];
const READERS = [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, PARTNER];
const someImei = withCheckDigit('35291811999990');

/**
 * The access matrix, written out independently of src/auth/roles.ts: each root field, a document
 * that reaches its resolver, and the roles that may run it. Mutations get inputs that fail
 * validation, so an admitted role gets userErrors and nothing is written.
 */
const matrix: Record<string, { document: string; roles: Role[] }> = {
  activationAttempts: { document: '{ activationAttempts(first: 1) { totalCount } }', roles: READERS },
  apiKeys: { document: '{ apiKeys(first: 1) { totalCount } }', roles: [ADMIN] },
  auditEvents: { document: '{ auditEvents(first: 1) { totalCount } }', roles: [ADMIN, ANALYST] },
  device: { document: `{ device(imei: "${someImei}") { id } }`, roles: READERS },
  deviceModel: { document: '{ deviceModel(code: "AR-5") { id } }', roles: READERS },
  deviceModels: { document: '{ deviceModels(first: 1) { totalCount } }', roles: READERS },
  devices: { document: '{ devices(first: 1) { totalCount } }', roles: READERS },
  exemptions: { document: '{ exemptions(first: 1) { totalCount } }', roles: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT] },
  node: { document: '{ node(id: "bm90LWFuLWlk") { id } }', roles: ALL },
  nodes: { document: '{ nodes(ids: []) { id } }', roles: ALL },
  partners: { document: '{ partners(first: 1) { totalCount } }', roles: READERS },
  policies: { document: '{ policies(first: 1) { totalCount } }', roles: READERS },
  policy: { document: '{ policy(key: "export-restricted-territories") { id } }', roles: READERS },
  previewDecision: {
    document: `{ previewDecision(input: { imei: "${imei(1)}", signals: { ipCountry: "DE" } }) { outcome } }`,
    roles: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT],
  },
  region: { document: '{ region(code: "DE") { id } }', roles: READERS },
  regions: { document: '{ regions(first: 1) { totalCount } }', roles: READERS },
  reviewQueue: {
    document: '{ reviewQueue(first: 1) { totalCount } }',
    roles: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT],
  },
  viewer: { document: '{ viewer { name role } }', roles: ALL },
  activationStats: {
    document:
      '{ activationStats(filter: { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" }) { totals { attempts } } }',
    roles: [ADMIN, POLICY_AUTHOR, ANALYST, PARTNER],
  },
  lockedDeviceStats: {
    document: '{ lockedDeviceStats(groupBy: [REGION]) { totals { devices } } }',
    roles: [ADMIN, POLICY_AUTHOR, ANALYST, PARTNER],
  },
  reviewQueueStats: {
    document: '{ reviewQueueStats { totals { waiting } } }',
    roles: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT],
  },
  policyImpact: {
    document: '{ policyImpact(policyKey: "export-restricted-territories") { attempts } }',
    roles: [ADMIN, POLICY_AUTHOR, ANALYST, PARTNER],
  },
  simulatePolicy: {
    document:
      '{ simulatePolicy(input: { policy: { policyKey: "export-restricted-territories", mode: MONITOR }, from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" }) { attempts } }',
    roles: [ADMIN, POLICY_AUTHOR, ANALYST],
  },

  webhookEndpoints: {
    document: '{ webhookEndpoints(first: 1) { totalCount } }',
    roles: [ADMIN, SUPPORT, PARTNER],
  },
  webhookDeliveries: {
    document: '{ webhookDeliveries(first: 1) { totalCount } }',
    roles: [ADMIN, SUPPORT, PARTNER],
  },
  sweep: { document: '{ sweep(id: "x") { status } }', roles: [ADMIN, POLICY_AUTHOR, ANALYST] },
  sweeps: { document: '{ sweeps(first: 1) { totalCount } }', roles: [ADMIN, POLICY_AUTHOR, ANALYST] },
  policyChangeRequests: {
    document: '{ policyChangeRequests(first: 1) { totalCount } }',
    roles: [ADMIN, POLICY_AUTHOR, ANALYST],
  },

  activatePolicy: {
    document: 'mutation { activatePolicy(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  createWebhookEndpoint: {
    document:
      'mutation { createWebhookEndpoint(input: { url: "http://x", eventTypes: [DEVICE_LOCKED] }) { userErrors { code } } }',
    roles: [ADMIN, PARTNER],
  },
  disableWebhookEndpoint: {
    document: 'mutation { disableWebhookEndpoint(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN, PARTNER],
  },
  redeliverWebhook: {
    document: 'mutation { redeliverWebhook(input: { deliveryId: "x" }) { userErrors { code } } }',
    roles: [ADMIN, PARTNER],
  },
  startSweep: {
    document:
      'mutation { startSweep(input: { policyKey: "x", action: LOCK_ACTIVE_DEVICES, dryRun: true }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  pauseSweep: {
    document: 'mutation { pauseSweep(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  resumeSweep: {
    document: 'mutation { resumeSweep(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  cancelSweep: {
    document: 'mutation { cancelSweep(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  approvePolicyChange: {
    document: 'mutation { approvePolicyChange(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  rejectPolicyChange: {
    document: 'mutation { rejectPolicyChange(input: { id: "x", comment: "no" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  withdrawPolicyChange: {
    document: 'mutation { withdrawPolicyChange(input: { id: "x", comment: "no" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  createApiKey: {
    document: 'mutation { createApiKey(input: { name: "", role: ANALYST }) { userErrors { code } } }',
    roles: [ADMIN],
  },
  createDeviceModel: {
    document:
      'mutation { createDeviceModel(input: { code: "", marketingName: "", tacPrefixes: [] }) { userErrors { code } } }',
    roles: [ADMIN],
  },
  createExemption: {
    document: 'mutation { createExemption(input: { policyKey: "none", reason: "" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  createPartner: {
    document: 'mutation { createPartner(input: { name: "", kind: CARRIER }) { userErrors { code } } }',
    roles: [ADMIN],
  },
  createPolicy: {
    document: `mutation { createPolicy(input: { key: "", title: "", description: "", legalBasis: "", action: LOCK, mode: MONITOR,
      effectiveFrom: "2026-01-01T00:00:00Z", regionCodes: [], lockMessage: "" }) { userErrors { code } } }`,
    roles: [ADMIN, POLICY_AUTHOR],
  },
  decideActivation: {
    document: 'mutation { decideActivation(input: { imei: "1", signals: {} }) { userErrors { code } } }',
    roles: [ADMIN, GATEWAY],
  },
  registerDevices: {
    document: 'mutation { registerDevices(input: { partnerId: "x", devices: [] }) { userErrors { code } } }',
    roles: [ADMIN, PARTNER],
  },
  resolveReview: {
    document:
      'mutation { resolveReview(input: { attemptId: "x", resolution: ALLOW, note: "" }) { userErrors { code } } }',
    roles: [ADMIN, SUPPORT],
  },
  retirePolicy: {
    document: 'mutation { retirePolicy(input: { id: "x", reason: "" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  rateLimit: { document: '{ rateLimit { remaining } }', roles: ALL },
  registerPersistedOperations: {
    document:
      'mutation { registerPersistedOperations(input: { clientName: "", operations: [] }) { userErrors { code } } }',
    roles: [ADMIN],
  },
  revokeApiKey: { document: 'mutation { revokeApiKey(input: { id: "x" }) { userErrors { code } } }', roles: [ADMIN] },
  revokeExemption: {
    document: 'mutation { revokeExemption(input: { id: "x", reason: "" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
  unlockDevice: {
    document: 'mutation { unlockDevice(input: { deviceId: "x", reason: "" }) { userErrors { code } } }',
    roles: [ADMIN, SUPPORT],
  },
  updateDeviceModel: {
    document: 'mutation { updateDeviceModel(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN],
  },
  updatePartner: { document: 'mutation { updatePartner(input: { id: "x" }) { userErrors { code } } }', roles: [ADMIN] },
  updatePolicy: {
    document: 'mutation { updatePolicy(input: { id: "x" }) { userErrors { code } } }',
    roles: [ADMIN, POLICY_AUTHOR],
  },
};

describe('the access matrix', () => {
  it('has a row for every root field and mutation', async () => {
    const sdl = await printAppSchema();
    const fieldsOf = (type: string) =>
      [...new RegExp(`^type ${type} \\{([\\s\\S]*?)^\\}`, 'm').exec(sdl)![1].matchAll(/^ {2}(\w+)[(:]/gm)].map(
        (m) => m[1],
      );
    expect(Object.keys(matrix).sort()).toEqual([...fieldsOf('Query'), ...fieldsOf('Mutation')].sort());
  });

  const cases = Object.entries(matrix).flatMap(([field, { document, roles }]) =>
    ALL.map((role) => [field, role, roles.includes(role), document] as const),
  );
  it.each(cases)('%s as %s: allowed %s', async (field, role, allowed, document) => {
    const before = await rowCounts(database.dataSource);
    const result = await admin.as(viewerWith(role, 'A')).execute(document);
    const codes = (result.errors ?? []).map((error) => error.extensions?.code);
    if (allowed) {
      expect(codes).not.toContain('FORBIDDEN');
      expect(codes).not.toContain('UNAUTHENTICATED');
      expect(codes).not.toContain('INTERNAL_SERVER_ERROR');
    } else {
      expect(codes).toEqual(['FORBIDDEN']);
      expect(result.errors![0].message).toContain(role);
    }
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it.each(Object.keys(matrix).filter((field) => field !== 'node' && field !== 'nodes'))(
    '%s without a key: UNAUTHENTICATED',
    async (field) => {
      const result = await admin.as(null).execute(matrix[field].document);
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    },
  );

  it('lets a caller without a key introspect the schema, and nothing else', async () => {
    const anonymous = admin.as(null);
    const introspection = await anonymous.execute(getIntrospectionQuery());
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data.__schema.queryType.name).toBe('Query');
    const node = await anonymous.execute(`{ node(id: "${partnerIds.A}") { id } }`);
    expect(node.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses raw coordinates to partners, field by field', async () => {
    const query = `query ($id: ID!) { node(id: $id) { ... on ActivationAttempt { outcome signals { gps { latitude } ipCountry } } } }`;
    const asPartner = await admin.as(viewerWith(PARTNER, 'A')).execute(query, { id: attemptIdsOf.A[0] });
    expect(asPartner.errors?.map((error) => [error.extensions?.code, error.path?.join('.')])).toEqual([
      ['FORBIDDEN', 'node.signals.gps'],
    ]);
    expect(asPartner.data.node).toMatchObject({ outcome: 'ALLOW', signals: { gps: null } });
    const asSupport = await admin.as(viewerWith(SUPPORT)).data(query, { id: attemptIdsOf.A[0] });
    expect(asSupport.node.signals.gps.latitude).toBeCloseTo(52.52, 3);
  });

  it('keeps coordinates out of the stored evidence', async () => {
    const attempts = await database.dataSource.getRepository(ActivationAttempt).find();
    for (const attempt of attempts) expect(JSON.stringify(attempt.explanation)).not.toMatch(/52\.5|13\.40/);
  });
});

describe('a partner probing another partner', () => {
  const asA = () => admin.as(viewerWith(PARTNER, 'A'));

  it('lists only its own devices, and counts only them', async () => {
    const data = await asA().data(`{ devices(first: 100) { totalCount nodes { id } } }`);
    expect(data.devices.totalCount).toBe(3);
    expect(data.devices.nodes.map((device: { id: string }) => device.id).sort()).toEqual([...deviceIdsOf.A].sort());
  });

  it("gets nothing by filtering on the other's ID", async () => {
    const data = await asA().data(
      `query ($p: ID!, $d: ID!) {
      devices(filter: { partnerIds: [$p] }) { totalCount nodes { id } }
      activationAttempts(filter: { deviceIds: [$d] }) { totalCount nodes { id } }
    }`,
      { p: partnerIds.B, d: deviceIdsOf.B[0] },
    );
    expect(data.devices).toEqual({ totalCount: 0, nodes: [] });
    expect(data.activationAttempts).toEqual({ totalCount: 0, nodes: [] });
  });

  it("finds no other partner's device by IMEI", async () => {
    const data = await asA().data(
      `{ mine: device(imei: "${imei(1)}") { id } theirs: device(imei: "${imei(101)}") { id } }`,
    );
    expect(data.mine.id).toBe(deviceIdsOf.A[0]);
    expect(data.theirs).toBeNull();
  });

  it('sees only its own attempts and partner', async () => {
    const data = await asA().data(
      `{ activationAttempts(first: 100) { totalCount nodes { id } } partners { totalCount nodes { id } } }`,
    );
    expect(data.activationAttempts.totalCount).toBe(3);
    expect(data.activationAttempts.nodes.map((node: { id: string }) => node.id).sort()).toEqual(
      [...attemptIdsOf.A].sort(),
    );
    expect(data.partners).toEqual({ totalCount: 1, nodes: [{ id: partnerIds.A }] });
  });

  it("refetches its own objects by ID, and the other partner's read as missing", async () => {
    const ids = [partnerIds.B, deviceIdsOf.B[0], attemptIdsOf.B[0], partnerIds.A, deviceIdsOf.A[0], attemptIdsOf.A[0]];
    const data = await asA().data(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids });
    expect(data.nodes).toEqual([
      null,
      null,
      null,
      { id: partnerIds.A },
      { id: deviceIdsOf.A[0] },
      { id: attemptIdsOf.A[0] },
    ]);
    for (const id of ids.slice(0, 3)) {
      expect((await asA().data(`query ($id: ID!) { node(id: $id) { id } }`, { id })).node).toBeNull();
    }
  });

  it('sees only its own devices under a model shared with others', async () => {
    const data = await asA().data(`{ deviceModel(code: "AR-5") { devices(first: 100) { totalCount nodes { id } } } }`);
    expect(data.deviceModel.devices.totalCount).toBe(3);
    expect(data.deviceModel.devices.nodes.map((node: { id: string }) => node.id).sort()).toEqual(
      [...deviceIdsOf.A].sort(),
    );
  });

  it('may not read exemptions (which name partners), not even by ID', async () => {
    const result = await asA().execute(`query ($id: ID!) { node(id: $id) { id } }`, { id: exemptionId });
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(result)).not.toContain(partnerIds.B);
  });

  it('cannot register devices for the other partner, and nothing is written', async () => {
    const before = await rowCounts(database.dataSource);
    const data = await asA().data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { registeredCount userErrors { field code message } } }`,
      {
        input: {
          partnerId: partnerIds.B,
          devices: [{ imei: imei(500), serialNumber: 'X', modelCode: 'AR-5', marketRegionCode: 'DE' }],
        },
      },
    );
    expect(data.registerDevices.registeredCount).toBe(0);
    expect(data.registerDevices.userErrors).toEqual([
      { field: ['input', 'partnerId'], code: 'NOT_FOUND', message: 'no partner has this ID' },
    ]);
    expect(await rowCounts(database.dataSource)).toEqual(before);
  });

  it('registers devices for itself', async () => {
    const data = await asA().data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { registeredCount devices { partner { id } } userErrors { message } } }`,
      {
        input: {
          partnerId: partnerIds.A,
          devices: [{ imei: imei(501), serialNumber: 'Y', modelCode: 'AR-5', marketRegionCode: 'DE' }],
        },
      },
    );
    expect(data.registerDevices).toMatchObject({
      registeredCount: 1,
      userErrors: [],
      devices: [{ partner: { id: partnerIds.A } }],
    });
  });
});

/**
 * Below the roots: every object type a role can reach from the root fields and mutation payloads it
 * may use, walked through the schema, and every field of each, asked as that role. Each answer is
 * either granted or FORBIDDEN, and the whole classification is compared with
 * test/fixtures/field-access.txt: a type or field added later fails here until someone classifies it
 * in src/auth/access-policy.ts and records the grant (`UPDATE_FIELD_ACCESS=1 npx jest
 * test/access.test.ts`, then read the diff).
 */
describe('field access below the roots', () => {
  const FIXTURE = join(__dirname, 'fixtures', 'field-access.txt');
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildAppSchema();
  });

  /** The object types reachable from a role's root fields (interfaces stand for their implementations). */
  function reachableTypes(role: Role): GraphQLObjectType[] {
    const seen = new Map<string, GraphQLObjectType>();
    const visit = (type: Parameters<typeof getNamedType>[0]) => {
      const named = getNamedType(type);
      if (isInterfaceType(named)) {
        if (seen.has(`interface ${named.name}`)) return;
        seen.set(`interface ${named.name}`, undefined as never);
        for (const implementation of schema.getPossibleTypes(named)) visit(implementation);
      } else if (isObjectType(named) && !seen.has(named.name)) {
        seen.set(named.name, named);
        for (const field of Object.values(named.getFields())) visit(field.type);
      }
    };
    for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
      for (const field of Object.values(root.getFields()))
        if (matrix[field.name].roles.includes(role)) visit(field.type);
    }
    return [...seen.values()].filter(Boolean);
  }

  /** Asks for one field as the role, straight through the executable schema's resolver: granted or FORBIDDEN. */
  async function answerOf(role: Role, type: GraphQLObjectType, fieldName: string): Promise<'granted' | 'FORBIDDEN'> {
    const field = type.getFields()[fieldName];
    const context = createContext(database.services, 'field-walk', viewerWith(role, 'A'));
    const info = { fieldName, parentType: type, returnType: field.type, schema, path: { key: fieldName } };
    try {
      // An empty parent: what a granted resolver makes of it does not matter, only whether it is refused.
      await field.resolve!({}, {}, context, info as unknown as GraphQLResolveInfo);
    } catch (error) {
      if ((error as { extensions?: { code?: string } }).extensions?.code === 'FORBIDDEN') return 'FORBIDDEN';
    }
    return 'granted';
  }

  /** Every reachable field and what each role that reaches it is answered, one line per field. */
  async function classification(): Promise<string[]> {
    const answers = new Map<string, { granted: Role[]; refused: Role[] }>();
    for (const role of ALL) {
      for (const type of reachableTypes(role)) {
        for (const fieldName of Object.keys(type.getFields())) {
          const key = `${type.name}.${fieldName}`;
          if (!answers.has(key)) answers.set(key, { granted: [], refused: [] });
          const answer = await answerOf(role, type, fieldName);
          answers.get(key)![answer === 'granted' ? 'granted' : 'refused'].push(role);
        }
      }
    }
    return [...answers.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([key, { granted, refused }]) => `${key}: ${granted.join(' ') || '-'} | refused: ${refused.join(' ') || '-'}`,
      );
  }

  it('answers every field of every type each role reaches as granted or FORBIDDEN, as recorded', async () => {
    const lines = await classification();
    if (process.env.UPDATE_FIELD_ACCESS) writeFileSync(FIXTURE, `${lines.join('\n')}\n`);
    const recorded = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n');
    const missing = lines.filter((line) => !recorded.includes(line));
    // A line here is a field whose answer is new: classify it in src/auth/access-policy.ts, then record it.
    expect(missing).toEqual([]);
    expect(recorded.filter((line) => !lines.includes(line))).toEqual([]);
  });

  it('refuses a type nobody classified to every role, ADMIN included', async () => {
    const unclassified = new GraphQLObjectType({
      name: 'Unclassified',
      fields: { secret: { type: schema.getType('String') as never } },
    });
    const probe = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { unclassified: { type: unclassified } } }),
    });
    enforceFieldAccess(probe);
    for (const role of ALL)
      expect(await answerOf(role, probe.getType('Unclassified') as GraphQLObjectType, 'secret')).toBe('FORBIDDEN');
  });

  it('answers the gateway its decision, and nothing of the device, its partner or its history', async () => {
    const gateway = admin.as(viewerWith(GATEWAY));
    const result = await decideActivationWith(
      (query, variables) => gateway.execute(query, variables),
      { imei: imei(2), signals: { ipCountry: 'DE' } },
      `decision { outcome enforced reasonCodes region { code } }
        attempt { id outcome device { imei partner { name contactEmail } statusHistory { totalCount } } }
        userErrors { code }`,
    );
    expect(result.errors?.map((error) => [error.extensions?.code, error.path?.join('.')])).toEqual([
      ['FORBIDDEN', 'decideActivation.attempt.device'],
    ]);
    expect(result.data?.decideActivation).toMatchObject({
      decision: { outcome: 'ALLOW', region: { code: 'DE' } },
      // The attempt's device is non-null in the schema: its refusal nulls the attempt.
      attempt: null,
      userErrors: [],
    });
  });

  it("reads a partner's contact e-mail as its own partner and as support, never as a policy author", async () => {
    const query = `query ($id: ID!) { node(id: $id) { ... on Partner { name contactEmail } } }`;
    const asAuthor = await admin.as(viewerWith(POLICY_AUTHOR)).execute(query, { id: partnerIds.A });
    expect(asAuthor.errors?.map((error) => [error.extensions?.code, error.path?.join('.')])).toEqual([
      ['FORBIDDEN', 'node.contactEmail'],
    ]);
    for (const role of [PARTNER, SUPPORT, ANALYST, ADMIN]) {
      expect((await admin.as(viewerWith(role, 'A')).execute(query, { id: partnerIds.A })).errors).toBeUndefined();
    }
  });
});
