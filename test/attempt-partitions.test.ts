/**
 * The attempts partitioned by month on PostgreSQL (issue 21): the migration from the unpartitioned
 * table keeps every row, id and count; idempotency holds across a month boundary through the key
 * table; whole months are retired without losing the rollups' figures or evidence still in use.
 * SQLite keeps one table, and the same idempotency and migration tests run on it.
 */
import { DataSource } from 'typeorm';
import {
  ActivationAttempt,
  DecisionOutcome,
  RegionSource,
  ReviewStatus,
} from '../src/activations/activation-attempt.entity';
import { BulkAttempt, ingestAttempts } from '../src/activations/attempt-ingest';
import {
  attemptPartitions,
  DEFAULT_PARTITION,
  ensureAttemptMonths,
  maintainAttemptPartitions,
  MONTHS_AHEAD,
  partitionName,
  retireAttemptMonths,
} from '../src/activations/attempt-partitions';
import { ActivationIdempotencyKey } from '../src/activations/idempotency-key.entity';
import { purgeIdempotencyKeys } from '../src/activations/idempotency-keys';
import { isUniqueViolation } from '../src/common/db-errors';
import { encodeGlobalId } from '../src/common/global-id';
import { Device } from '../src/devices/device.entity';
import { Region } from '../src/regions/region.entity';
import { openTestDatabase, rollBackMigrations, TestDatabase, usingPostgres } from './support/database';
import { expectedFrom, keptTables } from './support/device-days';
import { seedDemo } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { decideActivation } from './support/decisions';
import { allowedByIp } from './support/attempts';

const postgresOnly = usingPostgres ? it : it.skip;
const sqliteOnly = usingPostgres ? it.skip : it;

async function rawAttempts(dataSource: DataSource) {
  return dataSource.query('SELECT * FROM "activation_attempt" ORDER BY "id"') as Promise<Record<string, unknown>[]>;
}

async function hourlyRollup(dataSource: DataSource) {
  const rows: Record<string, unknown>[] = await dataSource.query(
    'SELECT * FROM "activation_hourly_rollup" ORDER BY "hourStart", "regionKey", "outcome", "enforced"',
  );
  return rows.map((row) => ({ ...row, hourStart: new Date(String(row.hourStart)).toISOString() }));
}

/** The devices' locks and the status history with the occurredAt each names of its attempt, and the attempt's own. */
async function attemptReferences(dataSource: DataSource) {
  const instant = (value: unknown) => (value === null ? null : new Date(String(value)).toISOString());
  const locks: Record<string, unknown>[] = await dataSource.query(
    'SELECT d."id", d."lockedByAttemptId", d."lockedByAttemptOccurredAt" AS "named", a."occurredAt" AS "actual" FROM "device" d ' +
      'JOIN "activation_attempt" a ON a."id" = d."lockedByAttemptId" ORDER BY d."id"',
  );
  const history: Record<string, unknown>[] = await dataSource.query(
    'SELECT c."id", c."attemptId", c."attemptOccurredAt" AS "named", a."occurredAt" AS "actual" FROM "device_status_change" c ' +
      'JOIN "activation_attempt" a ON a."id" = c."attemptId" ORDER BY c."id"',
  );
  const named = (rows: Record<string, unknown>[]) =>
    rows.map((row) => {
      expect(instant(row.named)).toBe(instant(row.actual));
      return [Number(row.id), instant(row.named)];
    });
  return { locks: named(locks), history: named(history) };
}

/** The kept tables equal what the raw attempts say (the same proof as the import test). */
async function expectCountsMatchRows(dataSource: DataSource) {
  const attempts = await dataSource.getRepository(ActivationAttempt).find();
  const regions = new Map((await dataSource.getRepository(Region).find()).map((region) => [region.id, region]));
  expect(await keptTables(dataSource)).toEqual(expectedFrom(attempts, regions));
}

