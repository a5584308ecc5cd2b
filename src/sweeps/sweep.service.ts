import { DataSource, EntityManager } from 'typeorm';
import { EntityStatements, SqlParameters, SqlTable, Statement } from '../db/prepared';
import { ActivationAttempt, DEVICE_ATTEMPTS_INDEX, DecisionOutcome } from '../activations/activation-attempt.entity';
import { findAttemptsByRefs } from '../activations/attempt-refs';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { RequestScope } from '../common/request-scope';
import { CompiledRules } from '../decisions/evaluator';
import { evaluatePolicies } from '../decisions/engine/policy-evaluator';
import { CompiledPolicy, isInForceAt } from '../decisions/engine/types';
import { AuditCaller } from '../audit/audit.service';
import {
  LOCK_REASON_PREFIX,
  PreparedStatusChanges,
  SqliteChangeValues,
  changeDeviceStatuses,
  prepareDeviceStatusChanges,
  preparedSqliteStatusChanges,
  sqliteStatusChangeValues,
} from '../devices/device-lifecycle';
import { StatusChangeCause } from '../devices/device-status-change.entity';
import { Device, DeviceStatus, LockCause } from '../devices/device.entity';
import { Policy } from '../policies/policy.entity';
import { PolicyAction, PolicyMode, PolicyVersion } from '../policies/policy-version.entity';
import { Sweep, SweepAction, SweepBreakdown, SweepStatus } from './sweep.entity';

/** A candidate device as a sweep reads, judges and changes it: what the lifecycle and the breakdown need. */
export type SweptDevice = Pick<Device, (typeof SWEPT_DEVICE_PROPERTIES)[number]>;

const SWEPT_DEVICE_PROPERTIES = [
  'id',
  'imei',
  'partnerId',
  'modelId',
  'status',
  'activatedAt',
  'lockedAt',
  'lockReason',
  'lockedByAttemptId',
  'lockedByAttemptOccurredAt',
  'lockCause',
  'lockPolicyVersionId',
  'lockRegionId',
] as const;

/** The attempt a device is judged by: where it was activated (a LOCK sweep) or locked (an UNLOCK sweep). */
export interface SweepEvidence {
  attemptId: number;
  attemptOccurredAt: Date;
  /** -1 when the attempt was resolved to no region: the device is left alone. */
  regionId: number;
}

/** The next candidates of a sweep, in id order, each with its evidence when it has any. */
export interface SweepCandidates {
  devices: SweptDevice[];
  evidence: Map<number, SweepEvidence>;
}

/** What one device would become, and why. */
export interface SweepChange {
  device: SweptDevice;
  to: DeviceStatus;
  regionId: number;
  attemptId: number;
  /** That attempt's occurredAt (its partition key), carried into the lock and the history. */
  attemptOccurredAt: Date;
  /** For a lock: the sweep's policy version in force, which causes it. */
  policyVersionId: number | null;
  reason: string;
}

/** A policy to sweep for, with the compiled rules every device is judged by. */
export interface SweepScope {
  policy: Policy;
  action: SweepAction;
  rules: CompiledRules;
  /** Regions (with their subdivisions) the policy's version in force now covers: where LOCK candidates were activated. */
  coveredRegionIds: number[];
  /** Compiled versions of the policy, any window: an UNLOCK candidate was locked by one. */
  versionIds: number[];
}

/** The policy and its rules, checked for the action; a user error names the field otherwise. */
export async function sweepScope(
  manager: EntityManager,
  rules: CompiledRules,
  policyKey: string,
  action: SweepAction,
): Promise<SweepScope> {
  return scopeOf(rules, await sweepPolicyRows(manager, { key: policyKey.trim() }), action);
}

/** The rows of the policy a scope is made of: a runner reads them again only when the rules change. */
export interface SweepPolicyRows {
  policy: Policy;
  /** Its versions, any window or state. */
  versionIds: number[];
}

export async function sweepPolicyRows(
  manager: EntityManager,
  where: { key: string } | { id: number },
): Promise<SweepPolicyRows> {
  const policy = await manager.findOneBy(Policy, where);
  if (!policy) throw new UserErrorsAbort([userError(['policyKey'], UserErrorCode.NOT_FOUND, 'no policy has this key')]);
  const versions = await manager.find(PolicyVersion, { select: { id: true }, where: { policyId: policy.id } });
  return { policy, versionIds: versions.map((version) => version.id) };
}

