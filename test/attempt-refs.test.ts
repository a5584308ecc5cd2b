/**
 * Attempts looked up by (id, occurredAt) instead of id alone (issue 21): references carry their
 * attempt's occurredAt (a lock, a status change) and an attempt's global ID names its month, so
 * PostgreSQL probes one month's partition per lookup. Lookups are right on either side of a month
 * boundary; a reference whose month holds no such attempt (retired, or wrong) answers null without
 * an error; IDs issued before they named the month still work. Both databases.
 */
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { ingestAttempts } from '../src/activations/attempt-ingest';
import { AttemptRef, findAttemptsByRefs } from '../src/activations/attempt-refs';
import { decodeGlobalId, encodeGlobalId } from '../src/common/global-id';
import { Device, DeviceStatus } from '../src/devices/device.entity';
import { DeviceStatusChange } from '../src/devices/device-status-change.entity';
import { openTestDatabase, TestDatabase } from './support/database';
import { decideActivation } from './support/decisions';
import { seedDemo } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { allowedByIp } from './support/attempts';

const BEFORE = new Date('2026-10-31T23:59:59.900Z');
const AFTER = new Date('2026-11-01T00:00:00.100Z');
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };

let database: TestDatabase;
let client: GraphQLClient;
let devices: Device[];
/** The attempts just before and just after midnight at the end of October. */
let before: { id: number; occurredAt: Date };
let after: { id: number; occurredAt: Date };

beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 20, 100, 'attempt-refs');
  client = await GraphQLClient.create(database);
  devices = await database.dataSource
    .getRepository(Device)
    .find({ where: { status: DeviceStatus.ACTIVE }, order: { id: 'ASC' } });
  await ingestAttempts(database.dataSource, [[allowedByIp(devices[0].id, BEFORE), allowedByIp(devices[0].id, AFTER)]]);
  const [second, first] = await database.dataSource
    .getRepository(ActivationAttempt)
    .find({ where: { deviceId: devices[0].id }, order: { id: 'DESC' }, take: 2 });
  expect([first.occurredAt, second.occurredAt]).toEqual([BEFORE, AFTER]);
  before = { id: first.id, occurredAt: first.occurredAt };
  after = { id: second.id, occurredAt: second.occurredAt };
});

afterAll(async () => {
  await client?.stop();
  await database?.close();
});

