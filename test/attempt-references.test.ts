/**
 * An attempt names a device, and maybe a region and a policy version, that exist. SQLite keeps it
 * with foreign keys; PostgreSQL with triggers that check a statement's rows at once (migration
 * 1765830000000: RI's per-row checks were a quarter of the bulk path's server time). Either way a
 * statement naming an unknown one is refused with the constraint's name and writes nothing — the
 * bulk path (the seed generator and import-attempts write through ingestAttempts), the decision
 * path's multi-row INSERT — and a row an attempt names cannot be deleted, nor its id changed, even
 * by a transaction racing the insert.
 */
import { DataSource, QueryRunner } from 'typeorm';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { BulkAttempt, ingestAttempts } from '../src/activations/attempt-ingest';
import { Device } from '../src/devices/device.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { allowedByIp } from './support/attempts';
import { seedDemo } from './support/fixtures';

let database: TestDatabase;
let devices: number[];
let germany: number;
let version: number;
const UNKNOWN = 987_654;

beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 12, 0, 'attempt-references');
  const { dataSource } = database;
  devices = (await dataSource.getRepository(Device).find({ order: { id: 'ASC' } })).map((device) => device.id);
  [{ id: germany }] = await dataSource.query(`SELECT "id" FROM "region" WHERE "code" = 'DE'`);
  [{ id: version }] = await dataSource.query(`SELECT "id" FROM "policy_version" ORDER BY "id" LIMIT 1`);
});
afterAll(() => database.close());

/** A recent instant: its month has a partition on PostgreSQL whichever way the row comes in. */
const recently = (minutes: number) => new Date(Date.now() - minutes * 60_000);

const refusal = (constraint: string) =>
  usingPostgres ? new RegExp(`violates foreign key constraint "${constraint}"`) : /FOREIGN KEY constraint failed/;

/**
 * A rejection whose message matches: better-sqlite3's SqliteError is made in the realm of the first
 * test file a Jest worker loaded it for, so in a later file it is no `instanceof Error` and
 * `rejects.toThrow` would call it no throw.
 */
const refusedWith = (message: RegExp) => expect.objectContaining({ message: expect.stringMatching(message) });

async function written(dataSource: DataSource): Promise<{ attempts: number; hours: number }> {
  const [row] = await dataSource.query(
    `SELECT (SELECT COUNT(*) FROM "activation_attempt") AS "attempts", (SELECT COUNT(*) FROM "activation_hourly_rollup") AS "hours"`,
  );
  return { attempts: Number(row.attempts), hours: Number(row.hours) };
}

const badReferences: [string, string, (row: BulkAttempt) => BulkAttempt][] = [
  ['device', 'activation_attempt_device_id_fkey', (row) => ({ ...row, deviceId: UNKNOWN })],
  ['region', 'activation_attempt_resolved_region_id_fkey', (row) => ({ ...row, resolvedRegionId: UNKNOWN })],
  ['policy version', 'activation_attempt_policy_version_id_fkey', (row) => ({ ...row, policyVersionId: UNKNOWN })],
];

describe.each(badReferences)('an attempt naming an unknown %s', (_, constraint, spoil) => {
  const rows = () =>
    Array.from({ length: 40 }, (_, index) =>
      allowedByIp(devices[index % devices.length], recently(index + 1), {
        resolvedRegionId: germany,
        policyVersionId: version,
      }),
    );

  it('is refused on the bulk path, with everything else in its load', async () => {
    const { dataSource } = database;
    const before = await written(dataSource);
    const load = rows();
    load[25] = spoil(load[25]);
    await expect(ingestAttempts(dataSource, [load.slice(0, 20), load.slice(20)])).rejects.toEqual(
      refusedWith(refusal(constraint)),
    );
    expect(await written(dataSource)).toEqual(before);
  });

  it('is refused in a multi-row INSERT as the decision path sends, with the statement’s other rows', async () => {
    const { dataSource } = database;
    const before = await written(dataSource);
    const [first, second] = rows();
    await expect(dataSource.getRepository(ActivationAttempt).insert([first, spoil(second)])).rejects.toThrow(
      refusal(constraint),
    );
    expect(await written(dataSource)).toEqual(before);
  });
});

