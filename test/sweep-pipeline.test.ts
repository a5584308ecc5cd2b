/**
 * A sweep reads and judges its next batch on a second connection while it writes the current one
 * (issue 21: the service and the database at work at once). What that must keep: the rows written
 * are those the one-batch-at-a-time path writes, through a batch that fails after the next one was
 * read ahead and a runner stopped with a read in flight; a device that changed between the read
 * ahead and its write is left as it is; and the progress's total, estimated at the start from a
 * sample instead of counting every candidate, is exact once the sweep completes.
 */
import { In } from 'typeorm';
import { AuditEvent } from '../src/audit/audit-event.entity';
import * as auditService from '../src/audit/audit.service';
import { encodeGlobalId } from '../src/common/global-id';
import { internalScope } from '../src/common/request-scope';
import { sqliteDatabaseOf } from '../src/db/pool';
import { inTransaction } from '../src/db/transactions';
import { POSTGRES_BATCH_WRITE, changeDeviceStatus } from '../src/devices/device-lifecycle';
import { Device, DeviceStatus, LockCause } from '../src/devices/device.entity';
import { DeviceStatusChange, StatusChangeCause } from '../src/devices/device-status-change.entity';
import { markets } from '../src/seeding/places';
import { Sweep, SweepAction } from '../src/sweeps/sweep.entity';
import { SweepRunner } from '../src/sweeps/sweep-runner';
import { SqliteSweepReader } from '../src/sweeps/sweep-reader';
import * as sweepService from '../src/sweeps/sweep.service';
import { DEVICE_ATTEMPTS_INDEX } from '../src/activations/activation-attempt.entity';
import {
  SweepCandidates,
  TOTAL_ESTIMATE,
  countCandidates,
  estimateCandidates,
  sweepScope,
} from '../src/sweeps/sweep.service';
import { PartnerEvent } from '../src/webhooks/partner-event.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { seedDemo } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { applyWithApproval } from './support/policies';

const POLICY = 'markets';
const START = `mutation { startSweep(input: { policyKey: "${POLICY}", action: LOCK_ACTIVE_DEVICES, dryRun: false }) {
  sweep { id total } userErrors { message } } }`;
const SWEEP = `query ($id: ID!) { sweep(id: $id) { status total processed changed failed } }`;

interface World {
  database: TestDatabase;
  client: GraphQLClient;
}

/** A seeded database (the same devices and attempts in each) with an enforced LOCK policy on the demo's markets. */
async function world(): Promise<World> {
  const database = await openTestDatabase();
  await seedDemo(database.dataSource, 300, 4000, 'pipeline');
  const client = await GraphQLClient.create(database);
  const created = await client.data(
    `mutation ($codes: [String!]!) { createPolicy(input: { key: "${POLICY}", title: "t", description: "d", legalBasis: "l",
      action: LOCK, mode: ENFORCE, effectiveFrom: "2025-01-01T00:00:00Z", regionCodes: $codes, lockMessage: "No" }) {
      policy { id } userErrors { message } } }`,
    { codes: markets.map((market) => market.regionCode) },
  );
  await applyWithApproval(client, 'activatePolicy', { id: created.createPolicy.policy.id });
  return { database, client };
}

async function runSweep({ database, client }: World): Promise<{ id: string; startTotal: number }> {
  const started = await client.data(START);
  expect(started.startSweep.userErrors).toEqual([]);
  await database.services.sweeps.idle();
  return { id: started.startSweep.sweep.id, startTotal: started.startSweep.sweep.total };
}

/**
 * What a sweep wrote, without ids and instants (a rolled-back batch uses up ids on PostgreSQL),
 * ordered by device: the devices, their history, the partners' events and the audit events.
 */
