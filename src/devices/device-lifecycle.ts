import { DataSource, EntityManager } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';
import { AuditEvent } from '../audit/audit-event.entity';
import { AuditCaller, AuditEventRow, auditEventRow } from '../audit/audit.service';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { encodeGlobalId } from '../common/global-id';
import { RequestScope } from '../common/request-scope';
import { LiveEvent, announceLive } from '../db/live-events';
import { openBulkConnection, sqliteDatabaseOf } from '../db/pool';
import { EntityStatements, SQLITE_MAX_PARAMETERS, Statement, statementShapes } from '../db/prepared';
import { inTransaction, onSqliteConnection } from '../db/transactions';
import { PartnerEvent, PartnerEventType } from '../webhooks/partner-event.entity';
import { DeviceEvent, partnerEventRow } from '../webhooks/partner-events';
import { Device, DeviceStatus, LockCause } from './device.entity';
import { DeviceStatusChange, DeviceStatusChangeRow, StatusChangeCause } from './device-status-change.entity';

/*
 * The one owner of a device's status. Every transition — a decision's lock or review hold, a
 * person's review resolution or unlock, a sweep's lock or unlock, the demo generator's history —
 * is worked out here and written here: the device row, its status-history row, the partner's
 * outbox event and the audit event, together in the caller's transaction. Nothing else writes a
 * device's status (test/device-lifecycle.test.ts reads the sources to keep it so).
 *
 *   NEW ──decision ALLOW──▶ ACTIVE ◀──unlock (person, sweep)── LOCKED
 *    │                        ▲                                   ▲
 *    └─decision REVIEW─▶ UNDER_REVIEW ──review ALLOW──┘           │
 *          any status but LOCKED ──decision LOCK, review LOCK, sweep LOCK──┘
 */

/** The audit trail's names for status changes: `<entity>.<verb>`, as every other action in it. */
export const DeviceAction = {
  LOCK: 'device.lock',
  UNLOCK: 'device.unlock',
  ACTIVATE: 'device.activate',
  HOLD: 'device.hold',
} as const;

/**
 * Names the trail used before the lifecycle had one owner, and their names now. Migration
 * 1765610000000 renamed every stored row; the audit filter still reads a former name a client
 * sends as today's name (AuditEventFilter.actions says so), so such a client is not silently
 * answered an empty trail.
 */
export const FORMER_DEVICE_ACTIONS: ReadonlyMap<string, string> = new Map([
  ['device.locked', DeviceAction.LOCK],
  ['device.active', DeviceAction.ACTIVATE],
  ['device.under_review', DeviceAction.HOLD],
]);

/** The audit action of a change from one status to another. */
export function actionOf(from: DeviceStatus, to: DeviceStatus): string {
  if (to === DeviceStatus.LOCKED) return DeviceAction.LOCK;
  if (to === DeviceStatus.UNDER_REVIEW) return DeviceAction.HOLD;
  return from === DeviceStatus.LOCKED ? DeviceAction.UNLOCK : DeviceAction.ACTIVATE;
}

/**
 * How a device's lockReason starts when no decision locked it: a person resolving a review, or a
 * sweep (`SWEEP:<sweep id>,POLICY:<policy key>,…`). Decisions write their reason codes.
 */
export const LOCK_REASON_PREFIX = { review: 'REVIEW_RESOLVED', sweep: 'SWEEP:' } as const;

/** The device as a transition needs it. */
export interface DeviceBefore {
  id: number;
  partnerId: number;
  imei: string;
  status: DeviceStatus;
  activatedAt: Date | null;
  lockedAt?: Date | null;
  lockReason?: string | null;
  lockedByAttemptId?: number | null;
  lockedByAttemptOccurredAt?: Date | null;
  lockCause?: LockCause | null;
  lockPolicyVersionId?: number | null;
  lockRegionId?: number | null;
}

/** A status change asked for, with what caused it. */
export interface StatusTransition {
  to: DeviceStatus;
  cause: StatusChangeCause;
  /** Why, in words or reason codes: the history's reason and the partner event's. */
  reason: string;
  /** The instant of the change: the lock's lockedAt; now when left out. */
  at?: Date;
  /** The attempt that is the evidence (the locking decision, the reviewed attempt, the sweep's evidence). */
  attemptId?: number | null;
  /** That attempt's occurredAt (its partition key): readers of the history and the lock find it in one month. */
  attemptOccurredAt?: Date | null;
  sweepId?: number | null;
  /** For a lock: the policy version that caused it (the device's lockPolicyVersionId). */
  policyVersionId?: number | null;
  /** For a lock: the resolved region of the evidence attempt (the device's lockRegionId). */
  regionId?: number | null;
  /** For a lock: what the device's lockReason says (the reason when left out). */
  lockReason?: string;
  /** What the partner's event gives as the reason, when not the reason itself (a reviewer's note stays internal). */
  partnerReason?: string;
  /** For a first activation: when the device was activated (the attempt's occurredAt). */
  activatedAt?: Date | null;
}

/** The lock columns of a device that is not locked. */
const NOT_LOCKED = {
  lockedAt: null,
  lockReason: null,
  lockedByAttemptId: null,
  lockedByAttemptOccurredAt: null,
  lockCause: null,
  lockPolicyVersionId: null,
  lockRegionId: null,
} as const;

