import { readdirSync, readFileSync, statSync } from 'node:fs';
import { EntityTarget, In, ObjectLiteral } from 'typeorm';
import { join, relative } from 'node:path';
import { ActivationAttempt, ReviewStatus } from '../src/activations/activation-attempt.entity';
import { AuditEvent } from '../src/audit/audit-event.entity';
import { internalScope } from '../src/common/request-scope';
import { inTransaction } from '../src/db/transactions';
import { decodeGlobalId, encodeGlobalId } from '../src/common/global-id';
import {
  DeviceAction,
  POSTGRES_BATCH_WRITE,
  changeDeviceStatus,
  changeDeviceStatuses,
  transitionRows,
} from '../src/devices/device-lifecycle';
import { EntityStatements } from '../src/db/prepared';
import { partnerEventRow } from '../src/webhooks/partner-events';
import { Device, DeviceStatus, LockCause } from '../src/devices/device.entity';
import { DeviceStatusChange, StatusChangeCause } from '../src/devices/device-status-change.entity';
import { PartnerEvent, PartnerEventType } from '../src/webhooks/partner-event.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { testImei } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { decideActivation, decideActivationWith } from './support/decisions';
import { countDriverStatements } from './support/driver-statements';

const LIFECYCLE = 'src/devices/device-lifecycle.ts';
const postgresOnly = usingPostgres ? it : it.skip;

