import { ActivationAttempt, DecisionOutcome } from '../src/activations/activation-attempt.entity';
import { Device, DeviceStatus } from '../src/devices/device.entity';
import { Region } from '../src/regions/region.entity';
import { openTestDatabase, TestDatabase } from './support/database';
import { withCheckDigit } from '../src/devices/imei';
import { seedDemo } from './support/fixtures';
import { GraphQLClient } from './support/graphql';

let database: TestDatabase;
let client: GraphQLClient;

beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 120, 2500);
  client = await GraphQLClient.create(database);
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

const devices = () => database.dataSource.getRepository(Device);
const attempts = () => database.dataSource.getRepository(ActivationAttempt);

describe('regions', () => {
  it('lists every ISO country plus the subdivisions, and finds one by code', async () => {
    const data = await client.data(`{
      regions(first: 3) { totalCount nodes { code } }
      subdivisions: regions(first: 10, filter: { kind: SUBDIVISION, parentCode: "UA" }) { nodes { code name kind } }
      crimea: region(code: "ua-43") { code name kind parent { code } children(first: 5) { totalCount } }
      ukraine: region(code: "UA") { children(first: 2, orderBy: { field: NAME }) { totalCount nodes { name } } }
      nowhere: region(code: "XX") { code }
    }`);
    expect(data.regions.totalCount).toBe(256);
    expect(data.regions.nodes.map((region: { code: string }) => region.code)).toEqual(['AD', 'AE', 'AF']);
    expect(data.subdivisions.nodes.map((region: { code: string }) => region.code)).toEqual([
      'UA-09',
      'UA-14',
      'UA-23',
      'UA-40',
      'UA-43',
      'UA-65',
    ]);
    expect(data.crimea).toEqual({
      code: 'UA-43',
      name: 'Autonomous Republic of Crimea',
      kind: 'SUBDIVISION',
      parent: { code: 'UA' },
      children: { totalCount: 0 },
    });
    expect(data.ukraine.children).toEqual({
      totalCount: 6,
      nodes: [{ name: 'Autonomous Republic of Crimea' }, { name: 'Donetsk Oblast' }],
    });
    expect(data.nowhere).toBeNull();
  });

  it('filters by mobile country code and by name', async () => {
    const data = await client.data(`{
      byMcc: regions(filter: { mobileCountryCode: "368" }) { nodes { code } }
      byName: regions(filter: { nameContains: "KOREA" }) { nodes { code } }
      literal: regions(filter: { nameContains: "%" }) { totalCount }
    }`);
    expect(data.byMcc.nodes).toEqual([{ code: 'CU' }]);
    expect(data.byName.nodes.map((region: { code: string }) => region.code)).toEqual(['KP', 'KR']);
    expect(data.literal.totalCount).toBe(0);
  });

  it('knows which policies cover a region, through its country too', async () => {
    const data = await client.data(`{
      sevastopol: region(code: "UA-40") { policies { nodes { key } } }
      cuba: region(code: "CU") { policies { nodes { key } } }
      kherson: region(code: "UA-65") { policies { totalCount } }
      russia: region(code: "RU") { policies { totalCount } }
    }`);
    expect(data.sevastopol.policies.nodes).toEqual([{ key: 'export-restricted-territories' }]);
    expect(data.cuba.policies.nodes).toEqual([{ key: 'export-restricted-territories' }]);
    expect(data.kherson.policies.totalCount).toBe(0);
    expect(data.russia.policies.totalCount).toBe(0);
  });
});

