/**
 * Public fields the console reads: the review queue's filter, the audit trail's role and type filters, a key's partner,
 * and a simulation that clears a policy's end (the editor's draft with an empty "until").
 */
import { Role } from '../src/auth/roles';
import { openTestDatabase, TestDatabase } from './support/database';
import { FIXED_UNTIL, seedDemo } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { decideActivation } from './support/decisions';
import { imeiOf } from './support/imei';

const SIMFEROPOL = { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 20 };
const KYIV = { latitude: 50.4501, longitude: 30.5234, accuracyMeters: 20 };

let database: TestDatabase;
let client: GraphQLClient;

beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 120, 1500);
  client = await GraphQLClient.create(database);
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

const QUEUE = `query Queue($filter: ReviewQueueFilter) {
  reviewQueue(first: 100, filter: $filter) {
    totalCount
    nodes { id receivedAt resolvedRegion { code parent { code } } policyVersion { policy { key } } device { partner { id } } }
  }
}`;

interface QueueNode {
  id: string;
  receivedAt: string;
  resolvedRegion: { code: string; parent: { code: string } | null } | null;
  policyVersion: { policy: { key: string } } | null;
  device: { partner: { id: string } };
}

async function queue(filter?: Record<string, unknown>): Promise<{ totalCount: number; nodes: QueueNode[] }> {
  return (await client.data(QUEUE, { filter })).reviewQueue;
}

describe('reviewQueue(filter:)', () => {
  it('narrows the open reviews by region (with subdivisions), policy, partner and waiting time', async () => {
    const all = await queue();
    expect(all.totalCount).toBeGreaterThan(3);
    expect(all.totalCount).toBeLessThanOrEqual(100);

    const someRegion = all.nodes.find((node) => node.resolvedRegion)!.resolvedRegion!;
    const country = someRegion.parent?.code ?? someRegion.code;
    const inCountry = await queue({ regionCodes: [country] });
    const expected = all.nodes.filter((node) =>
      [node.resolvedRegion?.code, node.resolvedRegion?.parent?.code].includes(country),
    );
    expect(inCountry.nodes.map((node) => node.id)).toEqual(expected.map((node) => node.id));
    expect(inCountry.totalCount).toBe(expected.length);

    const policyKey = all.nodes.find((node) => node.policyVersion)!.policyVersion!.policy.key;
    const byPolicy = await queue({ policyKeys: [policyKey] });
    expect(byPolicy.nodes.map((node) => node.id)).toEqual(
      all.nodes.filter((node) => node.policyVersion?.policy.key === policyKey).map((node) => node.id),
    );

    const partnerId = all.nodes[0]!.device.partner.id;
    const byPartner = await queue({ partnerIds: [partnerId] });
    expect(byPartner.nodes.length).toBeGreaterThan(0);
    expect(byPartner.nodes.map((node) => node.id)).toEqual(
      all.nodes.filter((node) => node.device.partner.id === partnerId).map((node) => node.id),
    );

    const sorted = all.nodes.map((node) => node.receivedAt).sort();
    const middle = sorted[Math.floor(sorted.length / 2)]!;
    const waitingLonger = await queue({ receivedBefore: middle });
    expect(waitingLonger.nodes.map((node) => node.id).sort()).toEqual(
      all.nodes
        .filter((node) => node.receivedAt < middle)
        .map((node) => node.id)
        .sort(),
    );
    expect((await queue({ partnerIds: [] })).totalCount).toBe(0);
  });

  it('leaves a subdivision out of its country (Ukraine without Crimea, as the overview links to it)', async () => {
    // Two activations a person must look at: a fix in Simferopol with a German SIM (a review in
    // Crimea) and a fix in Kyiv on a Crimean network (a review in Ukraine's mainland).
    const partnerId = (await client.data('{ partners(first: 1) { nodes { id } } }')).partners.nodes[0].id;
    const devices = [imeiOf(990_001), imeiOf(990_002)].map((imei, index) => ({
      imei,
      serialNumber: `QUEUE-${index}`,
      modelCode: 'AR-5',
      marketRegionCode: 'DE',
    }));
    const registered = await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { userErrors { message } } }`,
      { input: { partnerId, devices } },
    );
    expect(registered.registerDevices.userErrors).toEqual([]);
    const payload = 'decision { outcome region { code } } userErrors { message }';
    const inCrimea = await decideActivation(
      client,
      { imei: devices[0]!.imei, signals: { gps: SIMFEROPOL, sim: { mcc: '262', mnc: '01' } } },
      payload,
    );
    const inKyiv = await decideActivation(
      client,
      { imei: devices[1]!.imei, signals: { gps: KYIV, cell: { mcc: '250', mnc: '32' } } },
      payload,
    );
    expect([inCrimea.decision, inKyiv.decision]).toEqual([
      { outcome: 'REVIEW', region: { code: 'UA-43' } },
      { outcome: 'REVIEW', region: { code: 'UA' } },
    ]);

    const subdivision = 'UA-43';
    const country = 'UA';
    const inCountry = await queue({ regionCodes: [country] });
    const without = await queue({ regionCodes: [country], excludeRegionCodes: [subdivision] });
    const expected = inCountry.nodes.filter((node) => node.resolvedRegion?.code !== subdivision);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(inCountry.nodes.length);
    expect(without.nodes.map((node) => node.id)).toEqual(expected.map((node) => node.id));
    expect(without.totalCount).toBe(expected.length);
    // Leaving out the whole country leaves nothing, not everything.
    expect((await queue({ regionCodes: [country], excludeRegionCodes: [country] })).totalCount).toBe(0);
  });

  it('names the field of an unknown policy key, partner ID or region code', async () => {
    for (const [filter, field] of [
      [{ policyKeys: ['no-such-policy'] }, 'filter.policyKeys[0]'],
      [{ partnerIds: ['not-an-id'] }, 'filter.partnerIds[0]'],
      [{ regionCodes: ['XX-99'] }, 'filter.regionCodes'],
      [{ regionCodes: ['UA'], excludeRegionCodes: ['UA-43', 'XX-99'] }, 'filter.excludeRegionCodes[1]'],
      [{ excludeRegionCodes: ['UA-43'] }, 'filter.excludeRegionCodes'],
    ] as const) {
      const result = await client.execute(QUEUE, { filter });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(String(result.errors?.[0]?.extensions?.field)).toContain(field);
    }
  });
});

describe('auditEvents(filter: { actorRoles, targetTypes }) and ApiKey.partner', () => {
  it('lists the changes of a role and of a type, and the partner a PARTNER key acts for', async () => {
    const partner = (await client.data('{ partners(first: 1) { nodes { id name } } }')).partners.nodes[0];
    const admin = client.as({ keyId: 7, name: 'desk admin', role: Role.ADMIN, partnerId: null });
    const created = await admin.data(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
        apiKey { id role partner { id name } } userErrors { field message } } }`,
      { input: { name: 'partner-desk', role: 'PARTNER', partnerId: partner.id } },
    );
    expect(created.createApiKey.userErrors).toEqual([]);
    expect(created.createApiKey.apiKey.partner).toEqual(partner);
    const keys = await client.data('{ apiKeys(first: 100) { nodes { role partner { id } } } }');
    for (const key of keys.apiKeys.nodes) expect(key.partner === null).toBe(key.role !== 'PARTNER');

    const events = `query($filter: AuditEventFilter) { auditEvents(first: 100, filter: $filter) { nodes { action actorRole targetType } } }`;
    const byRole = (await client.data(events, { filter: { actorRoles: ['ADMIN'] } })).auditEvents.nodes;
    expect(byRole.map((event: any) => event.action)).toContain('apiKey.create');
    expect(byRole.every((event: any) => event.actorRole === 'ADMIN')).toBe(true);
    const noneByAnalyst = (await client.data(events, { filter: { actorRoles: ['ANALYST'] } })).auditEvents.nodes;
    expect(noneByAnalyst).toEqual([]);
    const byType = (await client.data(events, { filter: { targetTypes: ['ApiKey'] } })).auditEvents.nodes;
    expect(byType.length).toBeGreaterThan(0);
    expect(byType.every((event: any) => event.targetType === 'ApiKey')).toBe(true);
    expect(
      (await client.data(events, { filter: { targetTypes: ['Policy'], actorRoles: ['ADMIN'] } })).auditEvents.nodes,
    ).toEqual([]);
  });
});