/** The scope of a sweep of this policy under these rules, as of now; a user error names the field if it cannot run. */
export function scopeOf(
  rules: CompiledRules,
  { policy, versionIds }: SweepPolicyRows,
  action: SweepAction,
): SweepScope {
  const now = Date.now();
  const speaking = rules.engine.policiesAt(now).find((compiled) => compiled.policyKey === policy.key);
  const inForce = speaking && isInForceAt(speaking, now) ? speaking : undefined;
  if (action === SweepAction.LOCK_ACTIVE_DEVICES && !isEnforcedLock(inForce)) {
    throw new UserErrorsAbort([
      userError(
        ['policyKey'],
        UserErrorCode.INVALID_STATE,
        'only a policy whose version in force now LOCKs in ENFORCE mode can lock devices',
      ),
    ]);
  }
  // Where it covers, as the engine reads coverage: a region or one of its ancestors named.
  const regionIds = inForce
    ? [...rules.regionIdByCode].flatMap(([code, id]) =>
        rules.engineData.regions.lineage(code).some((covering) => inForce.regionCodes.has(covering)) ? [id] : [],
      )
    : [];
  return { policy, action, rules, coveredRegionIds: regionIds, versionIds };
}

function isEnforcedLock(policy: CompiledPolicy | null | undefined): boolean {
  return !!policy && policy.action === PolicyAction.LOCK && policy.mode === PolicyMode.ENFORCE;
}

/**
 * The statement reading the candidates after `afterId`, in id order: their ids only, or (`read`)
 * the devices with the evidence a LOCK sweep judges them by. One WHERE for both, so the count,
 * the dry run and the batches examine the same devices. Null when nothing can be a candidate.
 *
 * A LOCK candidate is an ACTIVE device with an accepted attempt in a covered region: asked per
 * device with a subquery and LIMIT 1 through the (deviceId, occurredAt, id) index, not EXISTS —
 * PostgreSQL turned that into a semi-join that read (or hashed) every accepted attempt in the
 * covered regions, from the first device on, for every batch. Its evidence is its latest accepted
 * attempt, found the same way (a LATERAL join on PostgreSQL, the attempt whose id a correlated
 * subquery names on SQLite): one index probe per device and month, however long its history.
 * When that attempt lies in a covered region it answers the candidate question too, and the
 * second probe is not made.
 */