describe('cursor pagination', () => {
  it('returns as many items by default as the schema says, on every list', async () => {
    const schema = await client.data(
      `{ __type(name: "Query") { fields { name args { name description } type { name ofType { name } } } } }`,
    );
    const lists = schema.__type.fields.filter((field: any) => field.args.some((arg: any) => arg.name === 'first'));
    expect(lists.length).toBeGreaterThan(10);
    for (const field of lists) {
      for (const name of ['first', 'last']) {
        const description = field.args.find((arg: any) => arg.name === name).description;
        expect({
          field: field.name,
          name,
          default: /Without `first` and `last`, the first (\d+)\./.exec(description)?.[1],
        }).toEqual({
          field: field.name,
          name,
          default: '20',
        });
      }
    }
    // 256 regions are seeded: a list without first or last returns the described default.
    const regions = await client.data(`{ regions { totalCount nodes { code } } }`);
    expect(regions.regions.totalCount).toBeGreaterThan(20);
    expect(regions.regions.nodes).toHaveLength(20);
  });

  async function walk(direction: 'forward' | 'backward', orderBy?: object): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages += 1) {
      const page: any = await client.data(
        `query ($first: Int, $after: String, $last: Int, $before: String, $orderBy: DeviceOrder) {
          devices(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
            nodes { imei }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          }
        }`,
        direction === 'forward' ? { first: 17, after: cursor, orderBy } : { last: 17, before: cursor, orderBy },
      );
      const imeis = page.devices.nodes.map((device: { imei: string }) => device.imei);
      if (direction === 'forward') {
        seen.push(...imeis);
        if (!page.devices.pageInfo.hasNextPage) return seen;
        cursor = page.devices.pageInfo.endCursor;
      } else {
        seen.unshift(...imeis);
        if (!page.devices.pageInfo.hasPreviousPage) return seen;
        cursor = page.devices.pageInfo.startCursor;
      }
    }
    throw new Error('pagination did not end');
  }

  it('visits every device once, in order, forward and backward', async () => {
    const expected = (await devices().find({ order: { imei: 'ASC' } })).map((device) => device.imei);
    expect(await walk('forward')).toEqual(expected);
    expect(await walk('backward')).toEqual(expected);
  });

  it('orders by a non-unique key with the id breaking ties', async () => {
    const expected = (await devices().find({ order: { createdAt: 'DESC', id: 'DESC' } })).map((device) => device.imei);
    const orderBy = { field: 'CREATED_AT', direction: 'DESC' };
    expect(await walk('forward', orderBy)).toEqual(expected);
    expect(await walk('backward', orderBy)).toEqual(expected);
  });

  it('is not shifted by rows inserted before the cursor meanwhile (keyset, not offset)', async () => {
    const query = `query ($after: String) { devices(first: 5, after: $after) { nodes { imei } pageInfo { endCursor } } }`;
    const first = await client.data(query);
    const secondBefore = await client.data(query, { after: first.devices.pageInfo.endCursor });
    const existing = await devices().findOneByOrFail({ imei: first.devices.nodes[0].imei });
    // An IMEI that sorts before the whole first page: an offset-based page 2 would shift by one.
    const earlier = withCheckDigit('10000000000001');
    expect(earlier < first.devices.nodes[0].imei).toBe(true);
    await devices().insert({ ...existing, id: undefined, imei: earlier, serialNumber: 'SN-CONCURRENT' });
    const secondAfter = await client.data(query, { after: first.devices.pageInfo.endCursor });
    expect(secondAfter.devices.nodes).toEqual(secondBefore.devices.nodes);
    await devices().delete({ serialNumber: 'SN-CONCURRENT' });
  });

  it.each([
    ['first: 101', 'first: must be from 1 to 100; got 101', 'first'],
    ['first: 0', 'first: must be from 1 to 100; got 0', 'first'],
    ['last: 1000', 'last: must be from 1 to 100; got 1000', 'last'],
    ['first: 2, last: 2', 'last: cannot be combined with first; page one way', 'last'],
    ['after: "nope"', 'after: is not a cursor this list issued', 'after'],
  ])('rejects %s naming the argument', async (args, message, field) => {
    const result = await client.execute(`{ devices(${args}) { totalCount } }`);
    expect(result.data).toBeNull();
    expect(result.errors).toMatchObject([
      { message, path: ['devices'], extensions: { code: 'BAD_USER_INPUT', field } },
    ]);
  });

  it('bounds nested connections the same way', async () => {
    const result = await client.execute(`{ devices(first: 1) { nodes { attempts(first: 500) { totalCount } } } }`);
    expect(result.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'first' } }]);
  });
});