describe('the migration from the unpartitioned table', () => {
  let database: TestDatabase;
  afterAll(() => database?.close());

  it('keeps every row, id, key and count of a database made with the previous schema, and the sequence goes on', async () => {
    database = await openTestDatabase();
    const { dataSource } = database;
    // Seeded by today's code (the generator writes columns later migrations add), then back to the
    // schema before it: later migrations undone first, and applied again after it (filling their
    // columns again, checked below).
    await seedDemo(dataSource, 120, 1500, 'partition-migration');
    const referencesBefore = await attemptReferences(dataSource);
    expect(referencesBefore.locks.length).toBeGreaterThan(0);
    expect(referencesBefore.history.length).toBeGreaterThan(0);
    const undone = await rollBackMigrations(dataSource, 'PartitionedAttempts1765640000000');
    expect(undone[0]).toBe('PartitionedAttempts1765640000000');
    expect(undone).toContain('AttemptReferenceInstants1765770000000');
    // Gateway keys on some of them, as decisions would have stored them.
    await dataSource.query(`UPDATE "activation_attempt" SET "idempotencyKey" = 'gw-old-' || "id" WHERE "id" % 50 = 0`);
    const rowsBefore = await rawAttempts(dataSource);
    const rollupBefore = await hourlyRollup(dataSource);
    const countsBefore = await keptTables(dataSource);
    expect(rowsBefore.length).toBe(1500);

    const applied = await dataSource.runMigrations({ transaction: 'each' });
    expect(applied.map((migration) => migration.name)).toEqual(undone);
    // Every reference to an attempt got that attempt's occurredAt back from the partitioned table.
    expect(await attemptReferences(dataSource)).toEqual(referencesBefore);

    expect(await rawAttempts(dataSource)).toEqual(rowsBefore);
    expect(await hourlyRollup(dataSource)).toEqual(rollupBefore);
    expect(await keptTables(dataSource)).toEqual(countsBefore);
    const keys = await dataSource.getRepository(ActivationIdempotencyKey).find({ order: { attemptId: 'ASC' } });
    expect(keys.map((key) => [key.idempotencyKey, key.attemptId])).toEqual(
      rowsBefore.filter((row) => row.idempotencyKey !== null).map((row) => [row.idempotencyKey, row.id]),
    );
    if (usingPostgres) {
      const months = new Set(rowsBefore.map((row) => new Date(String(row.occurredAt)).toISOString().slice(0, 7)));
      const partitions = (await attemptPartitions(dataSource)).map((partition) =>
        partition.month.toISOString().slice(0, 7),
      );
      for (const month of months) expect(partitions).toContain(month);
      expect(await dataSource.query(`SELECT COUNT(*)::int AS n FROM "${DEFAULT_PARTITION}"`)).toEqual([{ n: 0 }]);
    }

    // New attempts continue the ids, are counted by the triggers, and a stored key still refuses a second use.
    const [device] = await dataSource.getRepository(Device).find({ take: 1, order: { id: 'ASC' } });
    const row = (idempotencyKey: string | null): BulkAttempt =>
      allowedByIp(device.id, '2026-10-20T12:00:00Z', { receivedAt: new Date('2026-10-20T12:00:01Z'), idempotencyKey });
    await ingestAttempts(dataSource, [[row('gw-new-1')]]);
    const [newest] = await dataSource.getRepository(ActivationAttempt).find({ order: { id: 'DESC' }, take: 1 });
    expect(newest.id).toBeGreaterThan(Number(rowsBefore[rowsBefore.length - 1].id));
    const taken = String(rowsBefore.find((stored) => stored.idempotencyKey !== null)!.idempotencyKey);
    const refused = await ingestAttempts(dataSource, [[row(taken)]]).catch((error: unknown) => error);
    expect(isUniqueViolation(refused)).toBe(true);
    await expectCountsMatchRows(dataSource);
  });
});