async function written({ database }: World) {
  const manager = database.dataSource.manager;
  const devices = await manager.find(Device, { order: { id: 'ASC' } });
  const history = await manager.find(DeviceStatusChange, { where: { cause: StatusChangeCause.SWEEP } });
  const events = await manager.find(PartnerEvent);
  const audit = await manager.find(AuditEvent, { where: { targetType: 'Device' } });
  const byDevice = <T>(rows: T[], key: (row: T) => string) => rows.map(key).sort();
  return {
    devices: devices.map(({ lockedAt: _lockedAt, createdAt: _createdAt, ...device }) => device),
    history: byDevice(history, ({ id: _id, occurredAt: _occurredAt, ...row }) => JSON.stringify(row)),
    events: byDevice(events, ({ id: _id, occurredAt: _occurredAt, fannedOutAt: _fannedOutAt, ...row }) =>
      JSON.stringify(row),
    ),
    audit: byDevice(audit, ({ id: _id, occurredAt: _occurredAt, after, ...row }) => {
      const { lockedAt: _lockedAt, ...rest } = (after ?? {}) as Record<string, unknown>;
      return JSON.stringify({ ...row, after: rest });
    }),
  };
}

/**
 * Hooks into every read of a batch: `started` as it starts (from the cursor `after`), `read` once it
 * has its candidates, before they are judged and written. A batch is read on the service's thread
 * (`nextCandidates`: in its transaction, and read ahead on PostgreSQL) or, read ahead on a SQLite
 * file, on the sweep's reader thread — which the spies do not reach, so there through
 * `SqliteSweepReader.read`. Answers how many batches the reader thread read successfully.
 */
function spyOnReads(hooks: {
  started?: (after: number) => void;
  read?: (candidates: SweepCandidates) => Promise<void>;
}): { onThread: number } {
  const counts = { onThread: 0 };
  const nextCandidates = sweepService.nextCandidates;
  jest.spyOn(sweepService, 'nextCandidates').mockImplementation(async (manager, scope, after, limit) => {
    hooks.started?.(after);
    const candidates = await nextCandidates(manager, scope, after, limit);
    await hooks.read?.(candidates);
    return candidates;
  });
  const read = SqliteSweepReader.prototype.read;
  jest.spyOn(SqliteSweepReader.prototype, 'read').mockImplementation(async function (
    this: SqliteSweepReader,
    context,
    sweepId,
    scope,
    after,
    limit,
  ) {
    hooks.started?.(after);
    const batch = await read.call(this, context, sweepId, scope, after, limit);
    // Counted once read: a thread that failed every read (each batch then read again here) counts none.
    counts.onThread += 1;
    await hooks.read?.(batch.candidates);
    return batch;
  });
  return counts;
}

async function sweepRow(world: World, id: string) {
  return (await world.client.data(SWEEP, { id })).sweep;
}

let reference: World;
let referenceSweep: { id: string; startTotal: number };
const opened: World[] = [];
const postgresOnly = usingPostgres ? it : it.skip;
const sqliteOnly = usingPostgres ? it.skip : it;

beforeAll(async () => {
  reference = await world();
  opened.push(reference);
  reference.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: false };
  referenceSweep = await runSweep(reference);
}, 180_000);
afterEach(() => jest.restoreAllMocks());
afterAll(async () => {
  for (const { database, client } of opened) {
    await client.stop();
    await database.close();
  }
});

it('the one-batch-at-a-time sweep locks devices (the reference the others are compared with)', async () => {
  const sweep = await sweepRow(reference, referenceSweep.id);
  expect(sweep).toMatchObject({ status: 'COMPLETED', failed: 0 });
  expect(sweep.changed).toBeGreaterThan(20);
  expect(sweep.processed).toBeGreaterThan(sweep.changed);
  // Under 10,000 devices in the status it changes, the total is counted at the start.
  expect(referenceSweep.startTotal).toBe(sweep.processed);
  expect(sweep.total).toBe(sweep.processed);
});

it('writes what one batch at a time writes, through a batch that fails after the next was read ahead', async () => {
  const piped = await world();
  opened.push(piped);
  // One batch written at a time: which read is under way when the third write fails is exact only so.
  piped.database.settings.sweeps = {
    batchSize: 7,
    leaseMs: 30_000,
    batchPauseMs: 0,
    readAhead: true,
    overlapWrites: false,
  };
  const reads: number[] = [];
  const counted = spyOnReads({ started: (after) => reads.push(after) });
  const applyChanges = sweepService.applyChanges;
  let writes = 0;
  let failedAfterReads = 0;
  jest.spyOn(sweepService, 'applyChanges').mockImplementation(async (...args) => {
    const applied = await applyChanges(...args);
    writes += 1;
    if (writes === 3) {
      // Written, then lost before the commit: the batch rolls back; the read of the next one is under way.
      failedAfterReads = reads.length;
      throw new Error('connection lost');
    }
    return applied;
  });
  const { id } = await runSweep(piped);
  // The third batch had the fourth read ahead (from its last device) when it failed.
  expect(failedAfterReads).toBe(4);
  // On a SQLite file the batches after the first were read, judged and built on the reader thread.
  if (usingPostgres) expect(counted.onThread).toBe(0);
  else expect(counted.onThread).toBeGreaterThan(2);
  const sweep = await sweepRow(piped, id);
  const expected = await sweepRow(reference, referenceSweep.id);
  expect(sweep).toEqual(expected);
  expect(await written(piped)).toEqual(await written(reference));
  // Each device changed once: no history row twice.
  const history = await piped.database.dataSource.manager.find(DeviceStatusChange, {
    where: { cause: StatusChangeCause.SWEEP },
  });
  expect(new Set(history.map((row) => row.deviceId)).size).toBe(history.length);
});