describe('devices', () => {
  it('filters by status, model, market region, partner and IMEI prefix, as SQL counts them', async () => {
    const locked = await devices().countBy({ status: DeviceStatus.LOCKED });
    const sample = await devices().findOneOrFail({ where: {}, order: { id: 'ASC' } });
    const model = await client.data(
      `query ($id: ID!) { node(id: $id) { ... on Device { model { code } marketRegion { code } partner { id } } } }`,
      {
        id: sample.globalId,
      },
    );
    const { code: modelCode } = model.node.model;
    const data = await client.data(
      `query ($modelCode: String!, $region: String!, $partner: ID!, $prefix: String!) {
        locked: devices(filter: { statuses: [LOCKED] }) { totalCount }
        byModel: devices(filter: { modelCodes: [$modelCode] }) { totalCount }
        byRegion: devices(filter: { marketRegionCodes: [$region] }) { totalCount }
        byPartner: devices(filter: { partnerIds: [$partner] }) { totalCount }
        byPrefix: devices(filter: { imeiPrefix: $prefix }) { totalCount nodes { imei } }
        combined: devices(filter: { modelCodes: [$modelCode], marketRegionCodes: [$region], partnerIds: [$partner] }) { totalCount }
      }`,
      {
        modelCode,
        region: model.node.marketRegion.code,
        partner: model.node.partner.id,
        prefix: sample.imei.slice(0, 9),
      },
    );
    expect(data.locked.totalCount).toBe(locked);
    expect(locked).toBeGreaterThan(0);
    expect(data.byModel.totalCount).toBe(await devices().countBy({ modelId: sample.modelId }));
    expect(data.byRegion.totalCount).toBe(await devices().countBy({ marketRegionId: sample.marketRegionId }));
    expect(data.byPartner.totalCount).toBe(await devices().countBy({ partnerId: sample.partnerId }));
    expect(data.combined.totalCount).toBe(
      await devices().countBy({
        modelId: sample.modelId,
        marketRegionId: sample.marketRegionId,
        partnerId: sample.partnerId,
      }),
    );
    const all = await devices().find();
    expect(data.byPrefix.totalCount).toBe(
      all.filter((device) => device.imei.startsWith(sample.imei.slice(0, 9))).length,
    );
    expect(
      data.byPrefix.nodes.every((device: { imei: string }) => device.imei.startsWith(sample.imei.slice(0, 9))),
    ).toBe(true);
  });

  it('bounds every filter list like a page, and filter texts', async () => {
    const many = Array.from({ length: 101 }, (_, index) => `M${index}`);
    const lists = await client.execute(
      `query ($codes: [String!]) { devices(filter: { modelCodes: $codes }) { totalCount } }`,
      {
        codes: many,
      },
    );
    expect(lists.errors).toMatchObject([
      {
        message: 'filter.modelCodes: at most 100 values; got 101',
        extensions: { code: 'BAD_USER_INPUT', field: 'filter.modelCodes' },
      },
    ]);
    const text = await client.execute(
      `query ($text: String) { regions(filter: { nameContains: $text }) { totalCount } }`,
      {
        text: 'x'.repeat(201),
      },
    );
    expect(text.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'filter.nameContains' } }]);
    const justUnder = await client.execute(
      `query ($codes: [String!]) { regions(filter: { codes: $codes }) { totalCount } }`,
      {
        codes: many.slice(0, 100),
      },
    );
    expect(justUnder.errors).toBeUndefined();
  });

  it('bounds plain text arguments (keys, codes, IDs, cursors), naming the argument, and counts nothing', async () => {
    const long = 'x'.repeat(1_001);
    for (const [query, field] of [
      ['query ($v: String!) { policy(key: $v) { id } }', 'key'],
      ['query ($v: String!) { policyImpact(policyKey: $v) { attempts } }', 'policyKey'],
      ['query ($v: String!) { region(code: $v) { id } }', 'code'],
      ['query ($v: String) { devices(after: $v) { totalCount } }', 'after'],
    ]) {
      const measured = await database.statements.measure(() => client.execute(query, { v: long }));
      expect(measured.result.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field } }]);
      expect(measured.statements).toEqual([]);
    }
    const ids = await client.execute('query ($v: [ID!]!) { nodes(ids: $v) { id } }', { v: ['a', long] });
    expect(ids.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'ids' } }]);
    const justUnder = await client.execute('query ($v: String!) { policy(key: $v) { id } }', { v: long.slice(1) });
    expect(justUnder.errors).toBeUndefined();
  });

  it.each([
    ['{ modelCodes: ["NOPE"] }', 'filter.modelCodes[0]: no device model has code "NOPE"'],
    ['{ marketRegionCodes: ["US", "ZZ"] }', 'filter.marketRegionCodes[1]: unknown region code "ZZ"'],
    ['{ partnerIds: ["bad"] }', 'filter.partnerIds[0]: is not a partner ID'],
    ['{ imeiPrefix: "35a" }', 'filter.imeiPrefix: must be 1 to 15 digits'],
  ])('rejects the filter %s naming the field', async (filter, message) => {
    const result = await client.execute(`{ devices(filter: ${filter}) { totalCount } }`);
    expect(result.errors).toMatchObject([{ message, extensions: { code: 'BAD_USER_INPUT' } }]);
  });

  it('finds a device by IMEI and refuses malformed IMEIs', async () => {
    const sample = await devices().findOneOrFail({ where: { status: DeviceStatus.LOCKED }, order: { id: 'ASC' } });
    const data = await client.data(
      `query ($imei: String!) {
      device(imei: $imei) { imei status lockedAt lockReason lockedByAttempt { outcome enforced resolvedRegion { code } } }
      unknown: device(imei: "490154203237518") { imei }
    }`,
      { imei: sample.imei },
    );
    expect(data.device).toMatchObject({
      imei: sample.imei,
      status: 'LOCKED',
      lockedByAttempt: { outcome: 'LOCK', enforced: true },
    });
    expect(['UA-43', 'UA-40', 'CU', 'IR', 'SY', 'KP', 'SD']).toContain(data.device.lockedByAttempt.resolvedRegion.code);
    expect(data.unknown).toBeNull();
    const bad = await client.execute(`{ device(imei: "490154203237517") { imei } }`);
    expect(bad.errors).toMatchObject([
      { message: 'imei: fails the Luhn check digit', extensions: { code: 'BAD_USER_INPUT', field: 'imei' } },
    ]);
  });

  it('lists devices under partners and models', async () => {
    const data = await client.data(
      `{ partners(first: 2) { nodes { name devices(first: 3, statuses: [LOCKED, ACTIVE, NEW, UNDER_REVIEW]) { totalCount nodes { imei partner { name } } } } } }`,
    );
    for (const partner of data.partners.nodes) {
      for (const device of partner.devices.nodes) expect(device.partner.name).toBe(partner.name);
      const row = await database.dataSource.getRepository('partner').findOneByOrFail({ name: partner.name });
      expect(partner.devices.totalCount).toBe(await devices().countBy({ partnerId: row.id }));
    }
  });
});

