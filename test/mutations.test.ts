import { approveAsSecondPerson } from './support/policies';
import { AuditEvent } from '../src/audit/audit-event.entity';
import { Device } from '../src/devices/device.entity';
import { PolicyVersion } from '../src/policies/policy-version.entity';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { rowCounts } from './support/row-counts';
import { imeiOf } from './support/imei';

let database: TestDatabase;
let client: GraphQLClient;

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

const auditTrail = (action: string) =>
  database.dataSource.getRepository(AuditEvent).find({ where: { action }, order: { id: 'ASC' } });

/** Runs a mutation expected to fail with user errors and checks that no table changed. */
async function expectRejected(mutation: string, variables: Record<string, unknown>, payloadField: string) {
  const before = await rowCounts(database.dataSource);
  const data = await client.data(mutation, variables);
  expect(await rowCounts(database.dataSource)).toEqual(before);
  expect(data[payloadField].userErrors.length).toBeGreaterThan(0);
  return data[payloadField].userErrors as { field: string[]; message: string; code: string }[];
}

const CREATE_PARTNER = `mutation ($input: CreatePartnerInput!) {
  createPartner(input: $input) { partner { id name kind contactEmail } userErrors { field message code } }
}`;
const UPDATE_PARTNER = `mutation ($input: UpdatePartnerInput!) {
  updatePartner(input: $input) { partner { id name kind contactEmail } userErrors { field message code } }
}`;

describe('partners', () => {
  it('creates and updates a partner, auditing both', async () => {
    const created = await client.data(CREATE_PARTNER, {
      input: { name: '  Baltic Phones  ', kind: 'DISTRIBUTOR', contactEmail: 'ops@baltic.example' },
    });
    expect(created.createPartner).toMatchObject({
      partner: { name: 'Baltic Phones', kind: 'DISTRIBUTOR', contactEmail: 'ops@baltic.example' },
      userErrors: [],
    });
    const id = created.createPartner.partner.id;
    const updated = await client.data(UPDATE_PARTNER, { input: { id, kind: 'CARRIER', contactEmail: null } });
    expect(updated.updatePartner.partner).toEqual({ id, name: 'Baltic Phones', kind: 'CARRIER', contactEmail: null });
    const [creation] = await auditTrail('partner.create');
    expect(creation).toMatchObject({
      actor: 'test',
      targetType: 'Partner',
      targetId: id,
      before: null,
      requestId: 'test-request',
    });
    const [update] = await auditTrail('partner.update');
    expect(update.before).toMatchObject({ kind: 'DISTRIBUTOR', contactEmail: 'ops@baltic.example' });
    expect(update.after).toMatchObject({ kind: 'CARRIER', contactEmail: null });
  });

  it.each([
    [{ name: 'Baltic Phones', kind: 'CARRIER' }, ['input', 'name'], 'TAKEN'],
    [{ name: '', kind: 'CARRIER' }, ['input', 'name'], 'INVALID'],
    [{ name: 'x'.repeat(201), kind: 'CARRIER' }, ['input', 'name'], 'TOO_LONG'],
    [{ name: 'Fine Name', kind: 'CARRIER', contactEmail: 'not-an-email' }, ['input', 'contactEmail'], 'INVALID'],
  ])('rejects %p with a user error on %p', async (input, field, code) => {
    const errors = await expectRejected(CREATE_PARTNER, { input }, 'createPartner');
    expect(errors).toEqual([expect.objectContaining({ field, code })]);
  });

  it('rejects an update of an unknown partner', async () => {
    const errors = await expectRejected(
      UPDATE_PARTNER,
      { input: { id: 'UGFydG5lcjo5OTk5', name: 'X' } },
      'updatePartner',
    );
    expect(errors).toEqual([{ field: ['input', 'id'], message: 'no partner has this ID', code: 'NOT_FOUND' }]);
  });

  it('rejects an enum value it does not know before anything runs', async () => {
    const result = await client.execute(CREATE_PARTNER, { input: { name: 'Y', kind: 'RETAILER' } });
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(/kind/);
  });
});

const CREATE_MODEL = `mutation ($input: CreateDeviceModelInput!) {
  createDeviceModel(input: $input) { deviceModel { id code tacPrefixes } userErrors { field message code } }
}`;
const UPDATE_MODEL = `mutation ($input: UpdateDeviceModelInput!) {
  updateDeviceModel(input: $input) { deviceModel { id marketingName tacPrefixes } userErrors { field message code } }
}`;