function candidateStatement(
  manager: EntityManager,
  scope: SweepScope,
  afterId: number,
  limit: number,
  read: 'ids' | 'devices',
  upToId: number | null = null,
): Statement | null {
  const d = new SqlTable(manager.connection, Device, 'd');
  const a = new SqlTable(manager.connection, ActivationAttempt, 'a');
  const postgres = d.statements.postgres;
  const p = new SqlParameters(d.statements);
  const columns =
    read === 'ids'
      ? [d.column('id')]
      : SWEPT_DEVICE_PROPERTIES.map((property) => `${d.column(property)} AS "${property}"`);
  if (scope.action === SweepAction.LOCK_ACTIVE_DEVICES) {
    if (scope.coveredRegionIds.length === 0) return null;
    const accepted = `(${a.column('outcome')} = '${DecisionOutcome.ALLOW}' OR NOT ${a.column('enforced')})`;
    // SQLite plans without statistics: with one covered region it probed the candidate through the
    // (resolvedRegionId, occurredAt) index — every attempt of the region read for each device, a
    // sweep's cost growing with devices × the region's history (2,000 devices of a 10^5 database:
    // 24 s of processor time). The device's own attempts are the bounded side.
    const byDevice = a.through(DEVICE_ATTEMPTS_INDEX);
    let evidence = '';
    if (read === 'devices') {
      columns.push(
        `e.${a.statements.column('id')} AS "evidenceId"`,
        `e.${a.statements.column('occurredAt')} AS "evidenceOccurredAt"`,
        `e.${a.statements.column('resolvedRegionId')} AS "evidenceRegionId"`,
      );
      const latest =
        `FROM ${byDevice} WHERE ${a.column('deviceId')} = ${d.column('id')} AND ${accepted} ` +
        `ORDER BY ${a.column('occurredAt')} DESC, ${a.column('id')} DESC LIMIT 1`;
      evidence = postgres
        ? ` LEFT JOIN LATERAL (SELECT ${a.column('id')}, ${a.column('occurredAt')}, ${a.column('resolvedRegionId')} ${latest}) e ON TRUE`
        : ` LEFT JOIN "${a.statements.table}" e ON e.${a.statements.column('id')} = (SELECT ${a.column('id')} ${latest})`;
    }
    const sql =
      `SELECT ${columns.join(', ')} FROM ${d.from}${evidence} ` +
      `WHERE ${d.column('id')} > ${p.add(afterId)} ` +
      (upToId === null ? '' : `AND ${d.column('id')} <= ${p.add(upToId)} `) +
      `AND ${d.column('status')} = ${p.add(DeviceStatus.ACTIVE)} AND (` +
      (read === 'devices'
        ? `e.${a.statements.column('resolvedRegionId')} IN (${p.list(scope.coveredRegionIds)}) OR `
        : '') +
      `(SELECT 1 FROM ${byDevice} WHERE ${a.column('deviceId')} = ${d.column('id')} ` +
      `AND ${a.column('resolvedRegionId')} IN (${p.list(scope.coveredRegionIds)}) AND ${accepted} LIMIT 1) IS NOT NULL) ` +
      `ORDER BY ${d.column('id')} LIMIT ${p.add(limit)}`;
    return { sql, parameters: p.values };
  }
  // Locked by a decision of one of the policy's versions, or by one of its sweeps — not by a person.
  const sql =
    `SELECT ${columns.join(', ')} FROM ${d.from} ` +
    `WHERE ${d.column('id')} > ${p.add(afterId)} AND ${d.column('status')} = ${p.add(DeviceStatus.LOCKED)} ` +
    `AND ${d.column('lockCause')} IN (${p.list([LockCause.DECISION, LockCause.SWEEP])}) ` +
    `AND ${d.column('lockPolicyVersionId')} IN (${p.list(scope.versionIds)}) ` +
    `ORDER BY ${d.column('id')} LIMIT ${p.add(limit)}`;
  return { sql, parameters: p.values };
}

/** Device ids after `afterId` (up to `upToId`, when given) that the sweep must examine, in id order. */
export async function candidateIds(
  manager: EntityManager,
  scope: SweepScope,
  afterId: number,
  limit: number,
  upToId: number | null = null,
): Promise<number[]> {
  const statement = candidateStatement(manager, scope, afterId, limit, 'ids', upToId);
  if (!statement) return [];
  const rows: { id: number | string }[] = await manager.query(statement.sql, statement.parameters);
  return rows.map((row) => Number(row.id));
}

/** How many devices the sweep would examine now, every candidate read (a dry run's cost: 60 s for 2,000,000). */
export async function countCandidates(manager: EntityManager, scope: SweepScope): Promise<number> {
  let total = 0;
  for (let after = 0; ;) {
    const ids = await candidateIds(manager, scope, after, 10_000);
    total += ids.length;
    if (ids.length < 10_000) return total;
    after = ids[ids.length - 1];
  }
}

/**
 * The devices in the status a sweep changes (ACTIVE for a LOCK sweep; for an UNLOCK sweep those
 * locked by the policy, which are exactly its candidates) after `afterId`, the first `limit` of
 * them when given: how many, and the last one's id. One range of the (status, id) index (the
 * partial index of LOCKED devices), no attempt read.
 */
async function devicesInStatus(
  manager: EntityManager,
  scope: SweepScope,
  afterId = 0,
  limit: number | null = null,
): Promise<{ count: number; lastId: number | null }> {
  const d = new SqlTable(manager.connection, Device, 'd');
  const p = new SqlParameters(d.statements);
  let sql = `SELECT ${d.column('id')} AS "id" FROM ${d.from} WHERE ${d.column('id')} > ${p.add(afterId)}`;
  if (scope.action === SweepAction.LOCK_ACTIVE_DEVICES) {
    sql += ` AND ${d.column('status')} = ${p.add(DeviceStatus.ACTIVE)}`;
  } else {
    sql +=
      ` AND ${d.column('status')} = ${p.add(DeviceStatus.LOCKED)}` +
      ` AND ${d.column('lockCause')} IN (${p.list([LockCause.DECISION, LockCause.SWEEP])})` +
      ` AND ${d.column('lockPolicyVersionId')} IN (${p.list(scope.versionIds)})`;
  }
  if (limit !== null) sql += ` ORDER BY ${d.column('id')} LIMIT ${p.add(limit)}`;
  const [row]: { count: number | string; lastId: number | string | null }[] = await manager.query(
    `SELECT COUNT(*) AS "count", MAX(s."id") AS "lastId" FROM (${sql}) s`,
    p.values,
  );
  return { count: Number(row.count), lastId: row.lastId === null ? null : Number(row.lastId) };
}