/** What a lock is recorded as caused by: a person's unlock never locks. */
function lockCauseOf(cause: StatusChangeCause): LockCause {
  switch (cause) {
    case StatusChangeCause.DECISION:
      return LockCause.DECISION;
    case StatusChangeCause.REVIEW:
      return LockCause.REVIEW;
    case StatusChangeCause.SWEEP:
      return LockCause.SWEEP;
    default:
      throw new Error(`a ${cause} does not lock a device`);
  }
}

/** The device columns a transition writes. */
export function deviceColumns(device: DeviceBefore, transition: StatusTransition): Partial<Device> {
  const at = transition.at ?? new Date();
  switch (transition.to) {
    case DeviceStatus.LOCKED:
      return {
        status: DeviceStatus.LOCKED,
        lockedAt: at,
        lockReason: (transition.lockReason ?? transition.reason).slice(0, 500),
        lockedByAttemptId: transition.attemptId ?? null,
        lockedByAttemptOccurredAt: transition.attemptId == null ? null : (transition.attemptOccurredAt ?? null),
        lockCause: lockCauseOf(transition.cause),
        lockPolicyVersionId: transition.policyVersionId ?? null,
        lockRegionId: transition.regionId ?? null,
      };
    case DeviceStatus.ACTIVE:
      if (device.status === DeviceStatus.LOCKED) return { status: DeviceStatus.ACTIVE, ...NOT_LOCKED };
      return {
        status: DeviceStatus.ACTIVE,
        ...(device.activatedAt === null ? { activatedAt: transition.activatedAt ?? at } : {}),
      };
    default:
      return { status: transition.to };
  }
}

/** The partner event a transition sends, if any: partners hear of locks and unlocks. */
function eventTypeOf(from: DeviceStatus, to: DeviceStatus): PartnerEventType | null {
  if (to === DeviceStatus.LOCKED) return PartnerEventType.DEVICE_LOCKED;
  if (from === DeviceStatus.LOCKED) return PartnerEventType.DEVICE_UNLOCKED;
  return null;
}

/** The history row of a transition. */
export function historyRow(
  actor: string,
  device: Pick<DeviceBefore, 'id' | 'status'>,
  transition: StatusTransition,
  occurredAt = new Date(),
): DeviceStatusChangeRow {
  return {
    deviceId: device.id,
    occurredAt,
    fromStatus: device.status,
    toStatus: transition.to,
    cause: transition.cause,
    attemptId: transition.attemptId ?? null,
    attemptOccurredAt: transition.attemptId == null ? null : (transition.attemptOccurredAt ?? null),
    sweepId: transition.sweepId ?? null,
    actor,
    reason: transition.reason.slice(0, 1000),
  };
}

/** What the lock columns were, for the audit's `before` of an unlock. */
function lockColumnsOf(device: DeviceBefore) {
  return {
    lockedAt: device.lockedAt ?? null,
    lockReason: device.lockReason ?? null,
    lockedByAttemptId: device.lockedByAttemptId ?? null,
    lockCause: device.lockCause ?? null,
    lockPolicyVersionId: device.lockPolicyVersionId ?? null,
    lockRegionId: device.lockRegionId ?? null,
  };
}

/** Everything a transition writes besides the device row, as rows. */
export interface TransitionRows {
  columns: Partial<Device>;
  history: DeviceStatusChangeRow;
  event: DeviceEvent | null;
  audit: AuditEventRow;
}

/** The rows of a transition by the scope's caller (its actor, key and request). */
export function transitionRows(
  context: AuditCaller,
  device: DeviceBefore,
  transition: StatusTransition,
): TransitionRows {
  const columns = deviceColumns(device, transition);
  const eventType = eventTypeOf(device.status, transition.to);
  return {
    columns,
    history: historyRow(context.actor, device, transition),
    event: eventType
      ? {
          type: eventType,
          device,
          status: transition.to,
          attemptId: transition.attemptId,
          attemptOccurredAt: transition.attemptOccurredAt,
          sweepId: transition.sweepId,
          reason: transition.partnerReason ?? transition.reason,
        }
      : null,
    // Built here for this row alone: no copy needed.
    audit: auditEventRow(
      context,
      {
        action: actionOf(device.status, transition.to),
        targetType: 'Device',
        targetRowId: device.id,
        before: { status: device.status, ...(device.status === DeviceStatus.LOCKED ? lockColumnsOf(device) : {}) },
        after: {
          ...columns,
          cause: transition.cause,
          reason: transition.reason,
          attemptId:
            transition.attemptId == null
              ? null
              : encodeGlobalId('ActivationAttempt', transition.attemptId, transition.attemptOccurredAt ?? undefined),
          sweepId: transition.sweepId == null ? null : encodeGlobalId('Sweep', transition.sweepId),
        },
      },
      true,
    ),
  };
}

/**
 * Changes a device's status inside the caller's transaction, only if it is still in the status it
 * was read in (a decision may have changed it meanwhile): the device row, its history, the
 * partner's event and the audit event, and the live announcement after the commit. Returns false,
 * writing nothing, when the device had moved on. A change to the status it has is no change.
 */