describe('activation attempts', () => {
  it('filter by region including its subdivisions, outcome and time range, as SQL counts them', async () => {
    const ukraine = await database.dataSource.getRepository(Region).findOneByOrFail({ code: 'UA' });
    const ukrainian = await database.dataSource.getRepository(Region).findBy({ parentId: ukraine.id });
    const regionIds = [ukraine.id, ...ukrainian.map((region) => region.id)];
    const all = await attempts().find();
    const from = new Date('2026-09-15T00:00:00Z');
    const before = new Date('2026-10-01T00:00:00Z');
    const data = await client.data(
      `query ($from: DateTime!, $before: DateTime!) {
        ukraine: activationAttempts(filter: { regionCodes: ["UA"] }) { totalCount }
        crimea: activationAttempts(filter: { regionCodes: ["UA-43"] }) { totalCount nodes { resolvedRegion { code } } }
        locks: activationAttempts(filter: { outcomes: [LOCK] }) { totalCount }
        window: activationAttempts(first: 100, filter: { occurredFrom: $from, occurredBefore: $before }) { totalCount nodes { occurredAt } }
      }`,
      { from: from.toISOString(), before: before.toISOString() },
    );
    expect(data.ukraine.totalCount).toBe(all.filter((attempt) => regionIds.includes(attempt.resolvedRegionId!)).length);
    expect(data.crimea.nodes.every((attempt: any) => attempt.resolvedRegion.code === 'UA-43')).toBe(true);
    expect(data.locks.totalCount).toBe(all.filter((attempt) => attempt.outcome === DecisionOutcome.LOCK).length);
    const inWindow = all.filter((attempt) => attempt.occurredAt >= from && attempt.occurredAt < before);
    expect(data.window.totalCount).toBe(inWindow.length);
    const times = data.window.nodes.map((attempt: { occurredAt: string }) => attempt.occurredAt);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('rejects an empty time range and unknown regions', async () => {
    const result = await client.execute(`{
      activationAttempts(filter: { occurredFrom: "2026-10-01T00:00:00Z", occurredBefore: "2026-10-01T00:00:00Z" }) { totalCount }
    }`);
    expect(result.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'filter.occurredBefore' } }]);
    const unknown = await client.execute(`{ activationAttempts(filter: { regionCodes: ["UA-99"] }) { totalCount } }`);
    expect(unknown.errors).toMatchObject([{ message: 'filter.regionCodes[0]: unknown region code "UA-99"' }]);
    const badDate = await client.execute(
      `{ activationAttempts(filter: { occurredFrom: "yesterday" }) { totalCount } }`,
    );
    expect(badDate.errors?.[0].extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
  });
});