/** How a sweep's total is found at its start: exactly up to `exactUpTo` devices in its status, from a sample beyond. */
export interface TotalEstimate {
  /** Devices in the status the sweep changes up to which every candidate is counted. */
  exactUpTo: number;
  /** Places spread evenly over the device ids where a sample is taken. */
  strata: number;
  /** Devices in the status judged at each place. */
  perStratum: number;
}

/** 5,000 devices judged instead of all of them (59.7 s for 1,871,073 candidates at 10^7). */
export const TOTAL_ESTIMATE: TotalEstimate = { exactUpTo: 10_000, strata: 20, perStratum: 250 };

/**
 * The devices a sweep will examine, as its progress's total: counted exactly when few devices are
 * in the status it changes (and always for an UNLOCK sweep, whose candidates are those devices);
 * otherwise the devices in that status (one index range) times the share of candidates among a
 * sample of them — at `strata` places spread evenly over the ids, the next `perStratum` devices in
 * that status, and which of them are candidates (at most `strata × perStratum` judged, however
 * rare the candidates: a sample of candidates instead would read on until it found them). Counting
 * every candidate read each device's attempts: 59.7 s of a 2,000,000-device sweep at 10^7, before
 * its first batch. Spread over the ids, the sample follows how devices were registered over time;
 * its error is about a percent at the default sizes (a share p of n devices: √(p(1−p)/n) ≤ 0.7 %).
 */
export async function estimateCandidates(
  manager: EntityManager,
  scope: SweepScope,
  estimate: TotalEstimate = TOTAL_ESTIMATE,
): Promise<number> {
  const inStatus = (await devicesInStatus(manager, scope)).count;
  if (scope.action !== SweepAction.LOCK_ACTIVE_DEVICES) return inStatus;
  if (inStatus <= estimate.exactUpTo) return countCandidates(manager, scope);
  const d = new SqlTable(manager.connection, Device, 'd');
  const [range]: { first: number | string; last: number | string }[] = await manager.query(
    `SELECT MIN(${d.column('id')}) AS "first", MAX(${d.column('id')}) AS "last" FROM ${d.from}`,
  );
  const first = Number(range.first) - 1;
  const span = Number(range.last) - first;
  let candidates = 0;
  let examined = 0;
  for (let stratum = 0; stratum < estimate.strata; stratum += 1) {
    const after = first + Math.floor((span * stratum) / estimate.strata);
    const sample = await devicesInStatus(manager, scope, after, estimate.perStratum);
    if (sample.lastId === null) continue;
    examined += sample.count;
    candidates += (await candidateIds(manager, scope, after, sample.count, sample.lastId)).length;
  }
  return examined === 0 ? 0 : Math.round((inStatus * candidates) / examined);
}

/**
 * The next devices after `afterId` the sweep must examine, in id order, with their evidence: one
 * statement for a LOCK sweep (devices and their latest accepted attempts), two for an UNLOCK
 * sweep (the devices, then their locks by reference).
 */
