/**
 * Reports checked against counts computed here from the raw rows; time buckets across DST changes;
 * empty windows; partner scoping; the what-if simulation against deciding the attempts one by one.
 */
import { AddressInfo } from 'node:net';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { createApp } from '../src/app';
import { csvLines } from '../src/reports/report.csv';
import { Role } from '../src/auth/roles';
import { rowIdOf } from '../src/common/global-id';
import { Device } from '../src/devices/device.entity';
import { DeviceModel } from '../src/device-models/device-model.entity';
import { Region } from '../src/regions/region.entity';
import { engineFromSeeds, compiledSeedPolicy } from '../src/decisions/engine-from-seeds';
import { openTestDatabase, TestDatabase } from './support/database';
import { FIXED_UNTIL, registerTestDevices, seedDemo, testImei } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { decideActivation } from './support/decisions';

let database: TestDatabase;
let client: GraphQLClient;
let attempts: ActivationAttempt[];
let devices: Map<number, Device>;
let regions: Map<number, Region>;
let models: Map<number, DeviceModel>;
const DAY = 86_400_000;
const from = new Date(FIXED_UNTIL.getTime() - 90 * DAY);
const to = FIXED_UNTIL;

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
  await seedDemo(database.dataSource, 400, 6000);
  attempts = await database.dataSource.getRepository(ActivationAttempt).find();
  devices = new Map((await database.dataSource.getRepository(Device).find()).map((device) => [device.id, device]));
  regions = new Map((await database.dataSource.getRepository(Region).find()).map((region) => [region.id, region]));
  models = new Map((await database.dataSource.getRepository(DeviceModel).find()).map((model) => [model.id, model]));
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

/** Counts of a set of attempts, computed here. */
function countsOf(selected: ActivationAttempt[]) {
  return {
    attempts: selected.length,
    devices: new Set(selected.map((attempt) => attempt.deviceId)).size,
    locks: selected.filter((attempt) => attempt.outcome === 'LOCK' && attempt.enforced).length,
    reviews: selected.filter((attempt) => attempt.outcome === 'REVIEW' && attempt.enforced).length,
    monitorWouldLocks: selected.filter((attempt) => attempt.outcome === 'LOCK' && !attempt.enforced).length,
  };
}
const inWindow = (attempt: ActivationAttempt, start: Date, end: Date) =>
  attempt.occurredAt >= start && attempt.occurredAt < end;
function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
const COUNTS = 'attempts devices locks reviews monitorWouldLocks';
const STATS = `query ($filter: ActivationStatsFilter!, $groupBy: [StatsGroupBy!], $interval: StatsInterval, $timeZone: String) {
  activationStats(filter: $filter, groupBy: $groupBy, interval: $interval, timeZone: $timeZone) {
    timeZone totals { ${COUNTS} }
    rows { bucketStart outcome region { code } country { code } model { code } partner { id } policy { key } ${COUNTS} }
  }
}`;