it('resumes from the last committed batch after its runner stopped with a read ahead in flight', async () => {
  const piped = await world();
  opened.push(piped);
  piped.database.settings.sweeps = { batchSize: 7, leaseMs: 500, batchPauseMs: 0, readAhead: true };
  const { dataSource, settings, services } = piped.database;
  const first = new SweepRunner(dataSource, settings, services.evaluator);
  let reads = 0;
  let stopping: Promise<void> | undefined;
  spyOnReads({
    started: () => {
      reads += 1;
      // The third batch's read ahead: the instance goes down while it is under way.
      if (reads === 3) stopping = first.stop();
    },
  });
  // Started as a mutation would, then run by `first` alone until it stops.
  await services.sweeps.stop();
  const started = await piped.client.data(START);
  first.wake();
  await first.idle();
  await stopping;
  const halfway = await dataSource.manager.findOneByOrFail(Sweep, {});
  expect(halfway).toMatchObject({ status: 'RUNNING', leaseOwner: null });
  expect(halfway.processed).toBeGreaterThan(0);
  jest.restoreAllMocks();
  // Another instance carries it on from its cursor.
  const second = new SweepRunner(dataSource, settings, services.evaluator);
  second.wake();
  await second.idle();
  await second.stop();
  expect(await sweepRow(piped, started.startSweep.sweep.id)).toEqual(await sweepRow(reference, referenceSweep.id));
  expect(await written(piped)).toEqual(await written(reference));
});

it('rolls a batch back whole when it fails between two of its statements, and writes what one batch at a time writes', async () => {
  const piped = await world();
  opened.push(piped);
  piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: true };
  const { dataSource } = piped.database;
  // PostgreSQL writes a batch in statements of two devices here (250 by default), SQLite one per table.
  const writes = usingPostgres
    ? /^WITH changed AS \(UPDATE "device"/
    : /^INSERT INTO "(device_status_change|partner_event|audit_event)"/;
  const runnerType = Object.getPrototypeOf(dataSource.createQueryRunner()) as {
    query: (...args: unknown[]) => Promise<unknown>;
  };
  const query = runnerType.query;
  // Per transaction, the writes so far; the batches committed before.
  let writesInTransaction = 0;
  let committed = 0;
  let failed = false;
  jest.spyOn(runnerType, 'query').mockImplementation(async function (this: unknown, ...args: unknown[]) {
    const sql = typeof args[0] === 'string' ? args[0] : '';
    if (/^(START TRANSACTION|BEGIN)/.test(sql)) writesInTransaction = 0;
    if (/^COMMIT/.test(sql)) committed += 1;
    if (writes.test(sql)) {
      writesInTransaction += 1;
      // A batch after the first, between its first write and its second: the first is undone with it.
      if (!failed && committed > 1 && writesInTransaction === 2) {
        failed = true;
        throw new Error('connection lost');
      }
    }
    return query.apply(this, args);
  });
  const perStatement = POSTGRES_BATCH_WRITE.devicesPerStatement;
  POSTGRES_BATCH_WRITE.devicesPerStatement = 2;
  let id: string;
  try {
    ({ id } = await runSweep(piped));
  } finally {
    POSTGRES_BATCH_WRITE.devicesPerStatement = perStatement;
  }
  expect(failed).toBe(true);
  expect(await sweepRow(piped, id)).toEqual(await sweepRow(reference, referenceSweep.id));
  expect(await written(piped)).toEqual(await written(reference));
  // Each device changed once: nothing of the failed batch's first statement was kept.
  const history = await dataSource.manager.find(DeviceStatusChange, { where: { cause: StatusChangeCause.SWEEP } });
  expect(new Set(history.map((row) => row.deviceId)).size).toBe(history.length);
});