export async function nextCandidates(
  manager: EntityManager,
  scope: SweepScope,
  afterId: number,
  limit: number,
): Promise<SweepCandidates> {
  const evidence = new Map<number, SweepEvidence>();
  const statement = candidateStatement(manager, scope, afterId, limit, 'devices');
  if (!statement) return { devices: [], evidence };
  const rows: Record<string, unknown>[] = await manager.query(statement.sql, statement.parameters);
  const devices = new EntityStatements(manager.connection, Device);
  const swept = rows.map((row) => devices.hydrate(row, SWEPT_DEVICE_PROPERTIES) as SweptDevice);
  if (scope.action === SweepAction.LOCK_ACTIVE_DEVICES) {
    const attempts = new EntityStatements(manager.connection, ActivationAttempt);
    rows.forEach((row, index) => {
      if (row.evidenceId === null || row.evidenceId === undefined) return;
      const attempt = attempts.hydrate(
        { id: row.evidenceId, occurredAt: row.evidenceOccurredAt, resolvedRegionId: row.evidenceRegionId },
        ['id', 'occurredAt', 'resolvedRegionId'],
      );
      // The latest accepted attempt says where the device was activated.
      evidence.set(swept[index].id, {
        attemptId: Number(attempt.id),
        attemptOccurredAt: attempt.occurredAt!,
        regionId: attempt.resolvedRegionId == null ? -1 : Number(attempt.resolvedRegionId),
      });
    });
  } else {
    // Each lock by (id, occurredAt): one month probed per device, not every month.
    const locked = swept.filter((device) => device.lockedByAttemptId !== null);
    const locks = await findAttemptsByRefs(
      manager,
      locked.map((device) => ({ id: device.lockedByAttemptId!, occurredAt: device.lockedByAttemptOccurredAt })),
    );
    locked.forEach((device, index) => {
      const lock = locks[index];
      if (lock?.resolvedRegionId != null)
        evidence.set(device.id, {
          attemptId: lock.id,
          attemptOccurredAt: lock.occurredAt,
          regionId: lock.resolvedRegionId,
        });
    });
  }
  return { devices: swept, evidence };
}

/**
 * What the sweep does to each of these devices, judged by the live rules as of `now`: the
 * engine's own policy evaluation for the region the device was activated (or locked) in. A LOCK
 * sweep locks where its policy wins with an enforced LOCK; an UNLOCK sweep unlocks where no enforced
 * policy applies any more (one that only reviews keeps it locked: a person decides then).
 */
export function plannedChanges(scope: SweepScope, { devices, evidence }: SweepCandidates, now: Date): SweepChange[] {
  const codeById = new Map([...scope.rules.regionIdByCode].map(([code, id]) => [id, code]));
  const policiesNow = scope.rules.engine.policiesAt(now.getTime());
  const changes: SweepChange[] = [];
  for (const device of devices) {
    const found = evidence.get(device.id);
    const regionCode = found && codeById.get(found.regionId);
    if (!found || !regionCode) continue;
    const evaluation = evaluatePolicies(
      policiesNow,
      scope.rules.engineData.exemptions,
      scope.rules.engineData.regions,
      regionCode,
      now.getTime(),
      {
        deviceId: device.id,
        modelCode: scope.rules.modelCodeById.get(device.modelId) ?? '',
        partnerId: device.partnerId,
        locked: device.status === DeviceStatus.LOCKED,
        lockedByVersionId: null,
      },
    );
    const winner = evaluation.winner;
    if (scope.action === SweepAction.LOCK_ACTIVE_DEVICES) {
      if (device.status !== DeviceStatus.ACTIVE || !isEnforcedLock(winner) || winner!.policyKey !== scope.policy.key)
        continue;
      changes.push({
        device,
        to: DeviceStatus.LOCKED,
        regionId: found.regionId,
        attemptId: found.attemptId,
        attemptOccurredAt: found.attemptOccurredAt,
        policyVersionId: winner!.versionId,
        reason: `POLICY:${winner!.policyKey},VERSION:${winner!.versionNumber},REGION:${regionCode}`,
      });
    } else {
      if (device.status !== DeviceStatus.LOCKED || (winner && winner.mode === PolicyMode.ENFORCE)) continue;
      changes.push({
        device,
        to: DeviceStatus.ACTIVE,
        regionId: found.regionId,
        attemptId: found.attemptId,
        attemptOccurredAt: found.attemptOccurredAt,
        policyVersionId: null,
        reason: winner ? `ONLY_MONITORED_BY:${winner.policyKey}` : `NO_POLICY_APPLIES:${regionCode}`,
      });
    }
  }
  return changes;
}

export function emptyBreakdown(): SweepBreakdown {
  return { byRegion: {}, byModel: {}, byPartner: {} };
}

export function countChange(breakdown: SweepBreakdown, change: SweepChange): void {
  const add = (counts: Record<string, number>, key: number) => (counts[key] = (counts[key] ?? 0) + 1);
  add(breakdown.byRegion, change.regionId);
  add(breakdown.byModel, change.device.modelId);
  add(breakdown.byPartner, change.device.partnerId);
}

