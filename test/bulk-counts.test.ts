/**
 * The bulk path's counting (issue 21): SQLite sets its per-row triggers aside during a load and
 * counts each transaction's rows at its commit; PostgreSQL's per-statement triggers count each
 * COPY. Either way the rollups, the distinct-device tables, the chains of active days and the
 * idempotency keys must equal a recount of the raw rows — here with late days inserted into the
 * middle of chains across many transactions, mixed with rows counted one by one.
 */
import seedrandom from 'seedrandom';
import {
  ActivationAttempt,
  DecisionOutcome,
  RegionSource,
  ReviewStatus,
} from '../src/activations/activation-attempt.entity';
import { BulkAttempt, ingestAttempts } from '../src/activations/attempt-ingest';
import { ActivationIdempotencyKey } from '../src/activations/idempotency-key.entity';
import { isUniqueViolation } from '../src/common/db-errors';
import { Device } from '../src/devices/device.entity';
import { Region } from '../src/regions/region.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { expectedFrom, keptTables } from './support/device-days';
import { seedDemo } from './support/fixtures';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 50, 0, 'bulk-counts');
});
afterAll(() => database.close());

function randomAttempts(devices: Device[], regions: Region[], count: number, seed: string): BulkAttempt[] {
  const random = seedrandom(seed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const start = Date.parse('2026-08-20T00:00:00Z');
  return Array.from({ length: count }, (_, index) => {
    const occurredAt = new Date(start + Math.floor(random() * 45 * 86_400_000));
    const outcome = pick([DecisionOutcome.ALLOW, DecisionOutcome.ALLOW, DecisionOutcome.LOCK, DecisionOutcome.REVIEW]);
    const enforced = random() < 0.8;
    return {
      deviceId: pick(devices).id,
      occurredAt,
      receivedAt: new Date(occurredAt.getTime() + 1_000),
      signals: { ipCountry: 'DE' },
      signalsPurgedAt: null,
      resolvedRegionId: random() < 0.1 ? null : pick(regions).id,
      regionSource: RegionSource.CELL,
      outcome,
      enforced,
      policyVersionId: null,
      reasonCodes: [],
      reviewStatus: outcome === DecisionOutcome.REVIEW && enforced ? ReviewStatus.OPEN : null,
      idempotencyKey: random() < 0.2 ? `${seed}-${index}` : null,
    };
  });
}

it('keeps the rollups, distinct devices, day chains and keys equal to a recount of the raw rows', async () => {
  const { dataSource } = database;
  const devices = await dataSource.getRepository(Device).find();
  // Countries and their subdivisions (Crimea counts for Ukraine in the country grouping).
  const regions = await dataSource.getRepository(Region).find();
  const rows = randomAttempts(devices, regions, 3_000, 'bulk');
  const chunks = (part: BulkAttempt[], size: number) =>
    Array.from({ length: Math.ceil(part.length / size) }, (_, index) => part.slice(index * size, (index + 1) * size));

  // A third counted row by row (as decisions are), then the rest in many small transactions.
  await ingestAttempts(dataSource, chunks(rows.slice(0, 1_000), 250), { countPerRow: true });
  await ingestAttempts(dataSource, chunks(rows.slice(1_000), 150), { rowsPerTransaction: 300, rowsPerStatement: 300 });

  const attempts = await dataSource.getRepository(ActivationAttempt).find();
  expect(attempts).toHaveLength(3_000);
  const byId = new Map(regions.map((region) => [region.id, region]));
  expect(await keptTables(dataSource)).toEqual(expectedFrom(attempts, byId));

  const hour = usingPostgres
    ? `to_char(a."occurredAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')`
    : `substr(a."occurredAt", 1, 13)`;
  const stored = usingPostgres
    ? `to_char(h."hourStart" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')`
    : `substr(h."hourStart", 1, 13)`;
  const recount = await dataSource.query(
    `SELECT ${hour} AS "hour", COALESCE(a."resolvedRegionId", 0) AS "regionKey", a."outcome", CAST(a."enforced" AS integer) AS "enforced", COUNT(*) AS "attempts" FROM "activation_attempt" a GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  );
  const rollup = await dataSource.query(
    `SELECT ${stored} AS "hour", h."regionKey", h."outcome", CAST(h."enforced" AS integer) AS "enforced", h."attempts" FROM "activation_hourly_rollup" h ORDER BY 1, 2, 3, 4`,
  );
  const normalised = (list: Record<string, unknown>[]) =>
    list.map((row) => [row.hour, Number(row.regionKey), row.outcome, Number(row.enforced), Number(row.attempts)]);
  expect(normalised(rollup)).toEqual(normalised(recount));

  const keys = await dataSource.getRepository(ActivationIdempotencyKey).find();
  expect(new Map(keys.map((key) => [key.idempotencyKey, key.attemptId]))).toEqual(
    new Map(
      attempts.filter((attempt) => attempt.idempotencyKey).map((attempt) => [attempt.idempotencyKey, attempt.id]),
    ),
  );
});

it('writes nothing, counts included, when a batch fails (a repeated key), and leaves the triggers in place', async () => {
  const { dataSource } = database;
  const devices = await dataSource.getRepository(Device).find();
  const regions = await dataSource.getRepository(Region).find();
  const before = await keptTables(dataSource);
  const count = await dataSource.getRepository(ActivationAttempt).count();
  const rows = randomAttempts(devices, regions, 400, 'failing');
  rows[350].idempotencyKey = 'repeated';
  rows[351].idempotencyKey = 'repeated';
  // Compared by code: better-sqlite3's errors come from the Error of the first test file of a Jest worker.
  const failure = await ingestAttempts(dataSource, [rows.slice(0, 200), rows.slice(200)]).then(
    () => null,
    (error: unknown) => error,
  );
  expect(isUniqueViolation(failure)).toBe(true);
  expect(await dataSource.getRepository(ActivationAttempt).count()).toBe(count);
  expect(await keptTables(dataSource)).toEqual(before);
  // The per-row triggers are back: a row inserted outside the bulk path is still counted.
  if (!usingPostgres) {
    const triggers = await dataSource.query(
      `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'activation_attempt'`,
    );
    expect(Number(triggers[0].n)).toBe(7);
  }
});

it('counts a device once in a country whether its attempts name the country or its subdivisions, in any order and batch', async () => {
  // A country presence row is written only for a subdivision's attempt (migration 1765820000000):
  // the country's own R row stands for it otherwise. Each case is one device on one day; the
  // batches are separate transactions, so a later one finds the day known (PostgreSQL looks its
  // presence up then) or new. Once counted per row (SQLite's triggers) and once per batch.
  const { dataSource } = database;
  const regions = await dataSource.getRepository(Region).find();
  const [first, second] = regions.filter(
    (region) =>
      region.parentId !== null && regions.some((other) => other.parentId === region.parentId && other.id !== region.id),
  );
  const subdivision = first ?? regions.find((region) => region.parentId !== null)!;
  const sibling = second && second.parentId === subdivision.parentId ? second : subdivision;
  const country = regions.find((region) => region.id === subdivision.parentId)!;
  const other = regions.find((region) => region.parentId === null && region.id !== country.id)!;
  const devices = (await dataSource.getRepository(Device).find({ order: { id: 'ASC' } })).slice(0, 14);
  const cases: (Region | null)[][][] = [
    [[subdivision], [country]],
    [[country], [subdivision]],
    [[subdivision, country]],
    [[country, sibling, subdivision], [subdivision]],
    [[other], [subdivision, country]],
    [[null], [country, subdivision], [sibling]],
    [[subdivision], [sibling], [country]],
  ];
  const base = randomAttempts(devices, regions, 1, 'country-cases')[0];
  for (const [round, countPerRow] of [false, true].entries()) {
    const batches: BulkAttempt[][] = [];
    cases.forEach((batchesOfCase, index) => {
      const occurredAt = new Date(Date.parse('2026-10-20T08:00:00Z') + round * 86_400_000 + index * 60_000);
      batchesOfCase.forEach((named, batch) => {
        batches[batch] = [
          ...(batches[batch] ?? []),
          ...named.map((region, at) => ({
            ...base,
            deviceId: devices[round * cases.length + index].id,
            occurredAt: new Date(occurredAt.getTime() + batch * 600_000 + at * 1_000),
            receivedAt: occurredAt,
            resolvedRegionId: region?.id ?? null,
            idempotencyKey: null,
          })),
        ];
      });
    });
    for (const rows of batches) await ingestAttempts(dataSource, [rows], { countPerRow });
  }
  const attempts = await dataSource.getRepository(ActivationAttempt).find();
  expect(await keptTables(dataSource)).toEqual(
    expectedFrom(attempts, new Map(regions.map((region) => [region.id, region]))),
  );
});
