/**
 * The bulk path writes an attempt as the ORM does (src/activations/attempt-encoding.ts): the same
 * stored text for every column it writes, on both databases — PostgreSQL's COPY text with its
 * backslash escapes, SQLite's bind values — for the values that trip encoders: tabs, line breaks,
 * backslashes, quotes, characters beyond ASCII and beyond the Basic Multilingual Plane, nulls,
 * milliseconds, and instants either side of midnight and of a month's end.
 */
import {
  ActivationAttempt,
  DecisionOutcome,
  RegionSource,
  ReviewStatus,
} from '../src/activations/activation-attempt.entity';
import { COLUMNS } from '../src/activations/attempt-encoding';
import { BulkAttempt, ingestAttempts } from '../src/activations/attempt-ingest';
import { EntityStatements } from '../src/db/prepared';
import { Device } from '../src/devices/device.entity';
import { Region } from '../src/regions/region.entity';
import { openTestDatabase, TestDatabase } from './support/database';
import { seedDemo } from './support/fixtures';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 3, 0, 'attempt-encoding');
});
afterAll(() => database.close());

/** Text a careless encoder breaks: COPY's separators and escape, JSON's, and multi-byte characters. */
const AWKWARD = 'tab\there, line\nbreak, return\r, back\\slash \\N \\. "quoted" ’curly’ Ünïcødé 🔒 末';

function attempts(deviceId: number, regionId: number): BulkAttempt[] {
  const base = {
    deviceId,
    regionSource: RegionSource.GPS,
    outcome: DecisionOutcome.ALLOW,
    enforced: true,
  };
  return [
    {
      ...base,
      occurredAt: new Date('2026-10-31T23:59:59.999Z'),
      receivedAt: new Date('2026-11-01T00:00:00.001Z'),
      signals: {
        gps: { latitude: 44.61234, longitude: 33.52001, accuracyMeters: 12.5, fixedAt: '2026-10-31T23:59:00.000Z' },
        sim: { mcc: '255', mnc: null },
        ipCountry: AWKWARD,
      },
      signalsPurgedAt: null,
      resolvedRegionId: regionId,
      policyVersionId: null,
      reasonCodes: ['NO_POLICY_APPLIES', `REGION:${AWKWARD}`],
      reviewStatus: null,
      idempotencyKey: AWKWARD,
    },
    {
      ...base,
      outcome: DecisionOutcome.REVIEW,
      enforced: false,
      regionSource: RegionSource.NONE,
      occurredAt: new Date('2024-02-29T00:00:00.000Z'),
      receivedAt: new Date('2024-02-29T00:00:00.120Z'),
      signals: {},
      signalsPurgedAt: new Date('2026-03-01T12:34:56.789Z'),
      resolvedRegionId: null,
      policyVersionId: null,
      reasonCodes: [],
      reviewStatus: ReviewStatus.OPEN,
      idempotencyKey: null,
    },
  ];
}

/** Each written column as the database stores it, as text (the instants in the session's own format). */
async function storedText(ids: number[]): Promise<Record<string, unknown>[]> {
  const statements = new EntityStatements(database.dataSource, ActivationAttempt);
  const columns = COLUMNS.map((property) => `CAST(${statements.column(property)} AS TEXT) AS "${property}"`);
  const id = statements.column('id');
  const rows: Record<string, unknown>[] = await database.dataSource.query(
    `SELECT ${id} AS "id", ${columns.join(', ')} FROM "${statements.table}" WHERE ${id} IN (${ids.join(', ')}) ORDER BY ${id}`,
  );
  return rows.map(({ id: _id, ...row }) => row);
}

it('stores every column as the ORM stores it, awkward text, nulls and instants included', async () => {
  const { dataSource } = database;
  const [device] = await dataSource.getRepository(Device).find({ take: 1, order: { id: 'ASC' } });
  const region = await dataSource.getRepository(Region).findOneByOrFail({ code: 'UA-43' });
  const rows = attempts(device.id, region.id);

  const viaOrm: number[] = [];
  for (const row of rows) {
    const inserted = await dataSource.getRepository(ActivationAttempt).insert({ ...row, idempotencyKey: null });
    viaOrm.push(Number(inserted.identifiers[0].id));
  }
  // The idempotency key is unique: the ORM's rows were written without it, and are compared with it put back.
  const before = await dataSource.getRepository(ActivationAttempt).maximum('id');
  expect(await ingestAttempts(dataSource, [rows])).toBe(rows.length);
  const viaBulk = (await dataSource.getRepository(ActivationAttempt).find({ select: { id: true } }))
    .map((attempt) => attempt.id)
    .filter((id) => id > before!)
    .sort((a, b) => a - b);
  expect(viaBulk).toHaveLength(rows.length);

  const ormKeys = await storedText(viaOrm);
  await dataSource
    .getRepository(ActivationAttempt)
    .update({ id: viaOrm[0] }, { idempotencyKey: `${AWKWARD} (orm)` } as never);
  const orm = await storedText(viaOrm);
  const bulk = await storedText(viaBulk);
  expect(ormKeys[0].idempotencyKey).toBeNull();
  expect(orm[0].idempotencyKey).toBe(`${AWKWARD} (orm)`);
  expect(bulk[0].idempotencyKey).toBe(AWKWARD);
  const withoutKeys = (stored: Record<string, unknown>[]) => stored.map(({ idempotencyKey: _key, ...row }) => row);
  expect(withoutKeys(bulk)).toEqual(withoutKeys(orm));
  // And read back through the entity, the values are the ones written.
  const [awkward] = await dataSource.getRepository(ActivationAttempt).findBy({ id: viaBulk[0] });
  expect(awkward.signals).toEqual(rows[0].signals);
  expect(awkward.reasonCodes).toEqual(rows[0].reasonCodes);
  expect(awkward.idempotencyKey).toBe(AWKWARD);
  expect(awkward.occurredAt.toISOString()).toBe('2026-10-31T23:59:59.999Z');
});