it('takes attempts naming known devices, regions and versions, and refuses to delete those rows', async () => {
  const { dataSource } = database;
  const [device, unused] = devices.slice(-2);
  await ingestAttempts(dataSource, [
    [allowedByIp(device, recently(90), { resolvedRegionId: germany, policyVersionId: version })],
  ]);
  await expect(dataSource.query(`DELETE FROM "device" WHERE "id" = ${device}`)).rejects.toThrow(
    refusal('activation_attempt_device_id_fkey'),
  );
  await expect(dataSource.query(`DELETE FROM "region" WHERE "id" = ${germany}`)).rejects.toThrow(
    usingPostgres ? /violates foreign key constraint/ : /FOREIGN KEY constraint failed/,
  );
  await expect(dataSource.query(`DELETE FROM "policy_version" WHERE "id" = ${version}`)).rejects.toThrow(
    usingPostgres ? /violates foreign key constraint/ : /FOREIGN KEY constraint failed/,
  );
  await expect(dataSource.query(`UPDATE "device" SET "id" = ${UNKNOWN} WHERE "id" = ${device}`)).rejects.toThrow(
    usingPostgres ? refusal('activation_attempt_device_id_fkey') : /FOREIGN KEY constraint failed/,
  );
  expect(await dataSource.getRepository(Device).countBy({ id: device })).toBe(1);
  // A device no attempt names goes (its status history first).
  await dataSource.query(`DELETE FROM "device_status_change" WHERE "deviceId" = ${unused}`);
  await dataSource.query(`DELETE FROM "device" WHERE "id" = ${unused}`);
  expect(await dataSource.getRepository(Device).countBy({ id: unused })).toBe(0);
  devices = devices.filter((id) => id !== unused);
});

(usingPostgres ? describe : describe.skip)('PostgreSQL, racing transactions', () => {
  async function opened(dataSource: DataSource): Promise<QueryRunner> {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    return runner;
  }

  /** Whether `promise` is still waiting after a moment (for a lock). */
  async function stillWaiting(promise: Promise<unknown>): Promise<boolean> {
    const waiting = Symbol('waiting');
    return (
      (await Promise.race([promise.then(() => null).catch(() => null), sleep(300).then(() => waiting)])) === waiting
    );
  }
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('a delete waits for the inserting transaction, then sees its attempts and is refused', async () => {
    const { dataSource } = database;
    const device = devices[0];
    const inserting = await opened(dataSource);
    const deleting = await opened(dataSource);
    try {
      await inserting.startTransaction();
      await inserting.manager.insert(ActivationAttempt, allowedByIp(device, recently(120)));
      const deleted = deleting.query(`DELETE FROM "device" WHERE "id" = ${device}`);
      deleted.catch(() => undefined);
      expect(await stillWaiting(deleted)).toBe(true);
      await inserting.commitTransaction();
      await expect(deleted).rejects.toThrow(refusal('activation_attempt_device_id_fkey'));
      expect(await dataSource.getRepository(Device).countBy({ id: device })).toBe(1);
    } finally {
      await inserting.release();
      await deleting.release();
    }
  });

  it('an insert waits for the deleting transaction, then finds the device gone and is refused', async () => {
    const { dataSource } = database;
    const [{ id: device }] = await dataSource.query(
      `SELECT d."id" FROM "device" d WHERE NOT EXISTS (SELECT 1 FROM "activation_attempt" a WHERE a."deviceId" = d."id") ORDER BY d."id" LIMIT 1`,
    );
    const before = await written(dataSource);
    const deleting = await opened(dataSource);
    try {
      await deleting.startTransaction();
      await deleting.query(`DELETE FROM "device_status_change" WHERE "deviceId" = ${device}`);
      await deleting.query(`DELETE FROM "device" WHERE "id" = ${device}`);
      const inserted = ingestAttempts(dataSource, [
        [allowedByIp(devices[1], recently(5)), allowedByIp(device, recently(6))],
      ]);
      inserted.catch(() => undefined);
      expect(await stillWaiting(inserted)).toBe(true);
      await deleting.commitTransaction();
      await expect(inserted).rejects.toEqual(refusedWith(refusal('activation_attempt_device_id_fkey')));
      expect(await written(dataSource)).toEqual(before);
    } finally {
      await deleting.release();
    }
  });

  it('refuses deletes outside READ COMMITTED, whose snapshot would miss an attempt committed meanwhile', async () => {
    const { dataSource } = database;
    const runner = await opened(dataSource);
    try {
      await runner.startTransaction('REPEATABLE READ');
      await expect(runner.query(`DELETE FROM "device" WHERE "id" = ${devices[2]}`)).rejects.toThrow(
        /rows of "device" are deleted or given another id in READ COMMITTED transactions only/,
      );
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
  });

  it('checks an attempt’s references when an UPDATE changes them', async () => {
    const { dataSource } = database;
    await expect(
      dataSource.query(`UPDATE "activation_attempt" SET "deviceId" = ${UNKNOWN} WHERE "deviceId" = ${devices[0]}`),
    ).rejects.toThrow(refusal('activation_attempt_device_id_fkey'));
    await expect(
      dataSource.query(
        `UPDATE "activation_attempt" SET "resolvedRegionId" = ${UNKNOWN} WHERE "deviceId" = ${devices[0]}`,
      ),
    ).rejects.toThrow(refusal('activation_attempt_resolved_region_id_fkey'));
  });
});