/** Ways of writing a device's status or its history, in any of the code's styles (ORM, query builder, SQL). */
const STATUS_WRITES: [string, RegExp][] = [
  ['an ORM update of Device', /\.update\(\s*Device\s*[,)]/],
  ['a save of a Device', /\.save\(\s*Device\s*,/],
  ['a prepared update of the device table', /\bdevices\.update\(/],
  ['a prepared batch update of the device table', /\bdevices\.updateMany(?:Values|FromJson)?\(/],
  ['an SQL UPDATE of the device table', /UPDATE\s+\\?"?device\\?"?\s/i],
  ['an insert into the status history', /\.insert\(\s*DeviceStatusChange\b/],
  ['prepared statements on the status history', /EntityStatements\(\s*\w+\s*,\s*DeviceStatusChange\s*\)/],
  ['an SQL INSERT into the status history', /INSERT\s+INTO\s+\\?"?device_status_change/i],
  ['a bulk insert into the status history', /insertRows\(\s*\w+,\s*'device_status_change'/],
];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return path.endsWith('migrations') ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('one owner of device status', () => {
  const root = join(__dirname, '..');
  const files = sourceFiles(join(root, 'src')).map((path) => ({
    path: relative(root, path),
    text: readFileSync(path, 'utf8'),
  }));

  it('no module but the device lifecycle writes a device status or its history', () => {
    const writers = files.flatMap(({ path, text }) =>
      path === LIFECYCLE
        ? []
        : STATUS_WRITES.filter(([, pattern]) => pattern.test(text)).map(([what]) => `${path}: ${what}`),
    );
    expect(writers).toEqual([]);
  });

  it('the scan recognises the writes the lifecycle itself makes', () => {
    const lifecycle = files.find(({ path }) => path === LIFECYCLE)!.text;
    const found = STATUS_WRITES.filter(([, pattern]) => pattern.test(lifecycle)).map(([what]) => what);
    expect(found).toEqual(
      expect.arrayContaining([
        'a prepared update of the device table',
        'a prepared batch update of the device table',
        'an SQL UPDATE of the device table',
        'prepared statements on the status history',
      ]),
    );
  });
});

describe('device lifecycle', () => {
  let database: TestDatabase;
  let client: GraphQLClient;
  const ids: Record<number, string> = {};

  const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
  const PARIS = { gps: { latitude: 48.8566, longitude: 2.3522, accuracyMeters: 10 } };
  // A Crimean fix on a German network: a person decides.
  const DISAGREEING = { gps: { latitude: 44.9521, longitude: 34.1024 }, sim: { mcc: '262', mnc: '01' } };

  const deviceRow = (serial: number) =>
    database.dataSource.getRepository(Device).findOneByOrFail({ imei: testImei(serial) });
  async function decide(serial: number, signals: object) {
    const decided = await decideActivation(
      client,
      { imei: testImei(serial), signals },
      'attempt { id outcome reviewStatus } userErrors { message }',
    );
    expect(decided.userErrors).toEqual([]);
    return decided.attempt;
  }
  /** Everything written about a device: its history, its partner's events and its audit trail, oldest first. */
  async function writtenFor(serial: number) {
    const device = await deviceRow(serial);
    const [history, events, audits] = await Promise.all([
      database.dataSource
        .getRepository(DeviceStatusChange)
        .find({ where: { deviceId: device.id }, order: { id: 'ASC' } }),
      database.dataSource.getRepository(PartnerEvent).find({ where: { deviceId: device.id }, order: { id: 'ASC' } }),
      database.dataSource
        .getRepository(AuditEvent)
        .find({ where: { targetType: 'Device', targetId: ids[serial] }, order: { id: 'ASC' } }),
    ]);
    return {
      device,
      history: history.map((change) => [change.fromStatus, change.toStatus, change.cause]),
      events: events.map((event) => event.type),
      audits: audits.map((audit) => audit.action),
    };
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    client = await GraphQLClient.create(database);
    const partner = await client.data(
      `mutation { createPartner(input: { name: "Lifecycle Partner", kind: CARRIER }) { partner { id } } }`,
    );
    const registered = await client.data(
      `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id imei } userErrors { message } } }`,
      {
        input: {
          partnerId: partner.createPartner.partner.id,
          devices: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((serial) => ({
            imei: testImei(serial),
            serialNumber: `LC${serial}`,
            modelCode: 'AR-5',
            marketRegionCode: 'DE',
          })),
        },
      },
    );
    for (const device of registered.registerDevices.devices)
      ids[Number(device.imei.slice(8, 14)) - 900_000] = device.id;
  });
  afterAll(async () => {
    await client.stop();
    await database.close();
  });

  it('a decision locks: device row, history, partner event and audit together, under one action name', async () => {
    await decide(1, HAVANA);
    const written = await writtenFor(1);
    expect(written.device).toMatchObject({
      status: DeviceStatus.LOCKED,
      activatedAt: null,
      lockCause: LockCause.DECISION,
      lockPolicyVersionId: expect.any(Number),
    });
    expect(written.device.lockedAt).not.toBeNull();
    expect(written.history).toEqual([[DeviceStatus.NEW, DeviceStatus.LOCKED, StatusChangeCause.DECISION]]);
    expect(written.events).toEqual([PartnerEventType.DEVICE_LOCKED]);
    expect(written.audits).toEqual([DeviceAction.LOCK]);

    // A later attempt is refused as already locked and changes nothing.
    const refused = await decide(1, PARIS);
    expect(refused.outcome).toBe('LOCK');
    expect(await writtenFor(1)).toEqual(written);
  });

  it('a person unlocks: the lock is cleared with the same four writes', async () => {
    const data = await client.data(
      `mutation ($input: UnlockDeviceInput!) { unlockDevice(input: $input) { device { status lockedAt lockReason } userErrors { message } } }`,
      { input: { deviceId: ids[1], reason: 'verified traveller' } },
    );
    expect(data.unlockDevice).toEqual({
      device: { status: 'ACTIVE', lockedAt: null, lockReason: null },
      userErrors: [],
    });
    const written = await writtenFor(1);
    expect(written.history.at(-1)).toEqual([DeviceStatus.LOCKED, DeviceStatus.ACTIVE, StatusChangeCause.UNLOCK]);
    expect(written.events.at(-1)).toBe(PartnerEventType.DEVICE_UNLOCKED);
    expect(written.audits).toEqual([DeviceAction.LOCK, DeviceAction.UNLOCK]);
    const [unlock] = await database.dataSource.getRepository(AuditEvent).findBy({ action: DeviceAction.UNLOCK });
    expect(unlock.before).toMatchObject({ status: 'LOCKED', lockReason: expect.stringContaining('POLICY_APPLIES') });
    expect(unlock.after).toMatchObject({ status: 'ACTIVE', cause: 'UNLOCK', reason: 'verified traveller' });
    expect(written.device).toMatchObject({ lockCause: null, lockPolicyVersionId: null, lockedByAttemptId: null });
  });

  it('a decision holds for review and a person resolves it ALLOW or LOCK, each through the lifecycle', async () => {
    const allowed = await decide(2, DISAGREEING);
    const locked = await decide(3, DISAGREEING);
    expect([allowed.reviewStatus, locked.reviewStatus]).toEqual(['OPEN', 'OPEN']);
    const resolve = (attemptId: string, resolution: string) =>
      client.data(
        `mutation ($input: ResolveReviewInput!) { resolveReview(input: $input) { attempt { reviewStatus } userErrors { message } } }`,
        { input: { attemptId, resolution, note: 'checked the receipt' } },
      );
    await resolve(allowed.id, 'ALLOW');
    await resolve(locked.id, 'LOCK');

    const second = await writtenFor(2);
    expect(second.device).toMatchObject({ status: DeviceStatus.ACTIVE });
    expect(second.device.activatedAt).not.toBeNull();
    expect(second.history).toEqual([
      [DeviceStatus.NEW, DeviceStatus.UNDER_REVIEW, StatusChangeCause.DECISION],
      [DeviceStatus.UNDER_REVIEW, DeviceStatus.ACTIVE, StatusChangeCause.REVIEW],
    ]);
    expect(second.events).toEqual([PartnerEventType.REVIEW_OPENED, PartnerEventType.REVIEW_RESOLVED]);
    expect(second.audits).toEqual([DeviceAction.HOLD, DeviceAction.ACTIVATE]);

    const third = await writtenFor(3);
    expect(third.device).toMatchObject({ status: DeviceStatus.LOCKED, lockCause: LockCause.REVIEW });
    expect(third.device.lockedByAttemptId).not.toBeNull();
    expect(third.device.lockReason).toMatch(/^REVIEW_RESOLVED: checked the receipt/);
    expect(third.history.at(-1)).toEqual([DeviceStatus.UNDER_REVIEW, DeviceStatus.LOCKED, StatusChangeCause.REVIEW]);
    expect(third.events).toEqual([
      PartnerEventType.REVIEW_OPENED,
      PartnerEventType.REVIEW_RESOLVED,
      PartnerEventType.DEVICE_LOCKED,
    ]);
    expect(third.audits).toEqual([DeviceAction.HOLD, DeviceAction.LOCK]);
    // The reviewer's note stays internal: partners are told a review locked it, not why.
    const [lockEvent] = await database.dataSource
      .getRepository(PartnerEvent)
      .findBy({ deviceId: third.device.id, type: PartnerEventType.DEVICE_LOCKED });
    expect(lockEvent.data.reason).toBe('REVIEW_RESOLVED');
  });

  it('changes nothing when the device has moved on since it was read', async () => {
    await decide(4, PARIS);
    const device = await deviceRow(4);
    const before = await writtenFor(4);
    const scope = internalScope(database.dataSource, database.settings, 'lifecycle test');
    const changed = await inTransaction(database.dataSource, (manager) =>
      changeDeviceStatus(
        manager,
        scope,
        { ...device, status: DeviceStatus.UNDER_REVIEW },
        {
          to: DeviceStatus.LOCKED,
          cause: StatusChangeCause.SWEEP,
          reason: 'stale',
        },
      ),
    );
    expect(changed).toBe(false);
    expect(await writtenFor(4)).toEqual(before);
  });

  it('finds device changes in the audit trail by their former action names too', async () => {
    const data = await client.data(
      `{ auditEvents(first: 10, filter: { actions: ["device.locked"] }) { nodes { action targetId } } }`,
    );
    expect(data.auditEvents.nodes.map((node: { action: string }) => node.action).sort()).toEqual([
      DeviceAction.LOCK,
      DeviceAction.LOCK,
    ]);
  });

  it('decisions racing on one device never undo each other: the row, its history and its audit agree', async () => {
    // All read the device NEW before any is written. Unguarded, a later ALLOW or REVIEW overwrote
    // an earlier LOCK (LOCKED became ACTIVE or UNDER_REVIEW, the history said NEW→LOCKED then
    // NEW→ACTIVE). Now a decision whose device moved on is decided again against the device as it
    // is: whichever commits first, every later one starts where it left the device.
    const races = [
      [5, [HAVANA, PARIS]],
      [6, [PARIS, HAVANA, DISAGREEING]],
    ] as const;
    for (const [serial, signals] of races) {
      const answers = await Promise.all(signals.map((each) => decide(serial, each)));
      const written = await writtenFor(serial);
      const chain = written.history.map(([from, to]) => `${from}→${to}`);
      const expected: string[] = [];
      written.history.forEach(([from, to], index) => {
        expected.push(`${index === 0 ? DeviceStatus.NEW : written.history[index - 1][1]}→${to}`);
        expect(from).not.toBe(to);
      });
      expect(chain).toEqual(expected);
      expect(written.history.at(-1)![1]).toBe(written.device.status);
      expect(written.audits).toHaveLength(written.history.length);
      // A LOCK answered is a lock kept: nothing but a person or a sweep unlocks.
      if (answers.some((answer) => answer.outcome === 'LOCK')) expect(written.device.status).toBe(DeviceStatus.LOCKED);
    }
  });
  it('gives up after three rounds lost to a device that keeps moving on: an internal error, nothing written', async () => {
    // Each round reads the device NEW and writes NEW→ACTIVE only while it is still NEW. A trigger
    // skips every update of this one row, as if another writer had committed first each time: the
    // guarded update changes no row in every round, deterministically (no timing, no mock).
    const rowId = (await deviceRow(8)).id;
    const postgres = database.dataSource.options.type === 'postgres';
    const install = postgres
      ? [
          `CREATE FUNCTION "skip_device_update"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`,
          `CREATE TRIGGER "device_moves_on" BEFORE UPDATE ON "device" FOR EACH ROW WHEN (OLD."id" = ${rowId}) EXECUTE FUNCTION "skip_device_update"()`,
        ]
      : [
          `CREATE TRIGGER "device_moves_on" BEFORE UPDATE ON "device" WHEN OLD."id" = ${rowId} BEGIN SELECT RAISE(IGNORE); END`,
        ];
    const uninstall = postgres
      ? [`DROP TRIGGER "device_moves_on" ON "device"`, `DROP FUNCTION "skip_device_update"()`]
      : [`DROP TRIGGER "device_moves_on"`];
    for (const sql of install) await database.dataSource.query(sql);
    try {
      const before = await writtenFor(8);
      const attempts = await database.dataSource.getRepository(ActivationAttempt).countBy({ deviceId: rowId });
      const { result, statements } = await countDriverStatements(database.dataSource, () =>
        decideActivationWith(
          (query, variables) => client.execute(query, variables),
          { imei: testImei(8), idempotencyKey: 'moves-on', signals: PARIS },
          'decision { outcome } attempt { id } userErrors { code }',
        ),
      );
      expect(result.errors).toEqual([
        expect.objectContaining({
          message: `device ${rowId} changed status while a decision about it was being recorded`,
          path: ['decideActivation'],
          extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }),
        }),
      ]);
      // Three rounds, each ending at its guarded update of the device row, then no fourth.
      expect(statements.filter((sql) => /^UPDATE "device"/.test(sql))).toHaveLength(3);
      expect(await writtenFor(8)).toEqual(before);
      expect(await database.dataSource.getRepository(ActivationAttempt).countBy({ deviceId: rowId })).toBe(attempts);
    } finally {
      for (const sql of uninstall) await database.dataSource.query(sql);
    }
    // The device decided as usual once it no longer moves on.
    expect((await decide(8, PARIS)).outcome).toBe('ALLOW');
  });

  it('two people resolving one review at once: one resolution stands, the other is refused, all writes agree', async () => {
    const held = await decide(7, DISAGREEING);
    const resolve = (outcome: string) =>
      client.data(
        `mutation ($input: ResolveReviewInput!) { resolveReview(input: $input) { attempt { reviewStatus } userErrors { code } } }`,
        { input: { attemptId: held.id, outcome, note: 'checked' } },
      );
    const answers = (await Promise.all([resolve('ALLOW'), resolve('LOCK')])).map((data) => data.resolveReview);
    const won = answers.filter((answer) => answer.userErrors.length === 0);
    expect(won).toHaveLength(1);
    expect(answers.flatMap((answer) => answer.userErrors)).toEqual([{ code: 'INVALID_STATE' }]);
    const attempt = await database.dataSource
      .getRepository(ActivationAttempt)
      .findOneByOrFail({ deviceId: (await deviceRow(7)).id });
    const written = await writtenFor(7);
    expect(attempt.reviewStatus).toBe(won[0].attempt.reviewStatus);
    expect(written.device.status).toBe(
      attempt.reviewStatus === ReviewStatus.LOCKED ? DeviceStatus.LOCKED : DeviceStatus.ACTIVE,
    );
    expect(written.history).toHaveLength(2);
    expect(written.events).toEqual(
      [PartnerEventType.REVIEW_OPENED, PartnerEventType.REVIEW_RESOLVED].concat(
        attempt.reviewStatus === ReviewStatus.LOCKED ? [PartnerEventType.DEVICE_LOCKED] : [],
      ),
    );
    const resolutions = await database.dataSource.getRepository(AuditEvent).countBy({ action: 'review.resolve' });
    expect(resolutions).toBe(3);
  });

  it('changes a batch in one statement per table, each device only if it has not moved on', async () => {
    for (const serial of [9, 10, 11]) await decide(serial, PARIS);
    const [nine, ten, eleven] = await Promise.all([9, 10, 11].map(deviceRow));
    const before = { ten: await writtenFor(10), eleven: await writtenFor(11), nine: await writtenFor(9) };
    const scope = internalScope(database.dataSource, database.settings, 'lifecycle test');
    const lock = { to: DeviceStatus.LOCKED, cause: StatusChangeCause.SWEEP, reason: 'batch', attemptId: null };
    const { result: made, statements } = await database.statements.measure(() =>
      inTransaction(database.dataSource, (manager) =>
        changeDeviceStatuses(manager, scope, [
          { device: nine, transition: lock },
          // Read before a change that has happened since: left alone.
          { device: { ...ten, status: DeviceStatus.UNDER_REVIEW }, transition: lock },
          // Already what it is asked to become: no change, nothing written.
          { device: eleven, transition: { ...lock, to: DeviceStatus.ACTIVE } },
          // The same device twice, read the same way: the second finds it moved on (as one by one).
          { device: nine, transition: lock },
        ]),
      ),
    );
    expect(made).toEqual([true, false, true, false]);
    expect(await writtenFor(10)).toEqual(before.ten);
    expect(await writtenFor(11)).toEqual(before.eleven);
    const after = await writtenFor(9);
    expect(after.device).toMatchObject({ status: DeviceStatus.LOCKED, lockCause: 'SWEEP', lockReason: 'batch' });
    expect(after.history).toEqual([...before.nine.history, [DeviceStatus.ACTIVE, DeviceStatus.LOCKED, 'SWEEP']]);
    expect(after.events).toEqual([...before.nine.events, 'DEVICE_LOCKED']);
    expect(after.audits).toEqual([...before.nine.audits, 'device.lock']);
    const matching = (pattern: RegExp) => statements.filter((sql) => pattern.test(sql)).length;
    if (usingPostgres) {
      // Two rounds (the repeated device waits for the second), each one statement: the guarded
      // UPDATE with the inserts of what it changed.
      expect(matching(/^WITH changed AS \(UPDATE "device"/)).toBe(2);
      expect(matching(/^(UPDATE|INSERT)/)).toBe(0);
    } else {
      // Two rounds of one guarded UPDATE, then one INSERT per table.
      expect(matching(/^UPDATE "device"/)).toBe(2);
      expect(matching(/^INSERT INTO "device_status_change"/)).toBe(1);
      expect(matching(/^INSERT INTO "partner_event"/)).toBe(1);
      expect(matching(/^INSERT INTO "audit_event"/)).toBe(1);
    }
  });

  describe('a batch of more devices than one PostgreSQL statement writes', () => {
    // A sweep's batch is one statement by default (1,000 devices): written here in statements of
    // 250, so that a batch of a few hundred devices takes several.
    const devicesPerStatement = POSTGRES_BATCH_WRITE.devicesPerStatement;
    beforeAll(() => (POSTGRES_BATCH_WRITE.devicesPerStatement = 250));
    afterAll(() => (POSTGRES_BATCH_WRITE.devicesPerStatement = devicesPerStatement));
    /** Devices registered here, ACTIVE, like device 1 but for their IMEIs. */
    async function activeDevices(count: number, firstSerial: number): Promise<Device[]> {
      const model = await deviceRow(1);
      const repository = database.dataSource.getRepository(Device);
      await repository.insert(
        Array.from({ length: count }, (_, index) => ({
          imei: testImei(firstSerial + index),
          serialNumber: `LCB${firstSerial + index}`,
          modelId: model.modelId,
          marketRegionId: model.marketRegionId,
          partnerId: model.partnerId,
          status: DeviceStatus.ACTIVE,
          activatedAt: new Date('2026-01-01T00:00:00Z'),
        })),
      );
      return repository
        .find({ where: { partnerId: model.partnerId }, order: { id: 'ASC' } })
        .then((devices) =>
          devices.filter((device) => Number(device.imei.slice(8, 14)) - 900_000 >= firstSerial).slice(0, count),
        );
    }
    const written = async (deviceIds: number[]) => {
      const manager = database.dataSource.manager;
      return {
        devices: await manager.find(Device, { where: { id: In(deviceIds) }, order: { id: 'ASC' } }),
        history: await manager.find(DeviceStatusChange, { where: { deviceId: In(deviceIds) }, order: { id: 'ASC' } }),
        events: await manager.find(PartnerEvent, { where: { deviceId: In(deviceIds) }, order: { id: 'ASC' } }),
        audit: await manager.find(AuditEvent, {
          where: { targetType: 'Device', targetId: In(deviceIds.map((id) => encodeGlobalId('Device', id))) },
          order: { id: 'ASC' },
        }),
      };
    };

    it('writes each device with its own history, event and audit row', async () => {
      const count = POSTGRES_BATCH_WRITE.devicesPerStatement * 2 + 37;
      const devices = await activeDevices(count, 1_000);
      const scope = internalScope(database.dataSource, database.settings, 'lifecycle test');
      // Every seventh device was put under review since it was read (its change is not made); the
      // others lock with a reason of their own, but every fifth, which goes (without a partner event)
      // to UNDER_REVIEW: two sets of columns in each statement.
      const moved = (index: number) => index % 7 === 3;
      for (const [index, device] of devices.entries())
        if (moved(index))
          await database.dataSource.getRepository(Device).update(device.id, { status: DeviceStatus.UNDER_REVIEW });
      const to = (index: number) => (index % 5 === 0 ? DeviceStatus.UNDER_REVIEW : DeviceStatus.LOCKED);
      const { result: made, statements } = await database.statements.measure(() =>
        inTransaction(database.dataSource, (manager) =>
          changeDeviceStatuses(
            manager,
            scope,
            devices.map((device, index) => ({
              device,
              transition: { to: to(index), cause: StatusChangeCause.SWEEP, reason: `device ${device.id}`, sweepId: 9 },
            })),
          ),
        ),
      );
      expect(made).toEqual(devices.map((_, index) => !moved(index)));
      const changed = devices.filter((_, index) => !moved(index));
      const rows = await written(devices.map((device) => device.id));
      expect(rows.devices.map((device) => device.status)).toEqual(
        devices.map((_, index) => (moved(index) ? DeviceStatus.UNDER_REVIEW : to(index))),
      );
      // One history and one audit row per device changed (in the order asked within a set of columns).
      const byDevice = <T>(rows: T[], deviceId: (row: T) => number) =>
        [...rows].sort((a, b) => deviceId(a) - deviceId(b));
      const ofAudit = (row: AuditEvent) => decodeGlobalId(row.targetId)!.rowId;
      expect(
        byDevice(rows.history, (row) => row.deviceId).map((row) => [
          row.deviceId,
          row.toStatus,
          row.reason,
          row.sweepId,
        ]),
      ).toEqual(changed.map((device) => [device.id, to(devices.indexOf(device)), `device ${device.id}`, 9]));
      expect(
        byDevice(rows.audit, ofAudit).map((row) => [
          row.targetId,
          row.action,
          (row.after as { reason: string }).reason,
        ]),
      ).toEqual(
        changed.map((device) => [
          encodeGlobalId('Device', device.id),
          to(devices.indexOf(device)) === DeviceStatus.LOCKED ? DeviceAction.LOCK : DeviceAction.HOLD,
          `device ${device.id}`,
        ]),
      );
      // Partners hear of the locks only.
      const locked = changed.filter((device) => to(devices.indexOf(device)) === DeviceStatus.LOCKED);
      expect(byDevice(rows.events, (row) => row.deviceId).map((row) => [row.deviceId, row.type])).toEqual(
        locked.map((device) => [device.id, PartnerEventType.DEVICE_LOCKED]),
      );
      expect(
        rows.devices.filter((device) => device.status === DeviceStatus.LOCKED).map((device) => device.lockReason),
      ).toEqual(locked.map((device) => `device ${device.id}`));
      if (usingPostgres) {
        // Three statements of at most POSTGRES_BATCH_WRITE.devicesPerStatement devices, two sets of columns each.
        expect(statements.filter((sql) => /^WITH changed AS/.test(sql))).toHaveLength(6);
      }
    });

    postgresOnly(
      "a change's rows travel in the batch's JSON documents as they stand, none converted value by value",
      async () => {
        // History's and partner events' deviceId is also their relation's join column, typed `Number`
        // in the metadata: their rows went through the driver value by value (and were copied) until
        // that type was read as the driver names it.
        const [device] = await activeDevices(1, 3_000);
        const scope = internalScope(database.dataSource, database.settings, 'lifecycle test');
        const rows = transitionRows(scope, device, {
          to: DeviceStatus.LOCKED,
          cause: StatusChangeCause.SWEEP,
          reason: 'carried',
          sweepId: 9,
          attemptId: 1,
          attemptOccurredAt: new Date('2026-10-01T00:00:00Z'),
        });
        const carried = (entity: EntityTarget<ObjectLiteral>, row: object) =>
          new EntityStatements(database.dataSource, entity).carriedAsIs(Object.keys(row), [row]);
        expect({
          device: carried(Device, rows.columns),
          history: carried(DeviceStatusChange, rows.history),
          event: carried(PartnerEvent, partnerEventRow(rows.event!)),
          audit: carried(AuditEvent, rows.audit),
        }).toEqual({ device: true, history: true, event: true, audit: true });
      },
    );

    postgresOnly('writes nothing of the batch when a later statement fails', async () => {
      const devices = await activeDevices(POSTGRES_BATCH_WRITE.devicesPerStatement * 2 + 1, 2_000);
      const before = await written(devices.map((device) => device.id));
      const scope = internalScope(database.dataSource, database.settings, 'lifecycle test');
      const lock = { to: DeviceStatus.LOCKED, cause: StatusChangeCause.SWEEP, reason: 'batch' };
      // The last device, in the third statement, asks for a status longer than the column takes.
      const failing = inTransaction(database.dataSource, (manager) =>
        changeDeviceStatuses(
          manager,
          scope,
          devices.map((device, index) => ({
            device,
            transition: index === devices.length - 1 ? { ...lock, to: 'X'.repeat(21) as DeviceStatus } : lock,
          })),
        ),
      );
      await expect(failing).rejects.toThrow(/too long/);
      expect(await written(devices.map((device) => device.id))).toEqual(before);
    });
  });
});