describe('device models', () => {
  it('creates and updates a model', async () => {
    const created = await client.data(CREATE_MODEL, {
      input: { code: 'ZX-1', marketingName: 'Zenith X1', tacPrefixes: ['35999901'] },
    });
    expect(created.createDeviceModel.userErrors).toEqual([]);
    const updated = await client.data(UPDATE_MODEL, {
      input: { id: created.createDeviceModel.deviceModel.id, tacPrefixes: ['35999901', '35999902'] },
    });
    expect(updated.updateDeviceModel.deviceModel.tacPrefixes).toEqual(['35999901', '35999902']);
    expect(await auditTrail('deviceModel.update')).toHaveLength(1);
  });

  it('rejects an update of an unknown model and of a TAC another model owns', async () => {
    expect(
      await expectRejected(
        UPDATE_MODEL,
        { input: { id: 'RGV2aWNlTW9kZWw6OTk5OQ', marketingName: 'X' } },
        'updateDeviceModel',
      ),
    ).toEqual([{ field: ['input', 'id'], code: 'NOT_FOUND', message: 'no device model has this ID' }]);
    const zx = await client.data(`{ deviceModel(code: "ZX-1") { id } }`);
    expect(
      await expectRejected(
        UPDATE_MODEL,
        { input: { id: zx.deviceModel.id, tacPrefixes: ['35291811'] } },
        'updateDeviceModel',
      ),
    ).toEqual([expect.objectContaining({ field: ['input', 'tacPrefixes', '0'], code: 'TAKEN' })]);
  });

  it.each([
    [{ code: 'ZX-1', marketingName: 'Again', tacPrefixes: ['35999903'] }, ['input', 'code'], 'TAKEN'],
    [{ code: 'zx lower', marketingName: 'Bad', tacPrefixes: ['35999903'] }, ['input', 'code'], 'INVALID'],
    [{ code: 'ZX-2', marketingName: 'Bad TAC', tacPrefixes: ['3599990'] }, ['input', 'tacPrefixes'], 'INVALID'],
    [{ code: 'ZX-2', marketingName: 'No TAC', tacPrefixes: [] }, ['input', 'tacPrefixes'], 'INVALID'],
    [{ code: 'ZX-2', marketingName: 'Stolen TAC', tacPrefixes: ['35291811'] }, ['input', 'tacPrefixes', '0'], 'TAKEN'],
    [
      { code: 'ZX-2', marketingName: 'Twice', tacPrefixes: ['35999905', '35999905'] },
      ['input', 'tacPrefixes', '1'],
      'DUPLICATE',
    ],
  ])('rejects %p', async (input, field, code) => {
    const errors = await expectRejected(CREATE_MODEL, { input }, 'createDeviceModel');
    expect(errors).toEqual([expect.objectContaining({ field, code })]);
  });
});

const CREATE_POLICY = `mutation ($input: CreatePolicyInput!) {
  createPolicy(input: $input) {
    policy { id key status currentVersion { number title regions { nodes { code } } productScope { nodes { code } } } }
    userErrors { field message code }
  }
}`;
const POLICY_FIELDS =
  'id status currentVersion { id number title mode effectiveUntil regions { nodes { code } } } versions { totalCount nodes { number title } }';
const UPDATE_POLICY = `mutation ($input: UpdatePolicyInput!) {
  updatePolicy(input: $input) { policy { ${POLICY_FIELDS} } userErrors { field message code } }
}`;
const ACTIVATE_POLICY = `mutation ($id: ID!) { activatePolicy(input: { id: $id }) { policy { status activatedAt } userErrors { field message code } } }`;
const RETIRE_POLICY = `mutation ($id: ID!, $reason: String!) {
  retirePolicy(input: { id: $id, reason: $reason }) { policy { status retiredAt } userErrors { field message code } }
}`;

const newPolicy = (overrides: Record<string, unknown> = {}) => ({
  key: 'review-sudan-border',
  title: 'Review activations near the Sudan border',
  description: 'Activations resolved to South Sudan are reviewed while the border data is checked.',
  legalBasis: 'Internal compliance guideline 7',
  action: 'REVIEW',
  mode: 'MONITOR',
  regionCodes: ['SS'],
  productScope: ['AR-5'],
  effectiveFrom: '2026-01-01T00:00:00Z',
  lockMessage: 'Activation is under review.',
  lockMessageTranslations: [{ locale: 'fr', text: "L'activation est en cours d'examen." }],
  ...overrides,
});