export async function changeDeviceStatus(
  manager: EntityManager,
  context: RequestScope,
  device: DeviceBefore,
  transition: StatusTransition,
): Promise<boolean> {
  const [changed] = await changeDeviceStatuses(manager, context, [{ device, transition }]);
  return changed;
}

/**
 * Devices per guarded UPDATE of a batch on SQLite: as many as its parameters allow. (PostgreSQL
 * writes a batch in statements of `POSTGRES_BATCH_WRITE.devicesPerStatement`.)
 */
function devicesPerUpdate(columns: number): number {
  return Math.floor(SQLITE_MAX_PARAMETERS / columns);
}

/**
 * Devices per statement of a batch on PostgreSQL: a sweep's batch of 1,000 in one statement. Its
 * rows are built before its transaction (the read-ahead), so statements of 250 no longer let the
 * service build while the server writes; with two batches written at once they left each writing
 * backend waiting, between its statements, for the service's thread busy building the batch after
 * (seen as `ClientRead`). A sweep of 1,626,195 devices took 189.3, 218.1 and 193.6 s in 1,000 a
 * statement against 250.2, 289.4 and 224.4 s in 250, alternated on a loaded machine (README,
 * scale). (An object, as TOTAL_ESTIMATE: tests write batches in more statements than their few
 * devices would take.)
 */
export const POSTGRES_BATCH_WRITE = { devicesPerStatement: 1_000 };

/** A change waiting to be written, with its place in the caller's list. */
interface PendingChange {
  index: number;
  device: DeviceBefore;
  transition: StatusTransition;
}

/** A pending change with its rows, built. */
interface BuiltChange extends PendingChange {
  rows: TransitionRows;
}

/** A pending change with the rows its transition writes, by the scope's caller. */
function buildChange(context: AuditCaller, change: PendingChange): BuiltChange {
  return { ...change, rows: transitionRows(context, change.device, change.transition) };
}

/**
 * The changes of a round, in order, split so that no device is named twice in one: a device named
 * again waits for the next round (its second change then finds the status the first one wrote).
 */
function rounds<T extends { device: DeviceBefore }>(changes: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let round: readonly T[] = changes; round.length;) {
    const seen = new Set<number>();
    const now: T[] = [];
    const later: T[] = [];
    for (const change of round) {
      if (seen.has(change.device.id)) later.push(change);
      else {
        seen.add(change.device.id);
        now.push(change);
      }
    }
    result.push(now);
    round = later;
  }
  return result;
}

/** Items grouped by a key, in their order within each group. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** The device properties a change writes, sorted: changes writing the same share one guarded UPDATE. */
function propertiesOf(columns: Partial<Device>): (keyof Device & string)[] {
  return (Object.keys(columns) as (keyof Device & string)[]).sort();
}

/** Changes grouped by the device columns they write (one guarded UPDATE per set of columns). */
function byColumns(changes: readonly BuiltChange[]): Map<string, BuiltChange[]> {
  return groupBy(changes, (change) => propertiesOf(change.rows.columns).join(','));
}

/**
 * SQLite: a pending change's rows as the driver binds them — built on the writing thread, or on a
 * sweep's reader thread ahead of its batch (`sqliteStatusChangeValues`), so that the writing
 * thread only binds and runs them. Plain arrays: they cross threads as they are.
 */
export interface SqliteChangeValues {
  /** The device properties it writes, sorted and comma-joined (the guarded UPDATE it is written by). */
  properties: string;
  /** `[id, the status it was read in (the guard), …those properties' values]`. */
  update: unknown[];
  history: unknown[];
  /** The partner's event, when the change sends one. */
  event: unknown[] | null;
  audit: unknown[];
}

/** The values of a built change, converted by the lifecycle's statements. */
function sqliteChangeValues(statements: LifecycleStatements, { device, rows }: BuiltChange): SqliteChangeValues {
  const { tables } = statements;
  const properties = propertiesOf(rows.columns);
  return {
    properties: properties.join(','),
    update: [
      device.id,
      tables.devices.persisted('status', device.status),
      ...properties.map((property) => tables.devices.persisted(property, rows.columns[property])),
    ],
    history: tables.history.persistedRow(STATUS_CHANGE_PROPERTIES, rows.history),
    event: rows.event ? tables.events.persistedRow(EVENT_PROPERTIES, partnerEventRow(rows.event)) : null,
    audit: tables.audit.persistedRow(AUDIT_PROPERTIES, rows.audit),
  };
}

/** A pending change's values built before; a change the builder found no change is not pending here. */
function sqliteValuesOf(values: SqliteChangeValues | null | undefined, index: number): SqliteChangeValues {
  if (!values) throw new Error(`status change ${index} was built as no change but is pending`);
  return values;
}

/**
 * SQLite: the values of these changes (null for one that is no change), built where the rows are
 * read — a sweep's reader thread, on a read-only connection to the file — by the caller named, as
 * `changeDeviceStatuses` would build them. `preparedSqliteStatusChanges` writes them.
 */
export function sqliteStatusChangeValues(
  dataSource: DataSource,
  caller: AuditCaller,
  changes: readonly { device: DeviceBefore; transition: StatusTransition }[],
): (SqliteChangeValues | null)[] {
  const statements = lifecycleStatements(dataSource);
  const values: (SqliteChangeValues | null)[] = changes.map(() => null);
  for (const change of pendingChanges(changes).pending)
    values[change.index] = sqliteChangeValues(statements, buildChange(caller, change));
  return values;
}