it('leaves a device that changed between the read ahead and its write', async () => {
  const piped = await world();
  opened.push(piped);
  piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: true };
  const { dataSource, settings } = piped.database;
  let reads = 0;
  let moved: number | undefined;
  spyOnReads({
    read: async (candidates) => {
      reads += 1;
      if (reads === 2) {
        // Read ahead while the first batch is written: a person holds one of its devices for review meanwhile.
        // One the sweep locks in the reference run: the guard, not the judgement, must keep it.
        const lockedThere = await reference.database.dataSource.manager.findBy(Device, {
          id: In(candidates.devices.map((candidate) => candidate.id)),
          status: DeviceStatus.LOCKED,
        });
        const device = candidates.devices.find((candidate) => candidate.id === lockedThere[0].id)!;
        moved = device.id;
        await inTransaction(dataSource, (transaction) =>
          changeDeviceStatus(transaction, internalScope(dataSource, settings, 'a reviewer'), device, {
            to: DeviceStatus.UNDER_REVIEW,
            cause: StatusChangeCause.REVIEW,
            reason: 'held meanwhile',
          }),
        );
      }
    },
  });
  const { id } = await runSweep(piped);
  const device = await dataSource.manager.findOneByOrFail(Device, { id: moved });
  expect(device.status).toBe(DeviceStatus.UNDER_REVIEW);
  const history = await dataSource.manager.find(DeviceStatusChange, {
    where: { deviceId: moved },
    order: { id: 'DESC' },
  });
  expect(history[0]).toMatchObject({ cause: StatusChangeCause.REVIEW, toStatus: DeviceStatus.UNDER_REVIEW });
  expect(history.some((row) => row.cause === StatusChangeCause.SWEEP)).toBe(false);
  const expected = await sweepRow(reference, referenceSweep.id);
  expect(await sweepRow(piped, id)).toEqual({ ...expected, changed: expected.changed - 1 });
});

sqliteOnly(
  'reads, judges and builds on its reader thread by the rules it was last sent, sent again when they change',
  async () => {
    const piped = await world();
    opened.push(piped);
    const { dataSource, settings, services } = piped.database;
    const context = internalScope(dataSource, settings, 'reader test');
    const scope = async () =>
      sweepScope(dataSource.manager, await services.evaluator.current(), POLICY, SweepAction.LOCK_ACTIVE_DEVICES);
    const reader = new SqliteSweepReader(sqliteDatabaseOf(dataSource)!.name);
    try {
      const before = await scope();
      const first = await reader.read(context, 1, before, 0, 10_000);
      // The same devices and judgements as on this thread.
      const here = await sweepService.nextCandidates(dataSource.manager, before, 0, 10_000);
      expect(first.candidates.devices).toEqual(here.devices);
      const judgedHere = sweepService.plannedChanges(before, here, new Date());
      expect(first.changes.map(({ device, reason }) => [device.id, reason])).toEqual(
        judgedHere.map(({ device, reason }) => [device.id, reason]),
      );
      expect(first.changes.length).toBeGreaterThan(20);
      // One partner's devices exempted from the policy: the rules change, and the thread must judge by the new ones.
      const exempted = first.changes[0].device.partnerId;
      const created = await piped.client.data(
        `mutation ($id: ID!) { createExemption(input: { policyKey: "${POLICY}", partnerId: $id, reason: "Test" }) {
        exemption { id } userErrors { message } } }`,
        { id: encodeGlobalId('Partner', exempted) },
      );
      expect(created.createExemption.userErrors).toEqual([]);
      const after = await scope();
      expect(after.rules).not.toBe(before.rules);
      const second = await reader.read(context, 1, after, 0, 10_000);
      expect(second.changes.map(({ device }) => device.id)).toEqual(
        first.changes.filter(({ device }) => device.partnerId !== exempted).map(({ device }) => device.id),
      );
    } finally {
      await reader.close();
    }
  },
);