describe('policies', () => {
  let policyId: string;

  it('creates a DRAFT with version 1', async () => {
    const data = await client.data(CREATE_POLICY, { input: newPolicy() });
    expect(data.createPolicy.userErrors).toEqual([]);
    expect(data.createPolicy.policy).toMatchObject({
      key: 'review-sudan-border',
      status: 'DRAFT',
      currentVersion: { number: 1, regions: { nodes: [{ code: 'SS' }] }, productScope: { nodes: [{ code: 'AR-5' }] } },
    });
    policyId = data.createPolicy.policy.id;
    expect(await auditTrail('policy.create')).toHaveLength(2); // the seed policy and this one
  });

  it.each([
    [{ effectiveUntil: '2025-12-31T00:00:00Z' }, ['input', 'effectiveUntil'], 'INVALID'],
    [{ effectiveUntil: '2026-01-01T00:00:00Z' }, ['input', 'effectiveUntil'], 'INVALID'],
    [{ regionCodes: ['SS', 'XX'] }, ['input', 'regionCodes', '1'], 'NOT_FOUND'],
    [{ regionCodes: ['SS', 'ss'] }, ['input', 'regionCodes', '1'], 'DUPLICATE'],
    [{ regionCodes: [] }, ['input', 'regionCodes'], 'INVALID'],
    [{ productScope: ['NO-SUCH-MODEL'] }, ['input', 'productScope', '0'], 'NOT_FOUND'],
    [{ key: 'Bad Key' }, ['input', 'key'], 'INVALID'],
    [{ key: 'export-restricted-territories' }, ['input', 'key'], 'TAKEN'],
    [{ priority: 5000 }, ['input', 'priority'], 'INVALID'],
    [{ title: '' }, ['input', 'title'], 'INVALID'],
    [
      {
        lockMessageTranslations: [
          { locale: 'fr', text: 'a' },
          { locale: 'fr', text: 'b' },
        ],
      },
      ['input', 'lockMessageTranslations', '1', 'locale'],
      'DUPLICATE',
    ],
    [
      { lockMessageTranslations: [{ locale: 'French', text: 'a' }] },
      ['input', 'lockMessageTranslations', '0', 'locale'],
      'INVALID',
    ],
  ])('rejects %p naming %p, writing nothing', async (overrides, field, code) => {
    const errors = await expectRejected(
      CREATE_POLICY,
      { input: newPolicy({ key: 'another-policy', ...overrides }) },
      'createPolicy',
    );
    expect(errors).toContainEqual(expect.objectContaining({ field, code }));
  });

  it('reports every problem of an input at once', async () => {
    const errors = await expectRejected(
      CREATE_POLICY,
      {
        input: newPolicy({
          key: 'another-policy',
          regionCodes: ['QQ'],
          productScope: ['NOPE'],
          effectiveUntil: '2020-01-01T00:00:00Z',
        }),
      },
      'createPolicy',
    );
    expect(errors.map((error) => error.field.join('.')).sort()).toEqual(
      ['input.effectiveUntil', 'input.productScope.0', 'input.regionCodes.0'].sort(),
    );
  });

  it('edits a DRAFT in place', async () => {
    const data = await client.data(UPDATE_POLICY, { input: { id: policyId, title: 'Review South Sudan activations' } });
    expect(data.updatePolicy.policy.currentVersion).toMatchObject({
      number: 1,
      title: 'Review South Sudan activations',
    });
    expect(data.updatePolicy.policy.versions.totalCount).toBe(1);
  });

  it('activates a DRAFT once', async () => {
    const data = await client.data(ACTIVATE_POLICY, { id: policyId });
    expect(data.activatePolicy.policy.status).toBe('ACTIVE');
    expect(data.activatePolicy.policy.activatedAt).not.toBeNull();
    const again = await expectRejected(ACTIVATE_POLICY, { id: policyId }, 'activatePolicy');
    expect(again).toEqual([
      { field: ['input', 'id'], code: 'INVALID_STATE', message: 'only a DRAFT policy can be activated; it is ACTIVE' },
    ]);
  });

  it('versions an edit of an ACTIVE policy and keeps the old version unchanged', async () => {
    const versionOne = await database.dataSource
      .getRepository(PolicyVersion)
      .findOneByOrFail({ number: 1, title: 'Review South Sudan activations' });
    // Enforcing and covering more can hold devices: a change request, applied once a second person approves.
    const proposal = await client.data(
      `mutation ($input: UpdatePolicyInput!) { updatePolicy(input: $input) { policy { versions { totalCount } } changeRequest { id status reasons } userErrors { field } } }`,
      { input: { id: policyId, mode: 'ENFORCE', regionCodes: ['SS', 'SD'], effectiveUntil: '2036-01-01T00:00:00Z' } },
    );
    expect(proposal.updatePolicy).toMatchObject({
      policy: { versions: { totalCount: 1 } },
      changeRequest: { status: 'PENDING', reasons: ['MODE_TO_ENFORCE', 'WIDER_REGIONS'] },
      userErrors: [],
    });
    await approveAsSecondPerson(client, proposal.updatePolicy.changeRequest.id);
    const data = await client.data(`query ($id: ID!) { node(id: $id) { ... on Policy { ${POLICY_FIELDS} } } }`, {
      id: policyId,
    });
    const policy = data.node;
    expect(policy.currentVersion).toMatchObject({
      number: 2,
      mode: 'ENFORCE',
      effectiveUntil: '2036-01-01T00:00:00.000Z',
    });
    expect(policy.currentVersion.regions.nodes).toEqual([{ code: 'SD' }, { code: 'SS' }]);
    expect(policy.versions.nodes.map((version: { number: number }) => version.number)).toEqual([2, 1]);
    expect(await database.dataSource.getRepository(PolicyVersion).findOneByOrFail({ id: versionOne.id })).toEqual(
      versionOne,
    );

    const unchanged = await client.data(UPDATE_POLICY, { input: { id: policyId, mode: 'ENFORCE' } });
    expect(unchanged.updatePolicy.policy.versions.totalCount).toBe(2);

    // A narrower change applies at once.
    const narrowed = await client.data(UPDATE_POLICY, { input: { id: policyId, regionCodes: ['SS'] } });
    expect(narrowed.updatePolicy.policy.currentVersion).toMatchObject({
      number: 3,
      regions: { nodes: [{ code: 'SS' }] },
    });
  });

  it('rejects an update that would end before it starts, naming the field', async () => {
    const errors = await expectRejected(
      UPDATE_POLICY,
      { input: { id: policyId, effectiveFrom: '2030-01-01T00:00:00Z', effectiveUntil: '2029-01-01T00:00:00Z' } },
      'updatePolicy',
    );
    expect(errors).toEqual([
      {
        field: ['input', 'effectiveUntil'],
        code: 'INVALID',
        message: 'effectiveUntil must be later than effectiveFrom',
      },
    ]);
  });

  it('retires, after which nothing changes it', async () => {
    const missingReason = await expectRejected(RETIRE_POLICY, { id: policyId, reason: '' }, 'retirePolicy');
    expect(missingReason).toEqual([expect.objectContaining({ field: ['input', 'reason'] })]);
    const data = await client.data(RETIRE_POLICY, { id: policyId, reason: 'Border data verified' });
    expect(data.retirePolicy.policy.status).toBe('RETIRED');
    const [retirement] = await auditTrail('policy.retire');
    expect(retirement.after).toMatchObject({ status: 'RETIRED', reason: 'Border data verified' });
    expect(await expectRejected(UPDATE_POLICY, { input: { id: policyId, title: 'x' } }, 'updatePolicy')).toEqual([
      { field: ['input', 'id'], code: 'INVALID_STATE', message: 'a retired policy cannot be changed' },
    ]);
    expect(await expectRejected(RETIRE_POLICY, { id: policyId, reason: 'again' }, 'retirePolicy')).toMatchObject([
      { code: 'INVALID_STATE' },
    ]);
    expect(await expectRejected(ACTIVATE_POLICY, { id: policyId }, 'activatePolicy')).toMatchObject([
      { code: 'INVALID_STATE' },
    ]);
  });

  it('audits every policy change', async () => {
    expect((await auditTrail('policy.update')).length).toBe(3);
    expect((await auditTrail('policy.activate')).length).toBe(2);
  });
});