/** Changes whose values were built before (`sqliteStatusChangeValues`), to be written in the caller's transaction. */
export function preparedSqliteStatusChanges(
  context: RequestScope,
  changes: readonly { device: DeviceBefore; transition: StatusTransition }[],
  values: readonly (SqliteChangeValues | null)[],
): PreparedStatusChanges {
  return writtenOnce((manager) => changeDeviceStatuses(manager, context, changes, { sqlite: values }));
}

/** Statements or values built before the transaction that writes them (see `prepareDeviceStatusChanges`). */
export type BuiltStatusChanges =
  { postgres: readonly PostgresStatement[][] } | { sqlite: readonly (SqliteChangeValues | null)[] };

/**
 * `changeDeviceStatus` for several devices in the caller's transaction (a sweep's batch), through
 * the lifecycle owner as one device alone. Answers, per change, whether it was made (or was no
 * change). Statement by statement per device, a sweep of 2,000,000 devices was eight million round
 * trips through the ORM; now:
 * - PostgreSQL: one statement per `POSTGRES_BATCH_WRITE.devicesPerStatement` devices writing the same
 *   columns — the guarded `UPDATE … FROM json_to_recordset(…) RETURNING` and, in the same
 *   statement (data-modifying `WITH`), the history, partner events and audit events of the devices
 *   that UPDATE changed, each an `INSERT … SELECT … FROM json_populate_recordset(…)` of one JSON
 *   document. The next statement's rows are built while the server runs this one.
 * - SQLite: guarded UPDATEs per set of columns written (VALUES lists), then multi-row INSERTs for
 *   history, events and audit — each in a few statements whose row counts are powers of two
 *   (`statementShapes`), so that the driver prepares each shape once.
 * Then one live announcement for all of them (on PostgreSQL, NOTIFY in one statement).
 */
export async function changeDeviceStatuses(
  manager: EntityManager,
  context: RequestScope,
  changes: readonly { device: DeviceBefore; transition: StatusTransition }[],
  /** These changes' statements or values built before (`prepareDeviceStatusChanges`, a sweep's reader thread). */
  built?: BuiltStatusChanges,
): Promise<boolean[]> {
  const statements = lifecycleStatements(manager.connection);
  const { made, pending } = pendingChanges(changes);
  const written: PendingChange[] = [];
  // The changes whose guarded UPDATE answered their device's id were made (the others found another status).
  const recordChanged = (group: readonly PendingChange[], changedIds: number[]) => {
    const changed = new Set(changedIds);
    for (const change of group) {
      if (!changed.has(change.device.id)) continue;
      made[change.index] = true;
      written.push(change);
    }
  };
  if (statements.postgres) {
    // The statement the server runs while the next one's rows are built (when not built before).
    let running: Promise<void> | null = null;
    for (const next of (built && 'postgres' in built ? built.postgres : null) ??
      postgresStatements(statements, context, pending)) {
      if (running) await running;
      running = (async () => {
        for (const { group, statement } of next) {
          recordChanged(group, await returnedIds(manager, statement.sql, statement.parameters));
        }
      })();
      // Awaited before the next statement is sent or the batch returns; a failure then rolls it back.
      running.catch(() => undefined);
    }
    await running;
  } else {
    const values =
      built && 'sqlite' in built
        ? pending.map(({ index }) => sqliteValuesOf(built.sqlite[index], index))
        : pending.map((change) => sqliteChangeValues(statements, buildChange(context, change)));
    const valued = pending.map((change, at) => ({ ...change, values: values[at] }));
    for (const round of rounds(valued)) {
      for (const [key, group] of groupBy(round, ({ values }) => values.properties)) {
        const properties = key.split(',') as (keyof Device & string)[];
        let start = 0;
        for (const shape of statementShapes(group.length, devicesPerUpdate(properties.length + 2))) {
          const chunk = group.slice(start, (start += shape));
          const update = statements.devices.updateManyValues(
            'status',
            properties,
            chunk.map(({ values }) => values.update),
          );
          recordChanged(chunk, await returnedIds(manager, update.sql, update.parameters));
        }
      }
    }
    written.sort((a, b) => a.index - b.index);
    const valuesByIndex = new Map(valued.map(({ index, values }) => [index, values]));
    const writtenValues = written.map(({ index }) => valuesByIndex.get(index)!);
    await run(manager, statements.historyValues(writtenValues.map(({ history }) => history)));
    await run(manager, statements.eventValues(writtenValues.flatMap(({ event }) => (event ? [event] : []))));
    await run(manager, statements.auditValues(writtenValues.map(({ audit }) => audit)));
  }
  if (written.length)
    await announceLive(manager, ...written.map(({ device }): LiveEvent => ({ kind: 'device', deviceId: device.id })));
  return made;
}

/** Which changes are no change (made already: the device has the status), and the others, pending. */
function pendingChanges(changes: readonly { device: DeviceBefore; transition: StatusTransition }[]): {
  made: boolean[];
  pending: PendingChange[];
} {
  const made = changes.map(({ device, transition }) => device.status === transition.to);
  const pending: PendingChange[] = changes.flatMap(({ device, transition }, index) =>
    made[index] ? [] : [{ index, device, transition }],
  );
  return { made, pending };
}