sqliteOnly(
  "carries on when its reader thread stops, reading on the service's thread, with the same result",
  async () => {
    const piped = await world();
    opened.push(piped);
    piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: true };
    let asked = 0;
    const read = SqliteSweepReader.prototype.read;
    jest.spyOn(SqliteSweepReader.prototype, 'read').mockImplementation(async function (
      this: SqliteSweepReader,
      ...args: Parameters<typeof read>
    ) {
      asked += 1;
      // The thread goes down at the second batch it is asked for (a crash, say).
      if (asked === 2) await this.close();
      return read.apply(this, args);
    });
    const { id } = await runSweep(piped);
    expect(await sweepRow(piped, id)).toEqual(await sweepRow(reference, referenceSweep.id));
    expect(await written(piped)).toEqual(await written(reference));
    // Not asked again once it had stopped: the rest was read ahead on the service's thread.
    expect(asked).toBe(2);
  },
);

it('stops as CANCELLED, saying why, when its policy is retired mid-way; what it committed before stays', async () => {
  const piped = await world();
  opened.push(piped);
  // Batches a fifth of a second apart: the policy is retired while the sweep is under way.
  piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 200 };
  const { database, client } = piped;
  const started = await client.data(START);
  expect(started.startSweep.userErrors).toEqual([]);
  const id = started.startSweep.sweep.id;
  for (let waited = 0; (await sweepRow(piped, id)).processed === 0; waited += 1) {
    if (waited > 300) throw new Error('the sweep did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const policy = (await client.data(`{ policy(key: "${POLICY}") { id } }`)).policy;
  const retired = await client.data(
    `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "withdrawn" }) { userErrors { message } } }`,
    { id: policy.id },
  );
  expect(retired.retirePolicy.userErrors).toEqual([]);
  await database.services.sweeps.idle();
  const sweep = await sweepRow(piped, id);
  const expected = await sweepRow(reference, referenceSweep.id);
  expect(sweep.status).toBe('CANCELLED');
  expect(sweep.processed).toBeGreaterThan(0);
  expect(sweep.processed).toBeLessThan(expected.processed);
  // The committed batches' changes, each once, and nothing after the cancellation.
  const history = await database.dataSource.manager.find(DeviceStatusChange, {
    where: { cause: StatusChangeCause.SWEEP },
  });
  expect(history.length).toBe(sweep.changed);
  expect(new Set(history.map((row) => row.deviceId)).size).toBe(history.length);
  const cancelled = await database.dataSource.manager.findOneByOrFail(AuditEvent, { action: 'sweep.cancel' });
  expect(cancelled.after).toMatchObject({
    status: 'CANCELLED',
    why: 'only a policy whose version in force now LOCKs in ENFORCE mode can lock devices',
  });
});

postgresOnly(
  'builds a batch read ahead before its transaction, which holds its devices only while the server writes them',
  async () => {
    const piped = await world();
    opened.push(piped);
    piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: true };
    const { dataSource } = piped.database;
    // One clock for both: when each device's audit row was built, and when each transaction began.
    let clock = 0;
    const builtAt = new Map<number, number>();
    const auditEventRow = auditService.auditEventRow;
    jest.spyOn(auditService, 'auditEventRow').mockImplementation((context, change, owned) => {
      if (change.targetType === 'Device') builtAt.set(change.targetRowId, ++clock);
      return auditEventRow(context, change, owned);
    });
    const runnerType = Object.getPrototypeOf(dataSource.createQueryRunner()) as {
      query: (...args: unknown[]) => Promise<unknown>;
    };
    const query = runnerType.query;
    const begunAt = new Map<unknown, number>();
    const writes: { begun: number; ids: number[] }[] = [];
    // Transactions that read their batch themselves: its read ahead was not used (the rules changed meanwhile, say).
    const readInTransaction = new Set<number>();
    const nextCandidates = sweepService.nextCandidates;
    jest.spyOn(sweepService, 'nextCandidates').mockImplementation(async (manager, ...rest) => {
      if (manager.queryRunner?.isTransactionActive) readInTransaction.add(begunAt.get(manager.queryRunner)!);
      return nextCandidates(manager, ...rest);
    });
    jest.spyOn(runnerType, 'query').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const sql = typeof args[0] === 'string' ? args[0] : '';
      if (/^(START TRANSACTION|BEGIN)/.test(sql)) begunAt.set(this, ++clock);
      if (/^WITH changed AS \(UPDATE "device"/.test(sql)) {
        const rows = JSON.parse((args[1] as string[])[0]) as { $id: number }[];
        writes.push({ begun: begunAt.get(this)!, ids: rows.map((row) => row.$id) });
      }
      return query.apply(this, args);
    });
    const { id } = await runSweep(piped);
    expect(await sweepRow(piped, id)).toEqual(await sweepRow(reference, referenceSweep.id));
    expect(await written(piped)).toEqual(await written(reference));
    // Every batch read ahead (all but the first, or nearly) had its rows built before its transaction began.
    const readAhead = writes.filter(({ begun }) => !readInTransaction.has(begun));
    expect(readAhead.length).toBeGreaterThan(3);
    const builtInTransaction = readAhead.flatMap(({ begun, ids }) =>
      ids.filter((device) => builtAt.get(device)! > begun),
    );
    expect(builtInTransaction).toEqual([]);
  },
);