describe('attempts by reference', () => {
  it('finds each attempt by its instant, by its month and by id alone on either side of a month boundary, and none by a wrong instant or month', async () => {
    const october = new Date('2026-10-01T00:00:00Z');
    const november = new Date('2026-11-01T00:00:00Z');
    const refs: AttemptRef[] = [
      { id: before.id, occurredAt: BEFORE },
      { id: after.id, occurredAt: AFTER },
      { id: before.id, month: october },
      { id: after.id, month: november },
      { id: before.id },
      { id: after.id },
      // Wrong: the other side of the boundary, a millisecond off, the other month.
      { id: before.id, occurredAt: AFTER },
      { id: after.id, occurredAt: new Date(AFTER.getTime() + 1) },
      { id: before.id, month: november },
      { id: after.id, month: october },
      { id: 2_000_000_000 },
    ];
    const found = await findAttemptsByRefs(database.dataSource.manager, refs);
    expect(found.map((attempt) => attempt?.id ?? null)).toEqual([
      before.id,
      after.id,
      before.id,
      after.id,
      before.id,
      after.id,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('answers node(id:) for an ID naming the month and for an older ID without it; an ID naming another month is null', async () => {
    const named = encodeGlobalId('ActivationAttempt', before.id, BEFORE);
    expect(decodeGlobalId(named)).toEqual({
      typeName: 'ActivationAttempt',
      rowId: before.id,
      month: new Date('2026-10-01T00:00:00Z'),
    });
    const result = await client.data(
      `query ($named: ID!, $legacy: ID!, $wrong: ID!, $after: ID!) {
        named: node(id: $named) { id ... on ActivationAttempt { occurredAt } }
        legacy: node(id: $legacy) { id }
        wrong: node(id: $wrong) { id }
        after: node(id: $after) { id ... on ActivationAttempt { occurredAt } }
      }`,
      {
        named,
        legacy: encodeGlobalId('ActivationAttempt', before.id),
        wrong: encodeGlobalId('ActivationAttempt', before.id, AFTER),
        after: encodeGlobalId('ActivationAttempt', after.id, AFTER),
      },
    );
    expect(result).toEqual({
      named: { id: named, occurredAt: BEFORE.toISOString() },
      // The older ID is answered with the attempt, whose ID now names its month.
      legacy: { id: named },
      wrong: null,
      after: { id: encodeGlobalId('ActivationAttempt', after.id, AFTER), occurredAt: AFTER.toISOString() },
    });
  });

  it('records the locking attempt’s instant with the lock and the history, and answers both through it', async () => {
    const device = devices[1];
    const decided = await decideActivation(
      client,
      { imei: device.imei, occurredAt: BEFORE.toISOString(), signals: HAVANA },
      'decision { outcome } attempt { id occurredAt } userErrors { message }',
    );
    expect(decided.userErrors).toEqual([]);
    expect(decided.decision.outcome).toBe('LOCK');
    const attemptId = decodeGlobalId(decided.attempt.id)!;
    expect(attemptId.month).toEqual(new Date('2026-10-01T00:00:00Z'));

    const stored = await database.dataSource.getRepository(Device).findOneByOrFail({ id: device.id });
    expect([stored.lockedByAttemptId, stored.lockedByAttemptOccurredAt]).toEqual([attemptId.rowId, BEFORE]);
    const [change] = await database.dataSource
      .getRepository(DeviceStatusChange)
      .findBy({ deviceId: device.id, attemptId: attemptId.rowId });
    expect(change.attemptOccurredAt).toEqual(BEFORE);

    const DEVICE = `query ($imei: String!) {
      device(imei: $imei) {
        lockedByAttempt { id occurredAt }
        statusHistory(first: 10) { nodes { toStatus attempt { id occurredAt } } }
      }
    }`;
    const read = await client.data(DEVICE, { imei: device.imei });
    const attempt = { id: decided.attempt.id, occurredAt: BEFORE.toISOString() };
    expect(read.device.lockedByAttempt).toEqual(attempt);
    expect(read.device.statusHistory.nodes).toContainEqual({ toStatus: 'LOCKED', attempt });

    // A reference whose month holds no such attempt (a retired month reads the same): null, no error.
    await database.dataSource
      .getRepository(DeviceStatusChange)
      .update({ id: change.id }, { attemptOccurredAt: new Date('2026-09-15T00:00:00Z') });
    await database.dataSource
      .getRepository(Device)
      .update({ id: device.id }, { lockedByAttemptOccurredAt: new Date('2026-09-15T00:00:00Z') });
    const gone = await client.data(DEVICE, { imei: device.imei });
    expect(gone.device.lockedByAttempt).toBeNull();
    expect(gone.device.statusHistory.nodes).toContainEqual({ toStatus: 'LOCKED', attempt: null });
  });

  it('reads the attempts of a page of status changes across months in one statement', async () => {
    // The seeded history and the lock above: attempts of several months behind one page.
    const changes = await database.dataSource.getRepository(DeviceStatusChange).find({ take: 50 });
    const withAttempts = changes.filter((change) => change.attemptId !== null);
    expect(withAttempts.length).toBeGreaterThan(3);
    const counted = database.statements.count;
    const found = await findAttemptsByRefs(
      database.dataSource.manager,
      withAttempts.map((change) => ({ id: change.attemptId!, occurredAt: change.attemptOccurredAt })),
    );
    expect(database.statements.count - counted).toBe(1);
    // Each found where its change says, except the one pointed at September above.
    for (const [index, attempt] of found.entries()) {
      if (attempt) expect(attempt.occurredAt).toEqual(withAttempts[index].attemptOccurredAt);
    }
    expect(found.filter((attempt) => attempt === null).length).toBeLessThanOrEqual(1);
  });
});