describe('idempotency across a month boundary', () => {
  let database: TestDatabase;
  let client: GraphQLClient;
  let device: Device;
  const BEFORE = new Date('2026-10-31T23:59:59.900Z');
  const AFTER = new Date('2026-11-01T00:00:00.100Z');

  beforeAll(async () => {
    database = await openTestDatabase();
    await seedDemo(database.dataSource, 30, 0, 'partition-keys');
    // Both months have their partitions, whenever the test runs.
    await ensureAttemptMonths(database.dataSource, [BEFORE, AFTER]);
    client = await GraphQLClient.create(database);
    [device] = await database.dataSource.getRepository(Device).find({ take: 1, order: { id: 'ASC' } });
  });
  afterAll(async () => {
    jest.useRealTimers();
    await client.stop();
    await database.close();
  });

  it('records one attempt when racing writes of one key fall on either side of the boundary', async () => {
    const store = database.services.decisionStore;
    const row = (occurredAt: Date) => ({
      deviceId: device.id,
      occurredAt,
      usableFixAt: null,
      fixSpeedKmh: null,
      receivedAt: occurredAt,
      signals: { ipCountry: 'DE' },
      signalsPurgedAt: null,
      resolvedRegionId: null,
      regionSource: RegionSource.IP,
      outcome: DecisionOutcome.ALLOW,
      enforced: true,
      policyVersionId: null,
      reasonCodes: [],
      explanation: null,
      reviewStatus: null,
      reviewedAt: null,
      reviewedBy: null,
      reviewNote: null,
      idempotencyKey: 'gw-boundary-race',
      requestFingerprint: null,
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, index) => store.record(row(index % 2 ? AFTER : BEFORE), null)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes)
      if (outcome.status === 'rejected') expect(isUniqueViolation(outcome.reason)).toBe(true);
    const stored = await database.dataSource
      .getRepository(ActivationAttempt)
      .findBy({ idempotencyKey: 'gw-boundary-race' });
    expect(stored).toHaveLength(1);
    expect(stored[0].id).toBe(
      (outcomes.find((outcome) => outcome.status === 'fulfilled') as PromiseFulfilledResult<number>).value,
    );
  });

  it('answers retries sent after midnight (no occurredAt: the time of receipt) with the attempt recorded before it', async () => {
    const input = { imei: device.imei, idempotencyKey: 'gw-boundary-retry', signals: { ipCountry: 'DE' } };
    const decide = () => decideActivation(client, input, 'attempt { id occurredAt } userErrors { code }');
    // Only the clock is faked: the database driver's timers run as usual.
    jest.useFakeTimers({
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
      now: BEFORE,
    });
    const original = await decide();
    expect(original.userErrors).toEqual([]);
    expect(original.attempt.occurredAt).toBe(BEFORE.toISOString());
    jest.setSystemTime(AFTER);
    const retries = await Promise.all(Array.from({ length: 6 }, decide));
    jest.useRealTimers();
    for (const retry of retries) expect(retry).toEqual(original);
    expect(
      await database.dataSource.getRepository(ActivationAttempt).countBy({ idempotencyKey: 'gw-boundary-retry' }),
    ).toBe(1);
  });

  it('forgets keys past their own retention, keeping the attempts', async () => {
    const keys = database.dataSource.getRepository(ActivationIdempotencyKey);
    const before = await keys.count();
    expect(before).toBeGreaterThanOrEqual(2);
    expect(await purgeIdempotencyKeys(database.dataSource, 30, new Date('2026-11-15T00:00:00Z'))).toBe(0);
    expect(await purgeIdempotencyKeys(database.dataSource, 30, new Date('2026-12-15T00:00:00Z'))).toBe(before);
    expect(await keys.count()).toBe(0);
    expect(
      await database.dataSource.getRepository(ActivationAttempt).countBy({ idempotencyKey: 'gw-boundary-race' }),
    ).toBe(1);
  });
});