/** One statement of a batch on PostgreSQL, with the changes it writes (`postgresChange`). */
interface PostgresStatement {
  group: readonly BuiltChange[];
  statement: Statement;
}

/**
 * PostgreSQL: the statements of pending changes, round by round, `POSTGRES_BATCH_WRITE.devicesPerStatement`
 * devices at a time (one statement per set of device columns among them), each one's rows built
 * when it is asked for.
 */
function* postgresStatements(
  statements: LifecycleStatements,
  context: RequestScope,
  pending: readonly PendingChange[],
): Generator<PostgresStatement[]> {
  const perStatement = POSTGRES_BATCH_WRITE.devicesPerStatement;
  for (const round of rounds(pending)) {
    for (let start = 0; start < round.length; start += perStatement) {
      const built = round.slice(start, start + perStatement).map((change) => buildChange(context, change));
      yield [...byColumns(built).values()].map((group) => ({ group, statement: statements.postgresChange(group) }));
    }
  }
}

/** Status changes built before their transaction, to be written in it (`prepareDeviceStatusChanges`). */
export interface PreparedStatusChanges {
  /** Writes them in the caller's transaction, as `changeDeviceStatuses` would; answers which were made. */
  write(manager: EntityManager): Promise<boolean[]>;
}

/**
 * `changeDeviceStatuses` in two halves, for a sweep reading ahead: the rows and statements of these
 * changes built now, outside any transaction — on PostgreSQL the service's whole share of a batch's
 * write (every row, every JSON document) — and written later by `write` in the caller's
 * transaction, each device still only if it is in the status it was read in (the guarded UPDATE is
 * unchanged). So a sweep builds its next batch while the server writes this one, and a batch's
 * transaction holds its devices' rows only while the server works on them. Between statements the
 * build yields to the event loop, so that what else it serves (the batch being written, decisions)
 * waits for at most one statement's rows. Instants (lockedAt, the history's and audit's occurredAt)
 * are the build's, earlier than the commit by about a batch's time. On SQLite (one connection:
 * nothing of the server runs beside the service's thread) the rows are built when written; a
 * sweep of a SQLite file builds them on its reader thread instead (`sqliteStatusChangeValues`).
 */
export async function prepareDeviceStatusChanges(
  dataSource: DataSource,
  context: RequestScope,
  changes: readonly { device: DeviceBefore; transition: StatusTransition }[],
): Promise<PreparedStatusChanges> {
  const statements = lifecycleStatements(dataSource);
  if (!statements.postgres) return { write: (manager) => changeDeviceStatuses(manager, context, changes) };
  const built: PostgresStatement[][] = [];
  for (const next of postgresStatements(statements, context, pendingChanges(changes).pending)) {
    built.push(next);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return writtenOnce((manager) => changeDeviceStatuses(manager, context, changes, { postgres: built }));
}

/** Prepared changes that write their rows once: a second write would send the same history and audit rows again. */
function writtenOnce(write: (manager: EntityManager) => Promise<boolean[]>): PreparedStatusChanges {
  let written = false;
  return {
    write: async (manager) => {
      if (written) throw new Error('prepared status changes are written once');
      written = true;
      return write(manager);
    },
  };
}

type LifecycleStatements = ReturnType<typeof lifecycleStatements>;

/** The lifecycle's statements for a database (from the entity metadata: a few microseconds per batch). */
function lifecycleStatements(dataSource: DataSource) {
  const devices = new EntityStatements(dataSource, Device);
  const history = new EntityStatements(dataSource, DeviceStatusChange);
  const events = new EntityStatements(dataSource, PartnerEvent);
  const audit = new EntityStatements(dataSource, AuditEvent);
  return {
    postgres: devices.postgres,
    devices,
    tables: { devices, history, events, audit },
    // SQLite: multi-row INSERTs of values converted already (`SqliteChangeValues`).
    historyValues: history.insertManyValues(STATUS_CHANGE_PROPERTIES),
    eventValues: events.insertManyValues(EVENT_PROPERTIES),
    auditValues: audit.insertManyValues(AUDIT_PROPERTIES),
    /**
     * PostgreSQL: one statement for changes writing the same device columns (distinct devices):
     * the guarded UPDATE, and the history, partner events and audit events of the devices it
     * changed — history and audit rows by their place beside their device's, events by device —
     * answering the ids changed. All four see the one snapshot; the inserts' foreign-key checks
     * run after the UPDATE, on the rows it locked.
     */
    postgresChange(group: readonly BuiltChange[]): Statement {
      const properties = Object.keys(group[0].rows.columns) as (keyof Device & string)[];
      const update = devices.updateManyFromJson('status', properties, 1);
      const sql =
        `WITH changed AS (${update.sql} RETURNING "device"."id", v."$n"), ` +
        `history AS (${history.insertFromJson(STATUS_CHANGE_PROPERTIES, 2, 'r.ordinality IN (SELECT "$n" FROM changed)')}), ` +
        `events AS (${events.insertFromJson(EVENT_PROPERTIES, 3, 'r."deviceId" IN (SELECT "id" FROM changed)')}), ` +
        `audit AS (${audit.insertFromJson(AUDIT_PROPERTIES, 4, 'r.ordinality IN (SELECT "$n" FROM changed)')}) ` +
        `SELECT "id" FROM changed`;
      return {
        sql,
        parameters: [
          update.document(
            group.map(({ device, rows }) => ({ id: device.id, guard: device.status, changes: rows.columns })),
          ),
          history.jsonDocument(
            STATUS_CHANGE_PROPERTIES,
            group.map(({ rows }) => rows.history),
          ),
          events.jsonDocument(
            EVENT_PROPERTIES,
            group.flatMap(({ rows }) => (rows.event ? [partnerEventRow(rows.event)] : [])),
          ),
          audit.jsonDocument(
            AUDIT_PROPERTIES,
            group.map(({ rows }) => rows.audit),
          ),
        ],
      };
    },
  };
}

/**
 * The ids an `UPDATE … RETURNING "id"` names. Through the structured result: a plain query answers
 * `[rows, count]` for an UPDATE on PostgreSQL and the rows on SQLite.
 */
async function returnedIds(manager: EntityManager, sql: string, parameters: unknown[]): Promise<number[]> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result = await runner.query(sql, parameters, true);
    return (result.records as { id: number | string }[]).map((row) => Number(row.id));
  } finally {
    if (!manager.queryRunner) await runner.release();
  }
}