/** The lifecycle's changes of a sweep's planned changes, as of `now`. */
function lifecycleChanges(sweepId: number, changes: readonly SweepChange[], now: Date) {
  return changes.map((change) => ({
    device: change.device,
    transition: {
      to: change.to,
      cause: StatusChangeCause.SWEEP,
      at: now,
      attemptId: change.attemptId,
      attemptOccurredAt: change.attemptOccurredAt,
      sweepId,
      policyVersionId: change.policyVersionId,
      regionId: change.regionId,
      reason: change.reason,
      lockReason: `${LOCK_REASON_PREFIX.sweep}${sweepId},${change.reason}`,
    },
  }));
}

/** Planned changes with their rows built ahead of the batch's transaction (`prepareChanges`). */
export interface PreparedChanges {
  sweepId: number;
  changes: readonly SweepChange[];
  statements: PreparedStatusChanges;
}

/**
 * Builds the rows of planned changes outside the batch's transaction, for `applyChanges` to write
 * in it (the lifecycle's `prepareDeviceStatusChanges`): a sweep reading ahead builds its next batch
 * while this one is written.
 */
export async function prepareChanges(
  dataSource: DataSource,
  context: RequestScope,
  sweepId: number,
  changes: readonly SweepChange[],
): Promise<PreparedChanges> {
  const statements = await prepareDeviceStatusChanges(
    dataSource,
    context,
    lifecycleChanges(sweepId, changes, new Date()),
  );
  return { sweepId, changes, statements };
}

/** A batch as a sweep's reader thread hands it over: its candidates, judged, and its changes' values built. */
export interface SqliteReadBatch {
  /** The devices examined (their evidence stays on the thread: it was needed only to judge them). */
  candidates: SweepCandidates;
  changes: SweepChange[];
  /** Per change, its rows as SQLite binds them (null for no change). */
  values: (SqliteChangeValues | null)[];
}

/**
 * SQLite, on a sweep's reader thread (its own read-only connection to the file): the candidates
 * after `after` read, judged by the rules as of now, and their changes' rows built and converted
 * by `caller` — all of a batch's work but the write, done beside the thread that writes the
 * batch before. The values are written by `preparedSqliteChanges` on that thread.
 */
export async function readSqliteBatch(
  dataSource: DataSource,
  caller: AuditCaller,
  sweepId: number,
  scope: SweepScope,
  after: number,
  limit: number,
): Promise<SqliteReadBatch> {
  const candidates = await nextCandidates(dataSource.manager, scope, after, limit);
  const now = new Date();
  const changes = plannedChanges(scope, candidates, now);
  return {
    candidates: { devices: candidates.devices, evidence: new Map() },
    changes,
    values: sqliteStatusChangeValues(dataSource, caller, lifecycleChanges(sweepId, changes, now)),
  };
}

/** The changes of a batch read on a reader thread (`readSqliteBatch`), to be written by `applyChanges`. */
export function preparedSqliteChanges(
  context: RequestScope,
  sweepId: number,
  { changes, values }: Pick<SqliteReadBatch, 'changes' | 'values'>,
): PreparedChanges {
  return {
    sweepId,
    changes,
    statements: preparedSqliteStatusChanges(context, lifecycleChanges(sweepId, changes, new Date()), values),
  };
}

/**
 * Applies planned changes inside a batch's transaction — those `prepared` when given (built for
 * this sweep and these changes), otherwise built here. Each device is updated only if it is still
 * in the state it was judged in (a decision may have changed it meanwhile); returns those changed.
 * Every change gets an audit event and a history entry naming the sweep.
 */
export async function applyChanges(
  manager: EntityManager,
  context: RequestScope,
  sweep: Sweep,
  changes: SweepChange[],
  prepared?: PreparedChanges,
): Promise<SweepChange[]> {
  const made =
    prepared && prepared.sweepId === sweep.id && prepared.changes === changes
      ? await prepared.statements.write(manager)
      : await changeDeviceStatuses(manager, context, lifecycleChanges(sweep.id, changes, new Date()));
  return changes.filter((_, index) => made[index]);
}

/** State changes a person may ask of a sweep, and where each is allowed from. */
export const sweepTransitions: Record<'pause' | 'resume' | 'cancel', { from: SweepStatus[]; to: SweepStatus }> = {
  pause: { from: [SweepStatus.RUNNING], to: SweepStatus.PAUSED },
  resume: { from: [SweepStatus.PAUSED], to: SweepStatus.RUNNING },
  cancel: { from: [SweepStatus.RUNNING, SweepStatus.PAUSED], to: SweepStatus.CANCELLED },
};