describe('node and nodes', () => {
  it('refetch every Node type by its global ID', async () => {
    const data = await client.data(`{
      regions(first: 1) { nodes { id } }
      partners(first: 1) { nodes { id } }
      deviceModels(first: 1) { nodes { id } }
      devices(first: 1) { nodes { id } }
      policies(first: 1) { nodes { id currentVersion { id } } }
      activationAttempts(first: 1) { nodes { id } }
      auditEvents(first: 1) { nodes { id } }
    }`);
    const ids: Record<string, string> = {
      Region: data.regions.nodes[0].id,
      Partner: data.partners.nodes[0].id,
      DeviceModel: data.deviceModels.nodes[0].id,
      Device: data.devices.nodes[0].id,
      Policy: data.policies.nodes[0].id,
      PolicyVersion: data.policies.nodes[0].currentVersion.id,
      ActivationAttempt: data.activationAttempts.nodes[0].id,
      AuditEvent: data.auditEvents.nodes[0].id,
    };
    for (const [typeName, id] of Object.entries(ids)) {
      const refetched = await client.data(`query ($id: ID!) { node(id: $id) { __typename id } }`, { id });
      expect(refetched.node).toEqual({ __typename: typeName, id });
    }
    const many = await client.data(`query ($ids: [ID!]!) { nodes(ids: $ids) { __typename } }`, {
      ids: [ids.Device, 'not-an-id', ids.Region, Buffer.from('Device:999999').toString('base64url')],
    });
    expect(many.nodes).toEqual([{ __typename: 'Device' }, null, { __typename: 'Region' }, null]);
  });

  it('caps nodes(ids:) at the page size', async () => {
    const result = await client.execute(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
      ids: Array(101).fill('x'),
    });
    expect(result.errors).toMatchObject([
      { message: 'ids: at most 100 IDs; got 101', extensions: { code: 'BAD_USER_INPUT' } },
    ]);
  });
});