async function run(manager: EntityManager, statements: readonly Statement[]): Promise<void> {
  for (const { sql, parameters } of statements) await manager.query(sql, parameters);
}

/**
 * `changeDeviceStatus` for a person's request (a review resolved, an unlock): a device that moved
 * on since it was read refuses the request with a user error naming `field`, and the caller's
 * transaction rolls back, instead of its other writes telling of a change that was not made.
 */
export async function changeDeviceStatusOrAbort(
  manager: EntityManager,
  context: RequestScope,
  device: DeviceBefore,
  transition: StatusTransition,
  field: string,
): Promise<void> {
  if (await changeDeviceStatus(manager, context, device, transition)) return;
  throw new UserErrorsAbort([
    userError(
      [field],
      UserErrorCode.INVALID_STATE,
      `the device changed from ${device.status} while this request was handled; read it again`,
    ),
  ]);
}

/** What a decision found, as the lifecycle reads it. */
export interface DecidedAttempt {
  outcome: 'ALLOW' | 'LOCK' | 'REVIEW';
  enforced: boolean;
  reasonCodes: readonly string[];
  /** The policy version that decided (a lock's lockPolicyVersionId). */
  policyVersionId: number | null;
  /** Where the attempt was resolved to (a lock's lockRegionId). */
  resolvedRegionId: number | null;
  /** When the activation happened (a first activation's activatedAt). */
  occurredAt: Date;
  /** When it was decided (a lock's lockedAt). */
  receivedAt: Date;
}

/**
 * What recording a decision does to the device, or null when nothing (the common case: an active
 * device allowed again). Only an enforced outcome changes the status — LOCK locks it, REVIEW holds
 * it for review — and an activation that is allowed (or only monitored) makes a NEW device ACTIVE.
 * A pure function: the decision path, and the demo generator on its worker threads.
 */
export function decisionTransition(
  device: Pick<DeviceBefore, 'status' | 'activatedAt'>,
  decided: DecidedAttempt,
): { transition: StatusTransition | null; activatedAt: Date | null } | null {
  const reason = decided.reasonCodes.join(',');
  const transitionTo = (to: DeviceStatus): StatusTransition => ({
    to,
    cause: StatusChangeCause.DECISION,
    reason,
    at: decided.receivedAt,
    activatedAt: decided.occurredAt,
    // The decided attempt's instant: with its id (given once inserted) it finds the attempt in one month.
    attemptOccurredAt: decided.occurredAt,
    policyVersionId: decided.policyVersionId,
    regionId: decided.resolvedRegionId,
  });
  if (device.status === DeviceStatus.LOCKED) return null;
  let transition: StatusTransition | null = null;
  if (decided.enforced && decided.outcome === 'LOCK') transition = transitionTo(DeviceStatus.LOCKED);
  else if (decided.enforced && decided.outcome === 'REVIEW') {
    if (device.status !== DeviceStatus.UNDER_REVIEW) transition = transitionTo(DeviceStatus.UNDER_REVIEW);
  } else if (device.status === DeviceStatus.NEW) transition = transitionTo(DeviceStatus.ACTIVE);
  // An ACTIVE device without an activation instant (unlocked before it ever activated) gets this one.
  const activatedAt = device.status === DeviceStatus.ACTIVE && device.activatedAt === null ? decided.occurredAt : null;
  return transition || activatedAt ? { transition, activatedAt } : null;
}

/**
 * One statement of a decision's device change. `guarded`: an update that applies only while the
 * device is still in the status the decision read; the writer must see it change exactly one row,
 * or throw `DeviceMovedOn` and roll the whole change back (attempt included).
 */
export interface DecisionStatement {
  sql: string;
  parameters: unknown[];
  guarded?: true;
}