it("simulatePolicy: effectiveUntil null replays a change as open-ended; omitted, the version's end stands", async () => {
  const window = {
    from: new Date(FIXED_UNTIL.getTime() - 30 * 86_400_000).toISOString(),
    to: FIXED_UNTIL.toISOString(),
  };
  const stats = await client.data(
    `query ($filter: ActivationStatsFilter!) { activationStats(filter: $filter, groupBy: [COUNTRY]) { rows { attempts locks country { code } } } }`,
    { filter: window },
  );
  // A country of the demo data no policy locks: a policy that covers it changes outcomes there.
  const country = stats.activationStats.rows
    .filter((row: any) => row.country && row.locks === 0)
    .sort((a: any, b: any) => b.attempts - a.attempts)[0].country.code;
  // A MONITOR policy (in force at once) that ended years before the window.
  const created = await client.data(
    `mutation ($input: CreatePolicyInput!) { createPolicy(input: $input) { policy { id } userErrors { message } } }`,
    {
      input: {
        key: 'ended-long-ago',
        title: 'Ended long ago',
        description: 'Covered a market for a while.',
        legalBasis: 'Section 9',
        action: 'LOCK',
        mode: 'MONITOR',
        regionCodes: [country],
        effectiveFrom: '2020-01-01T00:00:00Z',
        effectiveUntil: '2020-06-01T00:00:00Z',
        lockMessage: 'Not here.',
      },
    },
  );
  expect(created.createPolicy.userErrors).toEqual([]);
  const activated = await client.data(
    `mutation ($id: ID!) { activatePolicy(input: { id: $id }) { policy { status } userErrors { message } } }`,
    { id: created.createPolicy.policy.id },
  );
  expect(activated.activatePolicy).toMatchObject({ policy: { status: 'ACTIVE' }, userErrors: [] });
  const simulate = async (policy: object) =>
    (
      await client.data(
        `query ($input: SimulatePolicyInput!) { simulatePolicy(input: $input) { changedAttempts transitions { from to attempts } } }`,
        { input: { ...window, policy: { policyKey: 'ended-long-ago', mode: 'ENFORCE', ...policy } } },
      )
    ).simulatePolicy;
  expect((await simulate({})).changedAttempts).toBe(0);
  const reopened = await simulate({ effectiveUntil: null });
  expect(reopened.changedAttempts).toBeGreaterThan(0);
  expect(reopened.transitions.map((row: any) => `${row.from}>${row.to}`)).toContain('ALLOW>LOCK');
});