describe('retiring whole months', () => {
  let database: TestDatabase;
  let client: GraphQLClient;
  let devices: Device[];
  const NOW = new Date('2026-11-15T00:00:00Z');

  const attempt = allowedByIp;
  const STATS = `query ($from: DateTime!, $to: DateTime!) {
    activationStats(filter: { from: $from, to: $to }, groupBy: [REGION], interval: DAY) {
      rows { bucketStart region { code } attempts devices locks reviews }
      totals { attempts devices }
    }
  }`;
  const stats = () => client.data(STATS, { from: '2026-03-01T00:00:00Z', to: '2026-11-01T00:00:00Z' });

  beforeAll(async () => {
    database = await openTestDatabase();
    await seedDemo(database.dataSource, 40, 400, 'partition-retention');
    client = await GraphQLClient.create(database);
    devices = await database.dataSource.getRepository(Device).find({ order: { id: 'ASC' } });
    const germany = await database.dataSource.getRepository(Region).findOneByOrFail({ code: 'DE' });
    // April and June: history only; May: one review still OPEN.
    await ingestAttempts(database.dataSource, [
      [
        ...devices.slice(0, 20).map((device, index) =>
          attempt(device.id, `2026-04-${String(1 + index).padStart(2, '0')}T08:00:00Z`, {
            resolvedRegionId: germany.id,
          }),
        ),
        ...devices.slice(0, 20).map((device, index) =>
          attempt(device.id, `2026-06-${String(1 + index).padStart(2, '0')}T08:00:00Z`, {
            resolvedRegionId: germany.id,
            idempotencyKey: `gw-june-${index}`,
          }),
        ),
        attempt(devices[0].id, '2026-05-10T08:00:00Z', {
          outcome: DecisionOutcome.REVIEW,
          reasonCodes: ['NO_USABLE_SIGNAL'],
          reviewStatus: ReviewStatus.OPEN,
        }),
      ],
    ]);
  });
  afterAll(async () => {
    await client?.stop();
    await database.close();
  });

  sqliteOnly('is refused on SQLite, which keeps one table, with what to use instead', async () => {
    await expect(retireAttemptMonths(database.dataSource, { keepMonths: 3, now: NOW })).rejects.toThrow(
      /needs PostgreSQL.*purge-signals/,
    );
  });

  postgresOnly(
    'drops the expired months, keeps one holding an OPEN review, and the reports keep their figures',
    async () => {
      const { dataSource } = database;
      const reportBefore = await stats();
      const countsBefore = await keptTables(dataSource);
      expect(reportBefore.activationStats.totals.attempts).toBeGreaterThan(0);

      // Keep 3 months before November: August, September, October; April to July expire.
      const outcome = await retireAttemptMonths(dataSource, { keepMonths: 3, now: NOW });
      expect(outcome.retired.map((month) => [month.name, month.attempts, month.detached])).toEqual([
        ['activation_attempt_y2026m04', 20, false],
        ['activation_attempt_y2026m06', 20, false],
      ]);
      expect(outcome.kept).toEqual([
        {
          name: 'activation_attempt_y2026m05',
          month: new Date('2026-05-01T00:00:00Z'),
          reason: 'it holds an OPEN review',
        },
      ]);
      const names = (await attemptPartitions(dataSource)).map((partition) => partition.name);
      expect(names).not.toContain('activation_attempt_y2026m04');
      expect(names).toContain('activation_attempt_y2026m05');
      expect(await dataSource.query(`SELECT to_regclass('activation_attempt_y2026m06') AS t`)).toEqual([{ t: null }]);
      const remaining = await dataSource.getRepository(ActivationAttempt).count();
      expect(remaining).toBe(400 + 1);
      // The keys of the dropped attempts went with them.
      expect(await dataSource.getRepository(ActivationIdempotencyKey).countBy({})).toBe(0);

      // The figures of the dropped months stay: rollups and distinct devices are tables of their own.
      expect(await stats()).toEqual(reportBefore);
      expect(await keptTables(dataSource)).toEqual(countsBefore);

      // A late attempt of a dropped month waits in the default partition until the next round gives it its month back.
      await dataSource.query(
        `INSERT INTO "activation_attempt" ("deviceId", "occurredAt", "receivedAt", "signals", "regionSource", "outcome", "enforced", "reasonCodes") ` +
          `VALUES ($1, '2026-06-30T10:00:00Z', now(), '{}', 'NONE', 'REVIEW', false, '[]')`,
        [devices[1].id],
      );
      expect(await dataSource.query(`SELECT COUNT(*)::int AS n FROM "${DEFAULT_PARTITION}"`)).toEqual([{ n: 1 }]);
      expect((await maintainAttemptPartitions(dataSource, NOW)).made).toContain('activation_attempt_y2026m06');
      expect(await dataSource.query(`SELECT COUNT(*)::int AS n FROM "${DEFAULT_PARTITION}"`)).toEqual([{ n: 0 }]);
      expect(await dataSource.query(`SELECT COUNT(*)::int AS n FROM "activation_attempt_y2026m06"`)).toEqual([
        { n: 1 },
      ]);
      const reportWithLateAttempt = await stats();

      // Once the review is resolved, May goes too; detached, it stays as a table of its own to archive.
      await dataSource.query(
        `UPDATE "activation_attempt" SET "reviewStatus" = 'ALLOWED' WHERE "reviewStatus" = 'OPEN' AND "occurredAt" < '2026-06-01'`,
      );
      const second = await retireAttemptMonths(dataSource, { keepMonths: 3, now: NOW, detach: true });
      expect(second.retired.map((month) => [month.name, month.attempts, month.detached])).toEqual([
        ['activation_attempt_y2026m05', 1, true],
        ['activation_attempt_y2026m06', 1, true],
      ]);
      expect(await dataSource.query(`SELECT COUNT(*)::int AS n FROM "activation_attempt_detached_y2026m05"`)).toEqual([
        { n: 1 },
      ]);
      expect(await stats()).toEqual(reportWithLateAttempt);
    },
  );

  postgresOnly('gives no partition to a waiting month outside the history, and says so', async () => {
    const { dataSource } = database;
    const late = (occurredAt: string) =>
      dataSource.query(
        `INSERT INTO "activation_attempt" ("deviceId", "occurredAt", "receivedAt", "signals", "regionSource", "outcome", "enforced", "reasonCodes") ` +
          `VALUES ($1, $2, now(), '{}', 'NONE', 'REVIEW', false, '[]')`,
        [devices[4].id, occurredAt],
      );
    // The year 1, 1970, twice the month before the horizon, a month far ahead, and one of the
    // horizon's first month (November 2016 for a round in November 2026), which is history.
    for (const instant of [
      '0001-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '2016-10-31T23:00:00Z',
      '2016-10-01T00:00:00Z',
      '2031-01-01T00:00:00Z',
      '2016-11-01T00:00:00Z',
    ])
      await late(instant);
    const outcome = await maintainAttemptPartitions(dataSource, NOW);
    // Besides the months around NOW (October 2026 to February 2027), made unless an earlier round made them.
    const aroundNow = /_y(2026m1[012]|2027m0[12])$/;
    expect(outcome.made.filter((name) => !aroundNow.test(name))).toEqual(['activation_attempt_y2016m11']);
    expect(outcome.skipped).toEqual([
      { month: new Date('0001-01-01T00:00:00Z'), attempts: 1 },
      { month: new Date('1970-01-01T00:00:00Z'), attempts: 1 },
      { month: new Date('2016-10-01T00:00:00Z'), attempts: 2 },
      { month: new Date('2031-01-01T00:00:00Z'), attempts: 1 },
    ]);
    const names = (await attemptPartitions(dataSource)).map((partition) => partition.name);
    // The last month ahead: of NOW's round, or of the migration's, which ran on the real clock (from
    // December 2026 on, its months ahead pass February 2027).
    const lastAhead = [NOW, new Date()]
      .map((instant) =>
        partitionName(new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth() + MONTHS_AHEAD, 1))),
      )
      .sort()
      .pop()!;
    expect(names.filter((name) => name < 'activation_attempt_y2016m11' || name > lastAhead)).toEqual([]);
    // The skipped rows wait where they were; the next round skips them again and makes nothing.
    expect(await dataSource.query(`SELECT COUNT(*)::int AS n FROM "${DEFAULT_PARTITION}"`)).toEqual([{ n: 5 }]);
    expect((await maintainAttemptPartitions(dataSource, NOW)).made).toEqual([]);

    // Nor does the bulk path (seed, import, tests) make one: the load fails, naming the month, and writes nothing.
    const partitionsBefore = (await attemptPartitions(dataSource)).length;
    const attemptsBefore = await dataSource.getRepository(ActivationAttempt).count();
    await expect(
      ingestAttempts(dataSource, [
        [attempt(devices[5].id, '2026-03-02T08:00:00Z'), attempt(devices[5].id, '1970-01-02T08:00:00Z')],
      ]),
    ).rejects.toThrow(/no partition is made for 1970-01: outside the history's horizon/);
    await expect(ensureAttemptMonths(dataSource, [new Date('0001-01-01T00:00:00Z')], NOW)).rejects.toThrow(
      /no partition is made for 0001-01/,
    );
    // The bulk path names the year 1 as such (Date.UTC would read it as 1901).
    await expect(ingestAttempts(dataSource, [[attempt(devices[5].id, '0001-01-02T08:00:00Z')]])).rejects.toThrow(
      /no partition is made for 0001-01/,
    );
    expect((await attemptPartitions(dataSource)).length).toBe(partitionsBefore);
    expect(await dataSource.getRepository(ActivationAttempt).count()).toBe(attemptsBefore);

    await dataSource.query(
      `DELETE FROM "activation_attempt" WHERE "deviceId" = $1 AND ("occurredAt" < '2016-12-01' OR "occurredAt" >= '2031-01-01')`,
      [devices[4].id],
    );
  });

  postgresOnly('keeps a month holding the attempt that locked a device still LOCKED', async () => {
    const { dataSource } = database;
    await ingestAttempts(dataSource, [
      [attempt(devices[2].id, '2026-02-10T08:00:00Z', { outcome: DecisionOutcome.LOCK })],
    ]);
    const [{ id }] = await dataSource.query(
      `SELECT "id" FROM "activation_attempt" WHERE "occurredAt" = '2026-02-10T08:00:00Z'`,
    );
    await dataSource.query(`UPDATE "device" SET "status" = 'LOCKED', "lockedByAttemptId" = $1 WHERE "id" = $2`, [
      id,
      devices[2].id,
    ]);
    const outcome = await retireAttemptMonths(dataSource, { keepMonths: 3, now: NOW });
    expect(outcome.kept.map((month) => [month.name, month.reason])).toEqual([
      ['activation_attempt_y2026m02', 'it holds the attempt that locked a device still LOCKED'],
    ]);
  });

  postgresOnly(
    'answers null, not an error, for an attempt of a retired month that a status change or a global ID names',
    async () => {
      const { dataSource } = database;
      const device = devices[3];
      await ingestAttempts(dataSource, [
        [
          attempt(device.id, '2026-01-12T08:00:00Z', {
            outcome: DecisionOutcome.LOCK,
            reasonCodes: ['POLICY_APPLIES'],
          }),
        ],
      ]);
      const [{ id }] = await dataSource.query(
        `SELECT "id" FROM "activation_attempt" WHERE "occurredAt" = '2026-01-12T08:00:00Z'`,
      );
      // Locked by that attempt, then unlocked: the month may go, the history keeps naming the attempt.
      const change = (
        fromStatus: string,
        toStatus: string,
        cause: string,
        attemptId: number | null,
        attemptOccurredAt: string | null,
        at: string,
      ) =>
        dataSource.query(
          `INSERT INTO "device_status_change" ("deviceId", "occurredAt", "fromStatus", "toStatus", "cause", "attemptId", "attemptOccurredAt", "actor", "reason") VALUES ($1, $2, $3, $4, $5, $6, $7, 'test', 'test')`,
          [device.id, at, fromStatus, toStatus, cause, attemptId, attemptOccurredAt],
        );
      await change(device.status, 'LOCKED', 'DECISION', id, '2026-01-12T08:00:00Z', '2026-01-12T08:00:01Z');
      await change('LOCKED', 'ACTIVE', 'UNLOCK', null, null, '2026-01-20T08:00:00Z');
      // Its ID names the month; one issued before IDs did (deprecated) is still answered.
      const attemptGlobalId = encodeGlobalId('ActivationAttempt', id, new Date('2026-01-12T08:00:00Z'));
      const legacyGlobalId = encodeGlobalId('ActivationAttempt', id);
      const HISTORY = `query ($imei: String!, $id: ID!, $legacy: ID!) {
        device(imei: $imei) { statusHistory(first: 100) { nodes { toStatus cause attempt { id occurredAt } } } }
        node(id: $id) { id }
        legacy: node(id: $legacy) { id }
      }`;
      const variables = { imei: device.imei, id: attemptGlobalId, legacy: legacyGlobalId };
      const before = await client.data(HISTORY, variables);
      expect(before.node).toEqual({ id: attemptGlobalId });
      expect(before.legacy).toEqual({ id: attemptGlobalId });
      expect(before.device.statusHistory.nodes).toContainEqual({
        toStatus: 'LOCKED',
        cause: 'DECISION',
        attempt: { id: attemptGlobalId, occurredAt: '2026-01-12T08:00:00.000Z' },
      });

      const outcome = await retireAttemptMonths(dataSource, { keepMonths: 3, now: NOW });
      expect(outcome.retired.map((month) => month.name)).toContain('activation_attempt_y2026m01');
      // client.data fails on any error: the history and the node lookup answer, with null where the attempt was.
      const after = await client.data(HISTORY, variables);
      expect(after.node).toBeNull();
      expect(after.legacy).toBeNull();
      expect(after.device.statusHistory.nodes).toContainEqual({ toStatus: 'LOCKED', cause: 'DECISION', attempt: null });
    },
  );
});
