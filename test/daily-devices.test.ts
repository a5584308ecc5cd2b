/**
 * Distinct devices per UTC day and over windows of whole days, kept by the attempt triggers: the
 * kept counts equal what the raw attempts give — after seeding, decisions, attempts reported late
 * into the middle of a device's days, several days of one device in one statement and (on
 * PostgreSQL) two transactions adding days to one device at once — and the reports that read them
 * give the figures counted here from the raw rows, without a pass over the attempts.
 */
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { Role } from '../src/auth/roles';
import { Device } from '../src/devices/device.entity';
import { Region } from '../src/regions/region.entity';
import { openTestDatabase, rollBackMigrations, TestDatabase, usingPostgres } from './support/database';
import { FIXED_UNTIL, seedDemo } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { decideActivation } from './support/decisions';
import { expectedFrom, keptTables } from './support/device-days';

let database: TestDatabase;
let client: GraphQLClient;
let regions: Map<number, Region>;
const DAY = 86_400_000;
const utcDay = (instant: Date) => instant.toISOString().slice(0, 10);

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
  await seedDemo(database.dataSource, 300, 4000);
  regions = new Map((await database.dataSource.getRepository(Region).find()).map((region) => [region.id, region]));
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

const allAttempts = () => database.dataSource.getRepository(ActivationAttempt).find({ order: { id: 'ASC' } });
const countryOf = (regionId: number | null) => (regionId === null ? 0 : (regions.get(regionId)!.parentId ?? regionId));

/** A copy of a stored attempt at another instant (a late report of another activation). */
function copyAt(attempt: ActivationAttempt, occurredAt: Date, key: string): Partial<ActivationAttempt> {
  const { id: _id, ...rest } = attempt;
  return { ...rest, occurredAt, receivedAt: new Date(), idempotencyKey: key };
}