describe('activationStats', () => {
  it('counts by region and day over 90 days exactly as the raw rows do', async () => {
    const data = await client.data(STATS, { filter: { from, to }, groupBy: ['REGION'], interval: 'DAY' });
    const selected = attempts.filter((attempt) => inWindow(attempt, from, to));
    expect(selected.length).toBeGreaterThan(1000);
    const expected = groupBy(
      selected,
      (attempt) =>
        `${attempt.occurredAt.toISOString().slice(0, 10)}T00:00:00.000Z|${attempt.resolvedRegionId === null ? null : regions.get(attempt.resolvedRegionId)!.code}`,
    );
    const actual = new Map(
      data.activationStats.rows.map((row: any) => [
        `${row.bucketStart}|${row.region?.code ?? null}`,
        {
          attempts: row.attempts,
          devices: row.devices,
          locks: row.locks,
          reviews: row.reviews,
          monitorWouldLocks: row.monitorWouldLocks,
        },
      ]),
    );
    expect(actual.size).toBe(expected.size);
    for (const [key, group] of expected) expect(actual.get(key)).toEqual(countsOf(group));
    expect(data.activationStats.totals).toEqual(countsOf(selected));
    expect(data.activationStats.timeZone).toBe('UTC');
  });

  it('groups by country, outcome, model, partner and policy', async () => {
    const data = await client.data(STATS, {
      filter: { from, to },
      groupBy: ['COUNTRY', 'OUTCOME', 'MODEL', 'PARTNER', 'POLICY'],
    });
    const selected = attempts.filter((attempt) => inWindow(attempt, from, to));
    const countryOf = (regionId: number | null) => {
      if (regionId === null) return null;
      const region = regions.get(regionId)!;
      return region.parentId === null ? region.code : regions.get(region.parentId)!.code;
    };
    const expected = groupBy(selected, (attempt) => {
      const device = devices.get(attempt.deviceId)!;
      return [
        countryOf(attempt.resolvedRegionId),
        attempt.outcome,
        models.get(device.modelId)!.code,
        device.partnerId,
        // As the POLICY group's description says: no policy decided an attempt refused because its device
        // was locked already (the demo data has such refusals since it goes through the device lifecycle).
        attempt.policyVersionId === null || attempt.reasonCodes[0] === 'DEVICE_ALREADY_LOCKED'
          ? null
          : 'export-restricted-territories',
      ].join('|');
    });
    const actual = new Map(
      data.activationStats.rows.map((row: any) => [
        [
          row.country?.code ?? null,
          row.outcome,
          row.model.code,
          rowIdOf(row.partner.id, 'Partner'),
          row.policy?.key ?? null,
        ].join('|'),
        {
          attempts: row.attempts,
          devices: row.devices,
          locks: row.locks,
          reviews: row.reviews,
          monitorWouldLocks: row.monitorWouldLocks,
        },
      ]),
    );
    expect(actual.size).toBe(expected.size);
    for (const [key, group] of expected) expect(actual.get(key)).toEqual(countsOf(group));
  });

  it('applies the filter: regions with their subdivisions, outcomes, models', async () => {
    const data = await client.data(STATS, {
      filter: { from, to, regionCodes: ['UA'], outcomes: ['LOCK', 'REVIEW'], modelCodes: ['AR-5', 'AR-5-PRO'] },
    });
    const ua = [...regions.values()]
      .filter((region) => region.code === 'UA' || regions.get(region.parentId ?? -1)?.code === 'UA')
      .map((region) => region.id);
    const selected = attempts.filter(
      (attempt) =>
        inWindow(attempt, from, to) &&
        attempt.resolvedRegionId !== null &&
        ua.includes(attempt.resolvedRegionId) &&
        ['LOCK', 'REVIEW'].includes(attempt.outcome) &&
        ['AR-5', 'AR-5-PRO'].includes(models.get(devices.get(attempt.deviceId)!.modelId)!.code),
    );
    expect(data.activationStats.rows).toEqual([
      {
        bucketStart: null,
        outcome: null,
        region: null,
        country: null,
        model: null,
        partner: null,
        policy: null,
        ...countsOf(selected),
      },
    ]);
  });

  it('buckets days in a time zone across both DST changes', async () => {
    // Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25.
    const window = { from: new Date('2026-03-27T23:00:00Z'), to: new Date('2026-10-27T23:00:00Z') };
    const data = await client.data(STATS, { filter: window, interval: 'DAY', timeZone: 'Europe/Berlin' });
    const localDay = (instant: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(instant);
    const selected = attempts.filter((attempt) => inWindow(attempt, window.from, window.to));
    const expected = groupBy(selected, (attempt) => localDay(attempt.occurredAt));
    const rows = new Map(data.activationStats.rows.map((row: any) => [localDay(new Date(row.bucketStart)), row]));
    for (const [day, group] of expected) expect((rows.get(day) as any)?.attempts).toBe(group.length);
    expect(rows.size).toBe(expected.size);
    // A bucket starts at local midnight: 23:00 UTC in winter, 22:00 UTC in summer.
    for (const row of data.activationStats.rows) {
      const start = new Date(row.bucketStart);
      expect(
        new Intl.DateTimeFormat('en-GB', {
          timeZone: 'Europe/Berlin',
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23',
        }).format(start),
      ).toBe('00:00');
    }
    const weeks = await client.data(STATS, { filter: window, interval: 'WEEK', timeZone: 'Europe/Berlin' });
    for (const row of weeks.activationStats.rows) {
      expect(
        new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'long' }).format(
          new Date(row.bucketStart),
        ),
      ).toBe('Monday');
    }
    expect(weeks.activationStats.rows.reduce((sum: number, row: any) => sum + row.attempts, 0)).toBe(selected.length);
  });

  it('answers an empty window with no rows and zero totals', async () => {
    const data = await client.data(STATS, {
      filter: { from: '2020-01-01T00:00:00Z', to: '2020-02-01T00:00:00Z' },
      groupBy: ['REGION'],
      interval: 'DAY',
    });
    expect(data.activationStats).toEqual({
      timeZone: 'UTC',
      rows: [],
      totals: { attempts: 0, devices: 0, locks: 0, reviews: 0, monitorWouldLocks: 0 },
    });
  });

  it.each([
    [{ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, {}, 'filter.to'],
    [{ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', regionCodes: ['XX'] }, {}, 'filter.regionCodes[0]'],
    [{ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', modelCodes: ['NOPE'] }, {}, 'filter.modelCodes[0]'],
    [{ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', partnerId: 'bm9wZQ' }, {}, 'filter.partnerId'],
    [{ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, { timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ from: '2010-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, {}, 'filter.to'],
  ])('refuses a bad argument naming it: %j %j', async (filter, extra, field) => {
    const result = await client.execute(STATS, { filter, ...extra });
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it("gives a partner its own devices' figures only, whatever it filters on", async () => {
    const partnerId = [...devices.values()][0].partnerId;
    const viewer = { keyId: null, name: 'p', role: Role.PARTNER, partnerId };
    const own = attempts.filter(
      (attempt) => inWindow(attempt, from, to) && devices.get(attempt.deviceId)!.partnerId === partnerId,
    );
    const data = await client.as(viewer).data(STATS, { filter: { from, to } });
    expect(data.activationStats.totals).toEqual(countsOf(own));
    const other = [...devices.values()].find((device) => device.partnerId !== partnerId)!.partnerId;
    const probing = await client
      .as(viewer)
      .data(STATS, { filter: { from, to, partnerId: `${Buffer.from(`Partner:${other}`).toString('base64url')}` } });
    expect(probing.activationStats.totals.attempts).toBe(0);
  });
});

describe('policyImpact', () => {
  it('counts what each version decided since it became effective, by outcome and region', async () => {
    const data = await client.data(
      `{ policyImpact(policyKey: "export-restricted-territories") { policyVersion { number } outcome enforced alreadyLocked region { code } attempts devices } }`,
    );
    const decided = attempts.filter((attempt) => attempt.policyVersionId !== null);
    const expected = groupBy(
      decided,
      (attempt) =>
        `${attempt.outcome}|${attempt.enforced}|${attempt.reasonCodes[0] === 'DEVICE_ALREADY_LOCKED'}|${regions.get(attempt.resolvedRegionId!)!.code}`,
    );
    expect(data.policyImpact).toHaveLength(expected.size);
    for (const row of data.policyImpact) {
      const group = expected.get(`${row.outcome}|${row.enforced}|${row.alreadyLocked}|${row.region.code}`)!;
      expect(row).toMatchObject({
        policyVersion: { number: 1 },
        attempts: group.length,
        devices: new Set(group.map((a) => a.deviceId)).size,
      });
    }
  });

  it('refuses an unknown policy naming the argument', async () => {
    const result = await client.execute(`{ policyImpact(policyKey: "nope") { attempts } }`);
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'policyKey' });
  });
});

describe('simulatePolicy', () => {
  const SIMULATE = `query ($input: SimulatePolicyInput!) { simulatePolicy(input: $input) {
    attempts skippedAttempts changedAttempts changedDevices
    transitions { from to attempts devices } byRegion { region { code } from to attempts devices } sampleDevices { id }
  } }`;
  const window = { from: new Date(FIXED_UNTIL.getTime() - 30 * DAY), to: FIXED_UNTIL };

  it('equals deciding the same attempts one by one with the draft in place, and writes nothing', async () => {
    const before = await database.dataSource.getRepository(ActivationAttempt).count();
    const draft = {
      policyKey: 'simulated-turkey',
      action: 'LOCK',
      mode: 'ENFORCE',
      priority: 50,
      regionCodes: ['TR'],
      effectiveFrom: '2020-01-01T00:00:00Z',
    };
    const data = await client.data(SIMULATE, { input: { policy: draft, ...window } });
    // Independently: the seed rules with and without the draft, attempt by attempt.
    const current = engineFromSeeds([compiledSeedPolicy()]);
    const withDraft = engineFromSeeds([
      compiledSeedPolicy(),
      {
        versionId: -1,
        policyKey: 'simulated-turkey',
        versionNumber: 1,
        action: 'LOCK',
        mode: 'ENFORCE',
        priority: 50,
        effectiveFrom: Date.parse(draft.effectiveFrom),
        effectiveUntil: null,
        regionCodes: new Set(['TR']),
        modelCodes: null,
      },
    ]);
    const effective = (decision: { outcome: string; enforced: boolean }) =>
      decision.enforced ? decision.outcome : 'ALLOW';
    const replayed = attempts.filter((attempt) => inWindow(attempt, window.from, window.to));
    const changed = replayed.filter((attempt) => {
      const device = devices.get(attempt.deviceId)!;
      const facts = {
        deviceId: device.id,
        modelCode: models.get(device.modelId)!.code,
        partnerId: device.partnerId,
        locked: false,
        lockedByVersionId: null,
      };
      return (
        effective(current.decide(attempt.signals as never, facts, attempt.occurredAt)) !==
        effective(withDraft.decide(attempt.signals as never, facts, attempt.occurredAt))
      );
    });
    expect(changed.length).toBeGreaterThan(0);
    expect(data.simulatePolicy).toMatchObject({
      attempts: replayed.length,
      skippedAttempts: 0,
      changedAttempts: changed.length,
      changedDevices: new Set(changed.map((attempt) => attempt.deviceId)).size,
    });
    // A Turkish SIM roaming elsewhere now disagrees with its GPS about a restricted region: REVIEW.
    const transitionOf = (attempt: ActivationAttempt) => {
      const device = devices.get(attempt.deviceId)!;
      const facts = {
        deviceId: device.id,
        modelCode: models.get(device.modelId)!.code,
        partnerId: device.partnerId,
        locked: false,
        lockedByVersionId: null,
      };
      const decision = withDraft.decide(attempt.signals as never, facts, attempt.occurredAt);
      return {
        key: `${effective(current.decide(attempt.signals as never, facts, attempt.occurredAt))}>${effective(decision)}`,
        region: decision.regionCode,
      };
    };
    const byTransition = groupBy(changed, (attempt) => transitionOf(attempt).key);
    const sortRows = <T extends { from: string; to: string }>(rows: T[]) =>
      [...rows].sort((a, b) => `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`));
    expect(sortRows(data.simulatePolicy.transitions)).toEqual(
      sortRows(
        [...byTransition].map(([key, group]) => ({
          from: key.split('>')[0],
          to: key.split('>')[1],
          attempts: group.length,
          devices: new Set(group.map((attempt) => attempt.deviceId)).size,
        })),
      ),
    );
    const regionsChanged = new Set(changed.map((attempt) => transitionOf(attempt).region));
    expect(new Set(data.simulatePolicy.byRegion.map((row: any) => row.region?.code ?? null))).toEqual(regionsChanged);
    expect(data.simulatePolicy.sampleDevices.length).toBe(Math.min(20, new Set(changed.map((a) => a.deviceId)).size));
    expect(await database.dataSource.getRepository(ActivationAttempt).count()).toBe(before);
  });

  it('switching the export policy to MONITOR would release every lock it makes', async () => {
    const data = await client.data(SIMULATE, {
      input: { policy: { policyKey: 'export-restricted-territories', mode: 'MONITOR' }, ...window },
    });
    const transitions = data.simulatePolicy.transitions;
    expect(transitions.every((transition: any) => transition.to === 'ALLOW')).toBe(true);
    expect(transitions.find((transition: any) => transition.from === 'LOCK').attempts).toBeGreaterThan(0);
  });

  it.each([
    [{ action: 'LOCK', mode: 'ENFORCE', regionCodes: ['TR'] }, 'input.policy.effectiveFrom'],
    [
      { action: 'LOCK', mode: 'ENFORCE', regionCodes: ['XX'], effectiveFrom: '2020-01-01T00:00:00Z' },
      'input.policy.regionCodes[0]',
    ],
    [
      {
        action: 'LOCK',
        mode: 'ENFORCE',
        regionCodes: ['TR'],
        productScope: ['NOPE'],
        effectiveFrom: '2020-01-01T00:00:00Z',
      },
      'input.policy.productScope[0]',
    ],
    // The same rule check as createPolicy's, with the same paths.
    [
      { action: 'LOCK', mode: 'ENFORCE', regionCodes: ['TR', 'tr'], effectiveFrom: '2020-01-01T00:00:00Z' },
      'input.policy.regionCodes[1]',
    ],
    [
      {
        action: 'LOCK',
        mode: 'ENFORCE',
        regionCodes: ['TR'],
        effectiveFrom: '2020-01-01T00:00:00Z',
        effectiveUntil: '2019-01-01T00:00:00Z',
      },
      'input.policy.effectiveUntil',
    ],
  ])('refuses a bad draft naming the field: %j', async (policy, field) => {
    const result = await client.execute(SIMULATE, { input: { policy, ...window } });
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('refuses a window backwards or longer than a year, naming its end', async () => {
    const policy = { policyKey: 'export-restricted-territories', mode: 'MONITOR' };
    for (const [start, end] of [
      ['2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z'],
      ['2025-01-01T00:00:00Z', '2026-02-01T00:00:00Z'],
    ]) {
      const result = await client.execute(SIMULATE, { input: { policy, from: start, to: end } });
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.to' });
    }
  });
});

describe('CSV export over HTTP', () => {
  const ADMIN_KEY = 'cgk_reports-test-admin-key-0123456789abcdef';
  let app: Awaited<ReturnType<typeof createApp>>;
  let origin: string;
  beforeAll(async () => {
    app = await createApp(database.dataSource, { ...database.settings, adminKey: ADMIN_KEY });
    const server = app.httpServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.apollo.stop());
  const get = (path: string, key: string | null = ADMIN_KEY) =>
    fetch(`${origin}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const parse = (text: string) =>
    text
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(','));

  it('streams the stats report with the same figures as the query', async () => {
    const query = `from=${from.toISOString()}&to=${to.toISOString()}&groupBy=REGION,OUTCOME&interval=WEEK&timeZone=Europe/Berlin`;
    const response = await get(`/reports/activation-stats.csv?${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...lines] = parse(await response.text());
    expect(header).toEqual([
      'bucketStart',
      'region',
      'country',
      'outcome',
      'model',
      'partner',
      'policy',
      'attempts',
      'devices',
      'locks',
      'reviews',
      'monitorWouldLocks',
      'reasonFamily',
    ]);
    const data = await client.data(STATS, {
      filter: { from, to },
      groupBy: ['REGION', 'OUTCOME'],
      interval: 'WEEK',
      timeZone: 'Europe/Berlin',
    });
    expect(lines).toHaveLength(data.activationStats.rows.length);
    expect(lines.map((line) => [line[0], line[1], line[3], Number(line[7])])).toEqual(
      data.activationStats.rows.map((row: any) => [row.bucketStart, row.region?.code ?? '', row.outcome, row.attempts]),
    );
  });

  it('streams every attempt of the window, page after page', async () => {
    const response = await get(`/reports/activation-attempts.csv?from=${from.toISOString()}&to=${to.toISOString()}`);
    const [header, ...lines] = parse(await response.text());
    expect(header[0]).toBe('occurredAt');
    expect(lines).toHaveLength(attempts.filter((attempt) => inWindow(attempt, from, to)).length);
    expect(lines.length).toBeGreaterThan(2000); // more than one page
  });

  it("defuses a spreadsheet formula in a cell: a partner named like one is written with a leading '", async () => {
    const imei = testImei(77);
    await registerTestDevices(client, [imei], "=cmd|'/C calc'!A0");
    const decided = await decideActivation(
      client,
      { imei, signals: { ipCountry: 'DE' } },
      'attempt { occurredAt } userErrors { message }',
    );
    const at = new Date(decided.attempt.occurredAt).getTime();
    const window = `from=${new Date(at - 1_000).toISOString()}&to=${new Date(at + 1_000).toISOString()}`;
    const [header, ...lines] = parse(await (await get(`/reports/activation-attempts.csv?${window}`)).text());
    const mine = lines.filter((line) => line[header.indexOf('imei')] === imei);
    expect(mine).toHaveLength(1);
    expect(mine[0][header.indexOf('partner')]).toBe("'=cmd|'/C calc'!A0");
  });

  it('streams the locked devices, the review queue and a policy impact with the figures of their queries', async () => {
    const locked = parse(
      await (await get('/reports/locked-devices.csv?groupBy=REGION,POLICY,CAUSE&regionCodes=UA,CU')).text(),
    );
    expect(locked[0]).toEqual([
      'region',
      'country',
      'policy',
      'cause',
      'model',
      'partner',
      'devices',
      'oldestLockedAt',
    ]);
    const lockedQuery = await client.data(
      `{ lockedDeviceStats(filter: { regionCodes: ["UA", "CU"] }, groupBy: [REGION, POLICY, CAUSE]) { rows { region { code } policy { key } cause devices oldestLockedAt } } }`,
    );
    expect(lockedQuery.lockedDeviceStats.rows.length).toBeGreaterThan(1);
    expect(locked.slice(1)).toEqual(
      lockedQuery.lockedDeviceStats.rows.map((row: any) => [
        row.region?.code ?? '',
        '',
        row.policy?.key ?? '',
        row.cause,
        '',
        '',
        String(row.devices),
        row.oldestLockedAt,
      ]),
    );

    const queue = parse(await (await get('/reports/review-queue.csv?groupBy=COUNTRY')).text());
    const queueQuery = await client.data(
      `{ reviewQueueStats(groupBy: [COUNTRY]) { rows { country { code } waiting } } }`,
    );
    expect(queue[0][1]).toBe('country');
    expect(queue.slice(1).map((line) => [line[1], Number(line[5])])).toEqual(
      queueQuery.reviewQueueStats.rows.map((row: any) => [row.country?.code ?? '', row.waiting]),
    );

    const impact = parse(
      await (await get('/reports/policy-impact.csv?policyKey=export-restricted-territories')).text(),
    );
    const impactQuery = await client.data(
      `{ policyImpact(policyKey: "export-restricted-territories") { policyVersion { number } region { code } outcome enforced alreadyLocked attempts devices } }`,
    );
    expect(impact[0]).toEqual([
      'policy',
      'version',
      'region',
      'outcome',
      'enforced',
      'alreadyLocked',
      'attempts',
      'devices',
    ]);
    expect(impact.slice(1)).toEqual(
      impactQuery.policyImpact.map((row: any) => [
        'export-restricted-territories',
        String(row.policyVersion.number),
        row.region?.code ?? '',
        row.outcome,
        String(row.enforced),
        String(row.alreadyLocked),
        String(row.attempts),
        String(row.devices),
      ]),
    );
  });

  it('refuses the other reports without the right or with a bad parameter named', async () => {
    const partner = await client.data(
      `mutation ($p: ID!) { createApiKey(input: { name: "partner-queue-csv", role: PARTNER, partnerId: $p }) { secret } }`,
      { p: Buffer.from(`Partner:${[...devices.values()][0].partnerId}`).toString('base64url') },
    );
    expect((await get('/reports/review-queue.csv', partner.createApiKey.secret)).status).toBe(403);
    for (const [path, field] of [
      ['/reports/locked-devices.csv?groupBy=PLANET', 'groupBy'],
      ['/reports/locked-devices.csv?modelCodes=NOPE', 'filter.modelCodes[0]'],
      ['/reports/review-queue.csv?regionCodes=XX', 'filter.regionCodes[0]'],
      ['/reports/policy-impact.csv', 'policyKey'],
      ['/reports/policy-impact.csv?policyKey=nope', 'policyKey'],
      [`/reports/policy-impact.csv?policyKey=${'k'.repeat(101)}`, 'policyKey'],
      ['/reports/policy-impact.csv?policyKey=export-restricted-territories&to=soon', 'to'],
    ]) {
      const response = await get(path);
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('refuses without a key, without the right, and with a bad parameter named', async () => {
    const path = `/reports/activation-stats.csv?from=${from.toISOString()}&to=${to.toISOString()}`;
    expect((await get(path, null)).status).toBe(401);
    const support = await client.data(
      `mutation { createApiKey(input: { name: "support-csv", role: SUPPORT }) { secret } }`,
    );
    const forbidden = await get(path, support.createApiKey.secret);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    const bad = await get(`/reports/activation-stats.csv?from=yesterday&to=${to.toISOString()}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    const tooMany = await get(`${path}&regionCodes=${Array.from({ length: 101 }, () => 'DE').join(',')}`);
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as any).errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.regionCodes',
    });
    const badGroup = await get(`${path}&groupBy=PLANET`);
    expect(((await badGroup.json()) as any).errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'groupBy',
    });
  });

  it("gives a partner key its own devices' attempts only", async () => {
    const partnerId = [...devices.values()][0].partnerId;
    const created = await client.data(
      `mutation ($p: ID!) { createApiKey(input: { name: "partner-csv", role: PARTNER, partnerId: $p }) { secret } }`,
      {
        p: Buffer.from(`Partner:${partnerId}`).toString('base64url'),
      },
    );
    const response = await get(
      `/reports/activation-attempts.csv?from=${from.toISOString()}&to=${to.toISOString()}`,
      created.createApiKey.secret,
    );
    const [, ...lines] = parse(await response.text());
    const own = attempts.filter(
      (attempt) => inWindow(attempt, from, to) && devices.get(attempt.deviceId)!.partnerId === partnerId,
    );
    expect(lines).toHaveLength(own.length);
  });

  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(csvLines([['a,b', 'say "hi"', -5, null, true, new Date(0)]])).toBe(
      '"a,b","say ""hi""",-5,,true,1970-01-01T00:00:00.000Z\r\n',
    );
    expect(csvLines([['=HYPERLINK("x")', '+1', '-1+2', '@SUM(A1)', '\tcmd']])).toBe(
      `"'=HYPERLINK(""x"")",'+1,'-1+2,'@SUM(A1),'\tcmd\r\n`,
    );
  });
});

describe('the hourly and daily rollups', () => {
  it('equal a GROUP BY over the raw attempts, kept in the transaction of every insert', async () => {
    // Decisions after the seed insert attempts one by one and in batches: the trigger counts them all.
    const partner = await client.data(`{ partners(first: 1) { nodes { id } } devices(first: 5) { nodes { imei } } }`);
    for (const [index, device] of partner.devices.nodes.entries()) {
      await decideActivation(
        client,
        { imei: device.imei, signals: { ipCountry: index % 2 ? 'DE' : 'CU' } },
        'userErrors { message }',
      );
    }
    const postgres = database.dataSource.options.type === 'postgres';
    const periods = [
      [
        'hourly',
        'hourStart',
        postgres ? `date_trunc('hour', "occurredAt", 'UTC')` : `substr("occurredAt", 1, 13) || ':00:00.000'`,
      ],
      [
        'daily',
        'dayStart',
        postgres ? `date_trunc('day', "occurredAt", 'UTC')` : `substr("occurredAt", 1, 10) || ' 00:00:00.000'`,
      ],
    ];
    const normalise = (rows: Record<string, unknown>[]) =>
      rows
        .map((row) => ({
          hour:
            new Date(String(row.hour).replace(' ', 'T') + (String(row.hour).includes('Z') ? '' : 'Z')).getTime() ||
            String(row.hour),
          region: Number(row.region),
          outcome: String(row.outcome),
          enforced: row.enforced === true || row.enforced === 1,
          attempts: Number(row.attempts),
        }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    for (const [name, start, period] of periods) {
      const raw = await database.dataSource.query(
        `SELECT ${period} AS "hour", COALESCE("resolvedRegionId", 0) AS "region", "outcome", "enforced", COUNT(*) AS "attempts" FROM "activation_attempt" GROUP BY 1, 2, 3, 4`,
      );
      const rollup = await database.dataSource.query(
        `SELECT "${start}" AS "hour", "regionKey" AS "region", "outcome", "enforced", "attempts" FROM "activation_${name}_rollup"`,
      );
      expect(rollup.length).toBeGreaterThan(100);
      expect(normalise(rollup)).toEqual(normalise(raw));
    }
  });

  it.each([
    ['region by day', 'daily', { groupBy: ['REGION'], interval: 'DAY' }],
    [
      'country and outcome by week in Berlin',
      'hourly',
      { groupBy: ['COUNTRY', 'OUTCOME'], interval: 'WEEK', timeZone: 'Europe/Berlin' },
    ],
    ['outcome by hour in New York', 'hourly', { groupBy: ['OUTCOME'], interval: 'HOUR', timeZone: 'America/New_York' }],
    ['region by day in Tokyo', 'hourly', { groupBy: ['REGION'], interval: 'DAY', timeZone: 'Asia/Tokyo' }],
    [
      'filtered regions and outcomes by month',
      'daily',
      { groupBy: ['REGION'], interval: 'MONTH', filter: { regionCodes: ['UA', 'CU'], outcomes: ['LOCK', 'REVIEW'] } },
    ],
    ['country over the whole window', 'daily', { groupBy: ['COUNTRY'] }],
  ])(
    'answers %s from the %s rollup with the figures of the raw scan',
    async (_name, rollup, shape: Record<string, any>) => {
      const variables = {
        groupBy: shape.groupBy,
        interval: shape.interval,
        timeZone: shape.timeZone ?? 'UTC',
        filter: { from, to, ...shape.filter },
      };
      const FIGURES = 'attempts locks reviews monitorWouldLocks';
      const query = (
        counts: string,
      ) => `query ($filter: ActivationStatsFilter!, $groupBy: [StatsGroupBy!], $interval: StatsInterval, $timeZone: String) {
      activationStats(filter: $filter, groupBy: $groupBy, interval: $interval, timeZone: $timeZone) {
        totals { ${counts} } rows { bucketStart outcome region { code } country { code } ${counts} }
      }
    }`;
      const counter = database.statements;
      const fast = await counter.measure(() => client.data(query(FIGURES), variables));
      expect(fast.statements.some((sql) => sql.includes(`activation_${rollup}_rollup`))).toBe(true);
      expect(fast.statements.some((sql) => sql.includes('FROM "activation_attempt"'))).toBe(false);
      // With distinct devices the report counts over the attempts, except for UTC days by region, whose
      // devices are kept per day (test/daily-devices.test.ts checks those against the raw rows).
      const exact = await counter.measure(() => client.data(query(`${FIGURES} devices`), variables));
      const utcDaysByRegion = shape.interval === 'DAY' && !shape.timeZone;
      expect(exact.statements.some((sql) => sql.includes('_rollup"'))).toBe(utcDaysByRegion);
      expect(exact.statements.some((sql) => sql.includes('FROM "activation_attempt"'))).toBe(!utcDaysByRegion);
      const withoutDevices = ({ devices: _devices, ...rest }: Record<string, unknown>) => rest;
      expect(fast.result.activationStats.totals).toEqual(withoutDevices(exact.result.activationStats.totals));
      expect(fast.result.activationStats.rows).toEqual(exact.result.activationStats.rows.map(withoutDevices));
      expect(fast.result.activationStats.rows.length).toBeGreaterThan(0);
    },
  );

  it('reads the raw attempts for windows off the hour, half-hour zones, models and partners', async () => {
    const FIGURES = 'totals { attempts } rows { attempts }';
    const counter = database.statements;
    for (const variables of [
      { filter: { from: new Date(from.getTime() + 60_000), to }, groupBy: ['REGION'] },
      { filter: { from, to }, groupBy: ['REGION'], interval: 'DAY', timeZone: 'Asia/Kolkata' },
      { filter: { from, to }, groupBy: ['MODEL'] },
      { filter: { from, to, modelCodes: ['AR-5'] }, groupBy: ['REGION'] },
    ]) {
      const measured = await counter.measure(() =>
        client.data(
          `query ($filter: ActivationStatsFilter!, $groupBy: [StatsGroupBy!], $interval: StatsInterval, $timeZone: String) {
            activationStats(filter: $filter, groupBy: $groupBy, interval: $interval, timeZone: $timeZone) { ${FIGURES} } }`,
          variables,
        ),
      );
      expect(measured.statements.some((sql) => sql.includes('_rollup"'))).toBe(false);
    }
  });
});