describe('policies', () => {
  it('shows the seed export policy with its version, regions and translations', async () => {
    const data = await client.data(`{
      policy(key: "export-restricted-territories") {
        key status title action mode
        regions(first: 3) { totalCount nodes { code } }
        currentVersion {
          number priority effectiveFrom effectiveUntil lockMessage
          ru: localizedLockMessage(locale: "ru")
          ptBR: localizedLockMessage(locale: "pt-BR")
          lockMessageTranslations { locale }
          regions(first: 20) { totalCount nodes { code } }
          productScope { totalCount }
        }
        versions { totalCount }
      }
      covering: policies(filter: { coversRegionCode: "UA-40", statuses: [ACTIVE], modes: [ENFORCE], actions: [LOCK] }) { totalCount }
      notCovering: policies(filter: { coversRegionCode: "FR" }) { totalCount }
    }`);
    const policy = data.policy;
    expect(policy).toMatchObject({
      key: 'export-restricted-territories',
      status: 'ACTIVE',
      action: 'LOCK',
      mode: 'ENFORCE',
    });
    expect(policy.currentVersion.regions.nodes.map((region: { code: string }) => region.code)).toEqual([
      'CU',
      'IR',
      'KP',
      'SD',
      'SY',
      'UA-40',
      'UA-43',
    ]);
    expect(policy.regions).toEqual({ totalCount: 7, nodes: [{ code: 'CU' }, { code: 'IR' }, { code: 'KP' }] });
    expect(policy.currentVersion.lockMessage).toBe(
      "The manufacturer's policy does not permit the sale or distribution of a product to the territory in which you attempted to activate it.",
    );
    expect(policy.currentVersion.ru).toMatch(/^Политика производителя/);
    expect(policy.currentVersion.ptBR).toBe(policy.currentVersion.lockMessage);
    expect(policy.currentVersion.lockMessageTranslations.length).toBeGreaterThanOrEqual(2);
    expect(policy.currentVersion.productScope.totalCount).toBe(0);
    expect(data.covering.totalCount).toBe(1);
    expect(data.notCovering.totalCount).toBe(0);
  });
});

describe('audit trail', () => {
  it('lists events newest first by default, or oldest first, filtered by action', async () => {
    const data = await client.data(`{
      newest: auditEvents(first: 5) { nodes { occurredAt action } }
      oldest: auditEvents(first: 5, orderBy: { field: OCCURRED_AT, direction: ASC }) { nodes { occurredAt action actor targetId after } }
      creations: auditEvents(filter: { actions: ["policy.create"] }) { totalCount }
    }`);
    const newest = data.newest.nodes.map((event: { occurredAt: string }) => event.occurredAt);
    expect(newest).toEqual([...newest].sort().reverse());
    expect(data.oldest.nodes[0]).toMatchObject({ action: 'policy.create', actor: 'system' });
    expect(data.oldest.nodes[0].after.rules.regionCodes).toEqual(['CU', 'IR', 'KP', 'SD', 'SY', 'UA-40', 'UA-43']);
    expect(data.creations.totalCount).toBe(1);
    const exemptions = await client.data(
      `{ exemptions(orderBy: { field: CREATED_AT, direction: ASC }, filter: { activeOnly: true }) { totalCount } }`,
    );
    expect(exemptions.exemptions.totalCount).toBe(0);
  });
});

describe('errors', () => {
  it('carry a code for validation failures too', async () => {
    const result = await client.execute(`{ devices { nonsense } }`);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