describe('the daily device counts', () => {
  it('equal the raw attempts after seeding', async () => {
    expect(await keptTables(database.dataSource)).toEqual(expectedFrom(await allAttempts(), regions));
  });

  it('are filled by their migration from the attempts already stored', async () => {
    const { dataSource } = database;
    await rollBackMigrations(dataSource, 'DailyCounts1764900000000');
    const runner = dataSource.createQueryRunner();
    expect(await runner.hasTable('activation_device_day')).toBe(false);
    await runner.release();
    await dataSource.runMigrations({ transaction: 'each' });
    expect(await keptTables(database.dataSource)).toEqual(expectedFrom(await allAttempts(), regions));
  });

  it('stay equal after decisions, late reports into the middle of a chain and several days in one statement', async () => {
    const attempts = await allAttempts();
    // A device with active days apart: report an activation between them, one before the first and one on a known day.
    const byDevice = new Map<number, ActivationAttempt[]>();
    for (const attempt of attempts)
      byDevice.set(attempt.deviceId, [...(byDevice.get(attempt.deviceId) ?? []), attempt]);
    const spread = [...byDevice.values()].filter((own) => {
      const days = new Set(own.map((attempt) => utcDay(attempt.occurredAt)));
      return days.size >= 2 && own.length >= 2;
    });
    expect(spread.length).toBeGreaterThan(10);
    const [first, second] = spread;
    const firstDays = first.map((attempt) => attempt.occurredAt.getTime()).sort((a, b) => a - b);
    const between = new Date(Math.floor((firstDays[0] + firstDays[firstDays.length - 1]) / 2 / DAY) * DAY + 3_600_000);
    const { imei } = await database.dataSource.getRepository(Device).findOneByOrFail({ id: first[0].deviceId });
    for (const [index, occurredAt] of [
      between,
      new Date(firstDays[0] - 20 * DAY),
      new Date(firstDays[0] + 60_000),
      new Date(),
    ].entries()) {
      const result = await decideActivation(
        client,
        { imei, occurredAt, idempotencyKey: `late-${index}`, signals: { ipCountry: index % 2 ? 'CU' : 'DE' } },
        'userErrors { message }',
      );
      expect(result.userErrors).toEqual([]);
    }
    // One statement with several days of one device, out of order, two on one day.
    const base = second[0].occurredAt.getTime();
    await database.dataSource
      .getRepository(ActivationAttempt)
      .insert(
        [base + 9 * DAY, base - 9 * DAY, base + 3 * DAY, base + 3 * DAY + 60_000, base - 40 * DAY].map(
          (at, index) => copyAt(second[0], new Date(at), `batch-${index}`) as ActivationAttempt,
        ),
      );
    expect(await keptTables(database.dataSource)).toEqual(expectedFrom(await allAttempts(), regions));
  });

  (usingPostgres ? it : it.skip)(
    'stay equal when two transactions add days to one device at once (PostgreSQL)',
    async () => {
      const [attempt] = await allAttempts();
      // Two days after the device's last one: each transaction's day is new, and the later links to the earlier.
      const start = Math.max(
        ...(await allAttempts())
          .filter((other) => other.deviceId === attempt.deviceId)
          .map((other) => other.occurredAt.getTime()),
      );
      const first = database.dataSource.createQueryRunner();
      const second = database.dataSource.createQueryRunner();
      try {
        await first.startTransaction();
        await second.startTransaction();
        await first.manager.insert(ActivationAttempt, copyAt(attempt, new Date(start + 5 * DAY), 'concurrent-1'));
        // Without the device lock this would read the chain without the first transaction's day.
        const secondInsert = second.manager.insert(
          ActivationAttempt,
          copyAt(attempt, new Date(start + 2 * DAY), 'concurrent-2'),
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        await first.commitTransaction();
        await secondInsert;
        await second.commitTransaction();
      } finally {
        await first.release();
        await second.release();
      }
      expect(await keptTables(database.dataSource)).toEqual(expectedFrom(await allAttempts(), regions));
    },
  );

  (usingPostgres ? it : it.skip)(
    'are counted under the device locks the reference check takes first (PostgreSQL)',
    async () => {
      // Since migration 1765840000000 the counting triggers do not lock the devices themselves: the
      // reference check does, and a table's statement triggers fire in name order, so it must sort first.
      const triggers: { name: string; fn: string }[] = await database.dataSource.query(
        `SELECT t.tgname AS "name", p.proname AS "fn" FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE t.tgrelid = '"activation_attempt"'::regclass AND NOT t.tgisinternal
           AND (t.tgtype & 1) = 0 AND (t.tgtype & 4) <> 0 ORDER BY t.tgname COLLATE "C"`,
      );
      expect(triggers[0]).toEqual({
        name: 'activation_attempt_check_references',
        fn: 'activation_attempt_check_references',
      });
      expect(triggers.map((trigger) => trigger.fn)).toEqual(
        expect.arrayContaining(['activation_daily_counts_add', 'policy_impact_add']),
      );
    },
  );
});

const STATS = `query ($filter: ActivationStatsFilter!, $groupBy: [StatsGroupBy!], $interval: StatsInterval, $timeZone: String) {
  activationStats(filter: $filter, groupBy: $groupBy, interval: $interval, timeZone: $timeZone) {
    totals { attempts devices } rows { bucketStart region { id code } country { code } attempts devices }
  }
}`;

describe('reports reading them', () => {
  const until = FIXED_UNTIL;
  const windows: [string, Date, Date][] = [
    ['90 days', new Date(until.getTime() - 90 * DAY), until],
    ['a week in the middle', new Date(until.getTime() - 30 * DAY), new Date(until.getTime() - 23 * DAY)],
    ['one day', new Date(until.getTime() - 10 * DAY), new Date(until.getTime() - 9 * DAY)],
  ];
  const shapes: [string, string[], string[] | undefined, string][] = [
    ['UTC day', [], undefined, 'DAY'],
    ['region and UTC day', ['REGION'], undefined, 'DAY'],
    ['country and UTC day', ['COUNTRY'], undefined, 'DAY'],
    ['region, country and UTC day', ['REGION', 'COUNTRY'], undefined, 'DAY'],
    ['filtered regions and UTC day', ['REGION'], ['UA', 'CU', 'DE'], 'DAY'],
    // Weeks start on Monday: the week and the day windows start inside one.
    ['UTC week', [], undefined, 'WEEK'],
    ['UTC month', [], undefined, 'MONTH'],
  ];
  /** The UTC bucket an instant falls in, as the report labels it. */
  const bucketOf = (instant: Date, interval: string) => {
    const day = new Date(`${utcDay(instant)}T00:00:00.000Z`);
    if (interval === 'WEEK') day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
    if (interval === 'MONTH') day.setUTCDate(1);
    return day.toISOString();
  };

  it.each(
    windows.flatMap(([name, from, to]) =>
      shapes.map(
        ([shape, groupBy, regionCodes, interval]) => [name, shape, from, to, groupBy, regionCodes, interval] as const,
      ),
    ),
  )(
    '%s by %s: distinct devices as the raw rows give them, without reading the attempts',
    async (_name, _shape, from, to, groupBy, regionCodes, interval) => {
      const measured = await database.statements.measure(() =>
        client.data(STATS, { filter: { from, to, regionCodes }, groupBy, interval }),
      );
      const reading = measured.statements.filter((sql) => sql.includes('"activation_attempt"'));
      // Devices across some regions over the whole window are not kept: the totals count them over the attempts.
      if (regionCodes)
        expect(reading.map((sql) => sql.split(' FROM ')[0])).toEqual([
          'SELECT COUNT(DISTINCT a."deviceId") AS "devices"',
        ]);
      else expect(reading).toEqual([]);
      const wanted = regionCodes
        ? new Set(
            [...regions.values()]
              .filter((region) =>
                regionCodes.some((code) => region.code === code || region.code.startsWith(`${code}-`)),
              )
              .map((region) => region.id),
          )
        : null;
      const selected = (await allAttempts()).filter(
        (attempt) =>
          attempt.occurredAt >= from &&
          attempt.occurredAt < to &&
          (!wanted || (attempt.resolvedRegionId !== null && wanted.has(attempt.resolvedRegionId))),
      );
      expect(selected.length).toBeGreaterThan(0);
      const keyOf = (day: string, regionId: number | null) =>
        [
          day,
          groupBy.includes('REGION') ? (regionId === null ? null : regions.get(regionId)!.code) : '',
          groupBy.includes('COUNTRY') ? (regionId === null ? null : regions.get(countryOf(regionId))!.code) : '',
        ].join('|');
      const expected = new Map<string, Set<number>>();
      for (const attempt of selected) {
        const key = keyOf(bucketOf(attempt.occurredAt, interval), attempt.resolvedRegionId);
        expected.set(key, (expected.get(key) ?? new Set()).add(attempt.deviceId));
      }
      const rows = measured.result.activationStats.rows as any[];
      const actual = new Map(
        rows.map((row) => [
          [
            row.bucketStart,
            groupBy.includes('REGION') ? (row.region?.code ?? null) : '',
            groupBy.includes('COUNTRY') ? (row.country?.code ?? null) : '',
          ].join('|'),
          row.devices,
        ]),
      );
      expect(actual).toEqual(new Map([...expected].map(([key, devices]) => [key, devices.size])));
      expect(measured.result.activationStats.totals).toEqual({
        attempts: selected.length,
        devices: new Set(selected.map((attempt) => attempt.deviceId)).size,
      });
    },
  );

  it('answers an empty window with no rows and zero devices, from the kept counts', async () => {
    const measured = await database.statements.measure(() =>
      client.data(STATS, {
        filter: { from: new Date('2020-01-01T00:00:00Z'), to: new Date('2020-02-01T00:00:00Z') },
        groupBy: ['REGION'],
        interval: 'DAY',
      }),
    );
    expect(measured.result.activationStats).toEqual({ totals: { attempts: 0, devices: 0 }, rows: [] });
    expect(measured.statements.some((sql) => sql.includes('"activation_attempt"'))).toBe(false);
  });

  it("gives a partner key its own devices' figures, counted over the attempts", async () => {
    const attempts = await allAttempts();
    const devices = await database.dataSource.getRepository(Device).find();
    const partnerId = devices[0].partnerId;
    const own = new Set(devices.filter((device) => device.partnerId === partnerId).map((device) => device.id));
    const from = new Date(FIXED_UNTIL.getTime() - 30 * DAY);
    const partner = client.as({ keyId: null, name: 'partner', role: Role.PARTNER, partnerId });
    const measured = await database.statements.measure(() =>
      partner.data(STATS, { filter: { from, to: FIXED_UNTIL }, groupBy: ['REGION'], interval: 'DAY' }),
    );
    expect(measured.statements.some((sql) => sql.includes('FROM "activation_attempt"'))).toBe(true);
    const selected = attempts.filter(
      (attempt) => own.has(attempt.deviceId) && attempt.occurredAt >= from && attempt.occurredAt < FIXED_UNTIL,
    );
    expect(selected.length).toBeGreaterThan(0);
    expect(measured.result.activationStats.totals).toEqual({
      attempts: selected.length,
      devices: new Set(selected.map((attempt) => attempt.deviceId)).size,
    });
  });

  it.each([
    ['an outcome filter', { groupBy: ['REGION'], interval: 'DAY', filter: { outcomes: ['LOCK'] } }],
    ['days in Berlin', { groupBy: ['REGION'], interval: 'DAY', timeZone: 'Europe/Berlin' }],
    ['a window off midnight', { groupBy: ['REGION'], interval: 'DAY', shift: 3_600_000 }],
    ['weeks', { groupBy: ['REGION'], interval: 'WEEK' }],
    ['no buckets, by region', { groupBy: ['REGION'] }],
    ['by outcome', { groupBy: ['OUTCOME'], interval: 'DAY' }],
    [
      'regions filtered without grouping by region',
      { groupBy: ['COUNTRY'], interval: 'DAY', filter: { regionCodes: ['UA-43'] } },
    ],
  ])(
    'counts distinct devices over the attempts for %s, with the same totals as the raw rows',
    async (_name, shape: any) => {
      const from = new Date(until.getTime() - 30 * DAY + (shape.shift ?? 0));
      const to = until;
      const measured = await database.statements.measure(() =>
        client.data(STATS, {
          filter: { from, to, ...shape.filter },
          groupBy: shape.groupBy,
          interval: shape.interval,
          timeZone: shape.timeZone ?? 'UTC',
        }),
      );
      expect(measured.statements.some((sql) => sql.includes('FROM "activation_attempt"'))).toBe(true);
      const selected = (await allAttempts()).filter(
        (attempt) =>
          attempt.occurredAt >= from &&
          attempt.occurredAt < to &&
          (!shape.filter?.outcomes || shape.filter.outcomes.includes(attempt.outcome)) &&
          (!shape.filter?.regionCodes ||
            (attempt.resolvedRegionId !== null &&
              shape.filter.regionCodes.includes(regions.get(attempt.resolvedRegionId)!.code))),
      );
      expect(measured.result.activationStats.totals).toEqual({
        attempts: selected.length,
        devices: new Set(selected.map((attempt) => attempt.deviceId)).size,
      });
    },
  );
});