describe('two batches written at once (PostgreSQL; SQLite writes one at a time)', () => {
  /** Per transaction (its query runner): whether it has written devices, and their ids. */
  function traceTransactions(world: World) {
    const runnerType = Object.getPrototypeOf(world.database.dataSource.createQueryRunner()) as {
      query: (...args: unknown[]) => Promise<unknown>;
    };
    const query = runnerType.query;
    const writing = new Map<unknown, number[]>();
    const trace = { overlapping: 0, committed: [] as number[][], rolledBack: [] as number[][] };
    jest.spyOn(runnerType, 'query').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const sql = typeof args[0] === 'string' ? args[0] : '';
      if (/^WITH changed AS \(UPDATE "device"/.test(sql)) {
        const rows = JSON.parse((args[1] as string[])[0]) as { $id: number }[];
        // A batch's first write while another batch has written and not yet ended.
        if (!writing.has(this) && writing.size > 0) trace.overlapping += 1;
        writing.set(this, [...(writing.get(this) ?? []), ...rows.map((row) => row.$id)]);
      }
      const ends = /^COMMIT/.test(sql) ? trace.committed : /^ROLLBACK/.test(sql) ? trace.rolledBack : null;
      const result = await query.apply(this, args);
      if (ends && writing.has(this)) {
        ends.push(writing.get(this)!);
        writing.delete(this);
      }
      return result;
    });
    return trace;
  }

  async function sweepChanges(world: World) {
    const manager = world.database.dataSource.manager;
    const history = await manager.find(DeviceStatusChange, { where: { cause: StatusChangeCause.SWEEP } });
    const locked = await manager.countBy(Device, { lockCause: LockCause.SWEEP });
    return { history: history.length, devices: new Set(history.map((row) => row.deviceId)).size, locked };
  }

  postgresOnly(
    'writes the next batch while the one before it is written, and commits them in cursor order',
    async () => {
      const piped = await world();
      opened.push(piped);
      piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: true };
      const trace = traceTransactions(piped);
      const { id } = await runSweep(piped);
      jest.restoreAllMocks();
      expect(trace.overlapping).toBeGreaterThan(0);
      expect(trace.rolledBack).toEqual([]);
      // Committed in the order of the cursor: each batch's devices after the one committed before it.
      const firsts = trace.committed.map((ids) => Math.min(...ids));
      expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
      expect(await sweepRow(piped, id)).toEqual(await sweepRow(reference, referenceSweep.id));
      expect(await written(piped)).toEqual(await written(reference));
    },
  );

  postgresOnly(
    'rolls back the batch written beside one that fails, and resumes from the cursor with the same result',
    async () => {
      const piped = await world();
      opened.push(piped);
      piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: true };
      const trace = traceTransactions(piped);
      const applyChanges = sweepService.applyChanges;
      let calls = 0;
      let fourthWritten!: () => void;
      const fourth = new Promise<boolean>((resolve) => (fourthWritten = () => resolve(true)));
      let besideIt = false;
      jest.spyOn(sweepService, 'applyChanges').mockImplementation(async (...args) => {
        const call = ++calls;
        const applied = await applyChanges(...args);
        if (call === 4) fourthWritten();
        if (call === 3) {
          // The third batch fails only once the fourth has written its devices (if it ever does beside it).
          besideIt = await Promise.race([fourth, new Promise<boolean>((resolve) => setTimeout(resolve, 3_000, false))]);
          throw new Error('connection lost');
        }
        return applied;
      });
      const { id } = await runSweep(piped);
      jest.restoreAllMocks();
      expect(besideIt).toBe(true);
      // Both rolled back: the third's devices and the fourth's, written beside it.
      expect(trace.rolledBack.length).toBeGreaterThanOrEqual(2);
      expect(await sweepRow(piped, id)).toEqual(await sweepRow(reference, referenceSweep.id));
      expect(await written(piped)).toEqual(await written(reference));
      const changes = await sweepChanges(piped);
      expect(changes.history).toBe(changes.devices);
    },
  );

  for (const control of ['pause', 'cancel'] as const) {
    it(`${control}s mid-way: the batches written and not committed roll back, the committed ones count once`, async () => {
      const piped = await world();
      opened.push(piped);
      piped.database.settings.sweeps = { batchSize: 7, leaseMs: 30_000, batchPauseMs: 0, readAhead: true };
      const { dataSource } = piped.database;
      const applyChanges = sweepService.applyChanges;
      let calls = 0;
      let controlled: Promise<unknown> | undefined;
      jest.spyOn(sweepService, 'applyChanges').mockImplementation(async (...args) => {
        // Counted as they begin, in cursor order (two written at once may end in either order).
        const call = ++calls;
        const applied = await applyChanges(...args);
        if (call === 3) {
          const [{ id: rowId }]: { id: number }[] = await dataSource.query('SELECT "id" FROM "sweep"');
          controlled = piped.client.data(
            `mutation ($id: ID!) { ${control}Sweep(input: { id: $id }) { sweep { status } userErrors { message } } }`,
            { id: encodeGlobalId('Sweep', rowId) },
          );
          // On PostgreSQL the third batch waits (a while at most) for the sweep to change under it;
          // on SQLite (one connection, this transaction on it) the change comes after its commit.
          for (let waited = 0; usingPostgres && waited < 2_000; waited += 20) {
            const [{ status }]: { status: string }[] = await dataSource.query('SELECT "status" FROM "sweep"');
            if (status !== 'RUNNING') break;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
        return applied;
      });
      const started = await piped.client.data(START);
      const id = started.startSweep.sweep.id;
      await piped.database.services.sweeps.idle();
      await controlled;
      jest.restoreAllMocks();
      const stopped = await sweepRow(piped, id);
      const expected = await sweepRow(reference, referenceSweep.id);
      expect(stopped.status).toBe(control === 'pause' ? 'PAUSED' : 'CANCELLED');
      expect(stopped.processed).toBeLessThan(expected.processed);
      // What was committed is counted once, and nothing of what was rolled back is left.
      const changes = await sweepChanges(piped);
      expect(changes).toEqual({ history: stopped.changed, devices: stopped.changed, locked: stopped.changed });
      // On PostgreSQL the third batch (and any written beside it) was written, then rolled back.
      if (usingPostgres) expect(stopped.processed).toBeLessThanOrEqual(14);
      if (control === 'cancel') return;
      const resumed = await piped.client.data(
        `mutation ($id: ID!) { resumeSweep(input: { id: $id }) { sweep { status } userErrors { message } } }`,
        { id },
      );
      expect(resumed.resumeSweep.userErrors).toEqual([]);
      await piped.database.services.sweeps.idle();
      expect(await sweepRow(piped, id)).toEqual(expected);
      expect(await written(piped)).toEqual(await written(reference));
    });
  }
});