const REGISTER = `mutation ($input: RegisterDevicesInput!) {
  registerDevices(input: $input) { registeredCount devices { imei status model { code } marketRegion { code } partner { name } } userErrors { field message code } }
}`;

describe('registerDevices', () => {
  let partnerId: string;
  const imei = imeiOf;
  const row = (serial: number, overrides: Record<string, string> = {}) => ({
    imei: imei(serial),
    serialNumber: `SN-${serial}`,
    modelCode: 'AR-5',
    marketRegionCode: 'de',
    ...overrides,
  });

  beforeAll(async () => {
    const created = await client.data(CREATE_PARTNER, { input: { name: 'Manifest Partner', kind: 'DISTRIBUTOR' } });
    partnerId = created.createPartner.partner.id;
  });

  it('registers a manifest', async () => {
    const data = await client.data(REGISTER, { input: { partnerId, devices: [row(1), row(2), row(3)] } });
    expect(data.registerDevices.userErrors).toEqual([]);
    expect(data.registerDevices.registeredCount).toBe(3);
    expect(data.registerDevices.devices[0]).toEqual({
      imei: imei(1),
      status: 'NEW',
      model: { code: 'AR-5' },
      marketRegion: { code: 'DE' },
      partner: { name: 'Manifest Partner' },
    });
    const [event] = await auditTrail('device.register');
    expect(event.after).toEqual({ registeredCount: 3, imeis: [imei(1), imei(2), imei(3)] });
  });

  it('reports every bad row and registers none of the manifest', async () => {
    const badChecksum = `${imei(10).slice(0, 14)}${(Number(imei(10)[14]) + 1) % 10}`;
    const errors = await expectRejected(
      REGISTER,
      {
        input: {
          partnerId,
          devices: [
            row(10, { imei: badChecksum }),
            row(11, { imei: '12345' }),
            row(12),
            row(12, { serialNumber: 'SN-dup' }),
            row(13, { modelCode: 'NOPE' }),
            row(14, { marketRegionCode: 'XX' }),
            row(15, { imei: imei(15, '35402117') }),
            row(1),
            row(16, { serialNumber: '   ' }),
            row(17, { imei: '000000000000000' }),
          ],
        },
      },
      'registerDevices',
    );
    expect(errors.map((error) => [error.field.slice(1).join('.'), error.code])).toEqual([
      ['devices.0.imei', 'INVALID_CHECKSUM'],
      ['devices.1.imei', 'INVALID'],
      ['devices.3.imei', 'DUPLICATE'],
      ['devices.4.modelCode', 'NOT_FOUND'],
      ['devices.5.marketRegionCode', 'NOT_FOUND'],
      ['devices.6.imei', 'INVALID'],
      ['devices.8.serialNumber', 'INVALID'],
      ['devices.9.imei', 'INVALID'],
      ['devices.7.imei', 'TAKEN'],
    ]);
    expect(errors.find((error) => error.field.join('.') === 'input.devices.6.imei')?.message).toBe(
      "imei's TAC 35402117 is not one of model AR-5's",
    );
  });

  it('rejects an unknown partner, an empty manifest and one over 10,000 rows', async () => {
    expect(
      await expectRejected(REGISTER, { input: { partnerId: 'bm9wZQ', devices: [row(20)] } }, 'registerDevices'),
    ).toEqual([{ field: ['input', 'partnerId'], code: 'NOT_FOUND', message: 'no partner has this ID' }]);
    expect(await expectRejected(REGISTER, { input: { partnerId, devices: [] } }, 'registerDevices')).toMatchObject([
      { field: ['input', 'devices'] },
    ]);
    const tooMany = Array.from({ length: 10_001 }, (_, index) => row(100_000 + index));
    expect(await expectRejected(REGISTER, { input: { partnerId, devices: tooMany } }, 'registerDevices')).toEqual([
      { field: ['input', 'devices'], code: 'TOO_MANY', message: 'devices can hold at most 10000 rows in one call' },
    ]);
  });

  it('registers 10,000 devices in one call, or none when the last row is bad', async () => {
    const manifest = Array.from({ length: 10_000 }, (_, index) => row(200_000 + index));
    const failing = [...manifest.slice(0, 9_999), row(209_999, { marketRegionCode: 'ZZ' })];
    const errors = await expectRejected(REGISTER, { input: { partnerId, devices: failing } }, 'registerDevices');
    expect(errors).toEqual([expect.objectContaining({ field: ['input', 'devices', '9999', 'marketRegionCode'] })]);

    const data = await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { registeredCount userErrors { field } } }`,
      {
        input: { partnerId, devices: manifest },
      },
    );
    expect(data.registerDevices).toEqual({ registeredCount: 10_000, userErrors: [] });
    expect(await database.dataSource.getRepository(Device).count()).toBe(10_003);
  });
});