/** The statements of a decision's device change, given the attempt's id once it is inserted. */
export interface DecisionDeviceChange {
  statements(attemptId: number): DecisionStatement[];
  /** Whether the status changes (the live feed's device announcement). */
  changesStatus: boolean;
}

/**
 * A decision's device change found the device no longer in the status the decision read (another
 * decision, a review, a sweep or an unlock committed first). Nothing of the decision is written;
 * the decide workflow decides again against the device as it now is.
 */
export class DeviceMovedOn extends Error {
  constructor(readonly deviceId: number) {
    super(`device ${deviceId} changed status while a decision about it was being recorded`);
  }
}

/** Throws `DeviceMovedOn` when a guarded statement did not change its one row. */
export function checkGuard(statement: DecisionStatement, deviceId: number, changedRows: number): void {
  if (statement.guarded && changedRows !== 1) throw new DeviceMovedOn(deviceId);
}

const STATUS_CHANGE_PROPERTIES = [
  'deviceId',
  'occurredAt',
  'fromStatus',
  'toStatus',
  'cause',
  'attemptId',
  'attemptOccurredAt',
  'sweepId',
  'actor',
  'reason',
] as const;
const EVENT_PROPERTIES = ['partnerId', 'deviceId', 'type', 'occurredAt', 'data', 'fannedOutAt'] as const;
/** Every column of an audit row but its id: the rows `auditEventRow` builds carry them all (`relatedTargetId` null). */
const AUDIT_PROPERTIES = [
  'occurredAt',
  'actor',
  'actorRole',
  'actorKeyId',
  'action',
  'targetType',
  'targetId',
  'relatedTargetId',
  'before',
  'after',
  'requestId',
] as const;

/**
 * The decision hot path's device writes as prepared statements, for the decision store to run in
 * its own short transaction (group-committed on SQLite, on one pooled connection on PostgreSQL):
 * the same rows `changeDeviceStatus` writes, without the ORM's cost per decision.
 */
export class DecisionLifecycle {
  private readonly devices: EntityStatements<Device>;
  private readonly insertStatusChange: ReturnType<EntityStatements<DeviceStatusChange>['insert']>;
  private readonly insertEvent: ReturnType<EntityStatements<PartnerEvent>['insert']>;
  private readonly insertAudit: ReturnType<EntityStatements<AuditEvent>['insert']>;

  constructor(dataSource: DataSource) {
    this.devices = new EntityStatements(dataSource, Device);
    this.insertStatusChange = new EntityStatements(dataSource, DeviceStatusChange).insert(STATUS_CHANGE_PROPERTIES);
    this.insertEvent = new EntityStatements(dataSource, PartnerEvent).insert(EVENT_PROPERTIES);
    this.insertAudit = new EntityStatements(dataSource, AuditEvent).insert(AUDIT_PROPERTIES);
  }

  /**
   * The device writes recording this decision brings, or null when none. Partners also hear of
   * every review opened (`reviewOpened`: one per attempt, even on a device already waiting).
   */
  change(
    context: RequestScope,
    device: DeviceBefore,
    decided: DecidedAttempt,
    reviewOpened: boolean,
  ): DecisionDeviceChange | null {
    const found = decisionTransition(device, decided);
    if (!found && !reviewOpened) return null;
    return {
      changesStatus: found?.transition != null,
      statements: (attemptId) => {
        const statements: DecisionStatement[] = [];
        const events: DeviceEvent[] = [];
        if (found?.transition) {
          const rows = transitionRows(context, device, { ...found.transition, attemptId });
          const columns = found.activatedAt ? { ...rows.columns, activatedAt: found.activatedAt } : rows.columns;
          statements.push(
            this.guardedUpdate(device, columns),
            { sql: this.insertStatusChange.sql, parameters: this.insertStatusChange.parameters(rows.history) },
            { sql: this.insertAudit.sql, parameters: this.insertAudit.parameters(rows.audit) },
          );
          if (rows.event) events.push(rows.event);
        } else if (found?.activatedAt) {
          statements.push(this.guardedUpdate(device, { activatedAt: found.activatedAt }));
        } else {
          // A review opened on a device already waiting: it must still be waiting (not locked since).
          statements.push(this.guardedUpdate(device, { status: device.status }));
        }
        if (reviewOpened) {
          events.push({
            type: PartnerEventType.REVIEW_OPENED,
            device,
            status: found?.transition?.to ?? device.status,
            attemptId,
            attemptOccurredAt: decided.occurredAt,
            reason: decided.reasonCodes.join(','),
          });
        }
        for (const event of events) {
          statements.push({
            sql: this.insertEvent.sql,
            parameters: this.insertEvent.parameters(partnerEventRow(event)),
          });
        }
        return statements;
      },
    };
  }

  /**
   * The device update of a decision, applied only while the device is in the status the decision
   * read: as `changeDeviceStatus` does for every other writer. Without it, two decisions about a
   * NEW device read at once — a LOCK and an ALLOW — ended ACTIVE with a history saying LOCKED.
   */
  private guardedUpdate(device: DeviceBefore, columns: Partial<Device>): DecisionStatement {
    const update = this.devices.update(device.id, columns);
    return {
      sql: `${update.sql} AND ${this.devices.column('status')} = ${this.devices.placeholder(update.parameters.length + 1)}`,
      parameters: [...update.parameters, this.devices.persisted('status', device.status)],
      guarded: true,
    };
  }
}