describe('the progress total', () => {
  it('is counted when few devices are in the status a sweep changes, estimated from a sample beyond', async () => {
    const fresh = await world();
    opened.push(fresh);
    const { dataSource, services, statements } = fresh.database;
    const rules = await services.evaluator.current();
    const scope = await sweepScope(dataSource.manager, rules, POLICY, SweepAction.LOCK_ACTIVE_DEVICES);
    const exact = await countCandidates(dataSource.manager, scope);
    expect(exact).toBeGreaterThan(100);
    expect(await estimateCandidates(dataSource.manager, scope)).toBe(exact);
    const sample = { exactUpTo: 0, strata: 5, perStratum: 20 };
    const { result: estimate, statements: read } = await statements.measure(() =>
      estimateCandidates(dataSource.manager, scope, sample),
    );
    // A hundred candidates read at five places: within a tenth of the count.
    expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(exact / 10);
    // The devices in the status, the id range, then two statements a place: not one per candidate.
    expect(read).toHaveLength(2 + 2 * sample.strata);

    // A sweep started with an estimate reports it, and its exact count once it completes.
    const defaults = { ...TOTAL_ESTIMATE };
    Object.assign(TOTAL_ESTIMATE, sample);
    let started: { id: string; startTotal: number };
    try {
      fresh.database.settings.sweeps = { batchSize: 50, leaseMs: 30_000, batchPauseMs: 0 };
      started = await runSweep(fresh);
    } finally {
      Object.assign(TOTAL_ESTIMATE, defaults);
    }
    expect(started.startTotal).toBe(estimate);
    expect(await sweepRow(fresh, started.id)).toMatchObject({ status: 'COMPLETED', total: exact, processed: exact });
  });

  it('counts an UNLOCK sweep exactly: its candidates are the devices locked by the policy', async () => {
    const { dataSource, services } = reference.database;
    const rules = await services.evaluator.current();
    const scope = await sweepScope(dataSource.manager, rules, POLICY, SweepAction.UNLOCK_RELEASED_DEVICES);
    expect(await estimateCandidates(dataSource.manager, scope, { exactUpTo: 0, strata: 2, perStratum: 1 })).toBe(
      await countCandidates(dataSource.manager, scope),
    );
  });
});

