import { EntityManager, In } from 'typeorm';
import { ActivationAttempt, DecisionOutcome } from '../activations/activation-attempt.entity';
import { findAttemptsByRefs } from '../activations/attempt-refs';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { RequestScope } from '../common/request-scope';
import { CompiledRules } from '../decisions/evaluator';
import { evaluatePolicies } from '../decisions/engine/policy-evaluator';
import { CompiledPolicy, isInForceAt } from '../decisions/engine/types';
import { LOCK_REASON_PREFIX, changeDeviceStatuses } from '../devices/device-lifecycle';
import { StatusChangeCause } from '../devices/device-status-change.entity';
import { Device, DeviceStatus, LockCause } from '../devices/device.entity';
import { Policy } from '../policies/policy.entity';
import { PolicyAction, PolicyMode, PolicyVersion } from '../policies/policy-version.entity';
import { Sweep, SweepAction, SweepBreakdown, SweepStatus } from './sweep.entity';

/** What one device would become, and why. */
export interface SweepChange {
  device: Device;
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

/** An attempt that let the device work: allowed, or decided by a policy only monitoring. */
const ACCEPTED = `(a."outcome" = '${DecisionOutcome.ALLOW}' OR NOT a."enforced")`;

/** The policy and its rules, checked for the action; a user error names the field otherwise. */
export async function sweepScope(
  manager: EntityManager,
  rules: CompiledRules,
  policyKey: string,
  action: SweepAction,
): Promise<SweepScope> {
  const policy = await manager.findOneBy(Policy, { key: policyKey.trim() });
  if (!policy) throw new UserErrorsAbort([userError(['policyKey'], UserErrorCode.NOT_FOUND, 'no policy has this key')]);
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
  const versions = await manager.find(PolicyVersion, { select: { id: true }, where: { policyId: policy.id } });
  return {
    policy,
    action,
    rules,
    coveredRegionIds: regionIds,
    versionIds: versions.map((version) => version.id),
  };
}

function isEnforcedLock(policy: CompiledPolicy | null | undefined): boolean {
  return !!policy && policy.action === PolicyAction.LOCK && policy.mode === PolicyMode.ENFORCE;
}

/** Device ids after `afterId` that the sweep must examine, in id order. */
export async function candidateIds(
  manager: EntityManager,
  scope: SweepScope,
  afterId: number,
  limit: number,
): Promise<number[]> {
  const query = manager
    .createQueryBuilder(Device, 'd')
    .select('d.id', 'id')
    .where('d.id > :afterId', { afterId })
    .orderBy('d.id', 'ASC')
    .limit(limit);
  if (scope.action === SweepAction.LOCK_ACTIVE_DEVICES) {
    if (scope.coveredRegionIds.length === 0) return [];
    query
      .andWhere('d.status = :active', { active: DeviceStatus.ACTIVE })
      // A subquery with LIMIT, not EXISTS: PostgreSQL turns an EXISTS into a semi-join that read (or
      // hashed) every accepted attempt in the covered regions, from the first device on, for every
      // batch — a sweep's cost grew with the square of its devices. This one is asked per device,
      // through the (deviceId, occurredAt, id) index, for the devices of the batch only.
      .andWhere(
        `(SELECT 1 FROM "activation_attempt" a WHERE a."deviceId" = d.id AND a."resolvedRegionId" IN (:...regionIds) AND ${ACCEPTED} LIMIT 1) IS NOT NULL`,
        { regionIds: scope.coveredRegionIds },
      );
  } else {
    // Locked by a decision of one of the policy's versions, or by one of its sweeps — not by a person.
    query
      .andWhere('d.status = :locked', { locked: DeviceStatus.LOCKED })
      .andWhere('d.lockCause IN (:...causes)', { causes: [LockCause.DECISION, LockCause.SWEEP] })
      .andWhere('d.lockPolicyVersionId IN (:...versionIds)', {
        versionIds: scope.versionIds.length ? scope.versionIds : [-1],
      });
  }
  const rows: { id: number }[] = await query.getRawMany();
  return rows.map((row) => Number(row.id));
}

/** How many devices the sweep would examine now. */
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
 * What the sweep does to each of these devices, judged by the live rules as of `now`: the
 * engine's own policy evaluation for the region the device was activated (or locked) in. A LOCK
 * sweep locks where its policy wins with an enforced LOCK; an UNLOCK sweep unlocks where no enforced
 * policy applies any more (one that only reviews keeps it locked: a person decides then).
 */
export async function plannedChanges(
  manager: EntityManager,
  scope: SweepScope,
  deviceIds: number[],
  now: Date,
): Promise<SweepChange[]> {
  if (deviceIds.length === 0) return [];
  const devices = await manager.findBy(Device, { id: In(deviceIds) });
  const evidence = new Map<number, { attemptId: number; attemptOccurredAt: Date; regionId: number }>();
  if (scope.action === SweepAction.LOCK_ACTIVE_DEVICES) {
    const rows: { id: number; deviceId: number; occurredAt: Date; resolvedRegionId: number | null }[] = await manager
      .createQueryBuilder(ActivationAttempt, 'a')
      .select([
        'a.id AS "id"',
        'a.deviceId AS "deviceId"',
        'a.occurredAt AS "occurredAt"',
        'a.resolvedRegionId AS "resolvedRegionId"',
      ])
      .where('a.deviceId IN (:...deviceIds)', { deviceIds })
      .andWhere(ACCEPTED)
      .orderBy('a.deviceId', 'ASC')
      .addOrderBy('a.occurredAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .getRawMany();
    for (const row of rows) {
      const deviceId = Number(row.deviceId);
      // Raw rows: SQLite gives the instant as text.
      const found = { attemptId: Number(row.id), attemptOccurredAt: rawInstant(manager, row.occurredAt) };
      // The latest accepted attempt says where the device was activated.
      if (!evidence.has(deviceId) && row.resolvedRegionId !== null)
        evidence.set(deviceId, { ...found, regionId: Number(row.resolvedRegionId) });
      else if (!evidence.has(deviceId)) evidence.set(deviceId, { ...found, regionId: -1 });
    }
  } else {
    // Each lock by (id, occurredAt): one month probed per device, not every month.
    const locked = devices.filter((device) => device.lockedByAttemptId !== null);
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

/**
 * Applies planned changes inside a batch's transaction. Each device is updated only if it is
 * still in the state it was judged in (a decision may have changed it meanwhile); returns those
 * changed. Every change gets an audit event and a history entry naming the sweep.
 */
export async function applyChanges(
  manager: EntityManager,
  context: RequestScope,
  sweep: Sweep,
  changes: SweepChange[],
): Promise<SweepChange[]> {
  const now = new Date();
  const made = await changeDeviceStatuses(
    manager,
    context,
    changes.map((change) => ({
      device: change.device,
      transition: {
        to: change.to,
        cause: StatusChangeCause.SWEEP,
        at: now,
        attemptId: change.attemptId,
        attemptOccurredAt: change.attemptOccurredAt,
        sweepId: sweep.id,
        policyVersionId: change.policyVersionId,
        regionId: change.regionId,
        reason: change.reason,
        lockReason: `${LOCK_REASON_PREFIX.sweep}${sweep.id},${change.reason}`,
      },
    })),
  );
  return changes.filter((_, index) => made[index]);
}

/** State changes a person may ask of a sweep, and where each is allowed from. */
export const sweepTransitions: Record<'pause' | 'resume' | 'cancel', { from: SweepStatus[]; to: SweepStatus }> = {
  pause: { from: [SweepStatus.RUNNING], to: SweepStatus.PAUSED },
  resume: { from: [SweepStatus.PAUSED], to: SweepStatus.RUNNING },
  cancel: { from: [SweepStatus.RUNNING, SweepStatus.PAUSED], to: SweepStatus.CANCELLED },
};

/** An instant read raw: a Date from PostgreSQL, UTC text ("YYYY-MM-DD HH:MM:SS.SSS") from SQLite. */
function rawInstant(manager: EntityManager, value: Date | string): Date {
  if (value instanceof Date) return value;
  return manager.connection.options.type === 'postgres' ? new Date(value) : new Date(`${value.replace(' ', 'T')}Z`);
}