/** A device's state as generated history left it (the demo generator). */
export interface GeneratedDeviceState {
  id: number;
  status: DeviceStatus;
  activatedAt: Date | null;
  lockedAt: Date | null;
  lockReason: string | null;
  lockedByAttemptId: number | null;
  lockedByAttemptOccurredAt: Date | null;
  lockCause: LockCause | null;
  lockPolicyVersionId: number | null;
  lockRegionId: number | null;
}

/**
 * Writes the states generated history left devices in, in bulk: the demo generator's devices are
 * registered NEW before their attempts (the attempts' foreign key) and brought to their state after.
 */
export async function writeGeneratedStates(dataSource: DataSource, states: GeneratedDeviceState[]): Promise<void> {
  if (dataSource.options.type === 'postgres') {
    const client = await openBulkConnection(dataSource);
    try {
      for (let start = 0; start < states.length; start += 20_000) {
        const chunk = states.slice(start, start + 20_000);
        await client.query(
          `UPDATE "device" d SET "status" = v."status", "activatedAt" = v."activatedAt", "lockedAt" = v."lockedAt", ` +
            `"lockReason" = v."lockReason", "lockedByAttemptId" = v."lockedByAttemptId", "lockCause" = v."lockCause", ` +
            `"lockPolicyVersionId" = v."lockPolicyVersionId", "lockedByAttemptOccurredAt" = v."lockedByAttemptOccurredAt", ` +
            `"lockRegionId" = v."lockRegionId" ` +
            `FROM unnest($1::integer[], $2::varchar[], $3::timestamptz[], $4::timestamptz[], $5::varchar[], $6::integer[], ` +
            `$7::varchar[], $8::integer[], $9::timestamptz[], $10::integer[]) ` +
            `AS v("id", "status", "activatedAt", "lockedAt", "lockReason", "lockedByAttemptId", "lockCause", "lockPolicyVersionId", "lockedByAttemptOccurredAt", "lockRegionId") ` +
            `WHERE d."id" = v."id"`,
          [
            chunk.map((state) => state.id),
            chunk.map((state) => state.status),
            chunk.map((state) => state.activatedAt),
            chunk.map((state) => state.lockedAt),
            chunk.map((state) => state.lockReason),
            chunk.map((state) => state.lockedByAttemptId),
            chunk.map((state) => state.lockCause),
            chunk.map((state) => state.lockPolicyVersionId),
            chunk.map((state) => state.lockedByAttemptOccurredAt),
            chunk.map((state) => state.lockRegionId),
          ],
        );
      }
    } finally {
      await client.end();
    }
    return;
  }
  const sqlite = sqliteDatabaseOf(dataSource)!;
  const at = (instant: Date | null) => (instant ? DateUtils.mixedDateToUtcDatetimeString(instant) : null);
  await onSqliteConnection(dataSource, () => {
    const update = sqlite.prepare(
      'UPDATE "device" SET "status" = ?, "activatedAt" = ?, "lockedAt" = ?, "lockReason" = ?, "lockedByAttemptId" = ?, ' +
        '"lockCause" = ?, "lockPolicyVersionId" = ?, "lockedByAttemptOccurredAt" = ?, "lockRegionId" = ? WHERE "id" = ?',
    );
    sqlite.transaction(() => {
      for (const state of states)
        update.run(
          state.status,
          at(state.activatedAt),
          at(state.lockedAt),
          state.lockReason,
          state.lockedByAttemptId,
          state.lockCause,
          state.lockPolicyVersionId,
          at(state.lockedByAttemptOccurredAt),
          state.lockRegionId,
          state.id,
        );
    })();
  });
}

/** A status change in generated history (the demo generator's decisions). */
export interface GeneratedStatusChange {
  deviceId: number;
  from: DeviceStatus;
  to: DeviceStatus;
  attemptId: number;
  attemptOccurredAt: Date;
  /** When the deciding attempt arrived. */
  at: Date;
  reason: string;
}

/** History rows per INSERT: 10 parameters each, within both databases' limits. */
const HISTORY_ROWS_PER_INSERT = 1_000;

/** Writes the status history of generated decisions, in bulk: every change as decideActivation would have recorded it. */
export async function writeGeneratedHistory(
  dataSource: DataSource,
  changes: GeneratedStatusChange[],
  actor: string,
): Promise<void> {
  const insert = new EntityStatements(dataSource, DeviceStatusChange).insert(STATUS_CHANGE_PROPERTIES);
  await inTransaction(dataSource, async (manager) => {
    for (let start = 0; start < changes.length; start += HISTORY_ROWS_PER_INSERT) {
      const chunk = changes.slice(start, start + HISTORY_ROWS_PER_INSERT);
      await manager.query(
        insert.sqlForRows(chunk.length),
        chunk.flatMap((change) =>
          insert.parameters(
            historyRow(
              actor,
              { id: change.deviceId, status: change.from },
              {
                to: change.to,
                cause: StatusChangeCause.DECISION,
                attemptId: change.attemptId,
                attemptOccurredAt: change.attemptOccurredAt,
                reason: change.reason,
              },
              change.at,
            ),
          ),
        ),
      );
    }
  });
}