describe('the candidate probe', () => {
  it("reads each device's own attempts even when the policy covers one region, not the region's attempts per device", async () => {
    const { dataSource, services } = reference.database;
    const rules = await services.evaluator.current();
    const markets = await sweepScope(dataSource.manager, rules, POLICY, SweepAction.LOCK_ACTIVE_DEVICES);
    // The region with the most accepted attempts, alone (a country without subdivisions is covered so).
    const [busiest]: { regionId: number | string }[] = await dataSource.query(
      `SELECT "resolvedRegionId" AS "regionId" FROM "activation_attempt" WHERE "resolvedRegionId" IN (${markets.coveredRegionIds.join(', ')}) ` +
        `AND ("outcome" = 'ALLOW' OR NOT "enforced") GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1`,
    );
    const scope = { ...markets, coveredRegionIds: [Number(busiest.regionId)] };

    // The devices it names: ACTIVE, with an accepted attempt there (counted here the plain way).
    const [{ count }]: { count: number | string }[] = await dataSource.query(
      `SELECT COUNT(DISTINCT d."id") AS "count" FROM "device" d JOIN "activation_attempt" a ON a."deviceId" = d."id" ` +
        `WHERE d."status" = 'ACTIVE' AND a."resolvedRegionId" = ${scope.coveredRegionIds[0]} AND (a."outcome" = 'ALLOW' OR NOT a."enforced")`,
    );
    const statements: { sql: string; parameters: unknown[] }[] = [];
    const query = dataSource.manager.query.bind(dataSource.manager);
    jest.spyOn(dataSource.manager, 'query').mockImplementation(async (sql, parameters) => {
      statements.push({ sql, parameters: Array.isArray(parameters) ? parameters : [] });
      return query(sql, parameters);
    });
    expect(Number(count)).toBeGreaterThan(0);
    expect(await countCandidates(dataSource.manager, scope)).toBe(Number(count));
    await sweepService.nextCandidates(dataSource.manager, scope, 0, 50);
    jest.restoreAllMocks();

    // How each statement reads the attempts on SQLite, which plans without statistics: through the
    // (deviceId, occurredAt, id) index, never the region's (every attempt of the region read per
    // device). PostgreSQL weighs the two by its statistics (here the region's index is the cheap side).
    expect(statements.length).toBeGreaterThanOrEqual(2);
    if (usingPostgres) return;
    for (const { sql, parameters } of statements) {
      const plan: { detail: string }[] = await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, parameters);
      const indexes = plan.flatMap((row) =>
        [...row.detail.matchAll(/^SEARCH a USING (?:COVERING )?INDEX (\S+)/g)].map((match) => match[1]),
      );
      expect(indexes.length).toBeGreaterThan(0);
      for (const index of indexes) expect(index).toBe(DEVICE_ATTEMPTS_INDEX);
    }
  });
});
