import { EntityManager, In, SelectQueryBuilder } from 'typeorm';
import { textLengthError } from '../common/text-length';
import { ActivationAttempt, DecisionOutcome, ReviewStatus } from '../activations/activation-attempt.entity';
import { attemptRefOfGlobalId, findAttemptByRef } from '../activations/attempt-refs';
import { recordAuditEvent } from '../audit/audit.service';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { RequestScope, ScopeWithLoaders } from '../common/request-scope';
import { Device, DeviceStatus } from '../devices/device.entity';
import { LOCK_REASON_PREFIX, changeDeviceStatusOrAbort } from '../devices/device-lifecycle';
import { StatusChangeCause } from '../devices/device-status-change.entity';
import { PartnerEventType } from '../webhooks/partner-event.entity';
import { recordPartnerEvents } from '../webhooks/partner-events';
import { ResolveReviewInput, ReviewQueueFilter, ReviewResolution, UnlockDeviceInput } from './decision.types';
import { BadUserInputError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { Policy } from '../policies/policy.entity';
import type { RegionLoaders } from '../regions/region.loaders';
import { regionIdsInScope } from '../regions/region.service';
import { findOrAbort } from '../common/find-by-global-id';
import { announceLive } from '../db/live-events';

/** Narrows the open reviews; a region stands for its subdivisions too, unknown keys and IDs name their field. */
export async function filterReviewQueue(
  context: ScopeWithLoaders<RegionLoaders>,
  qb: SelectQueryBuilder<ActivationAttempt>,
  filter: ReviewQueueFilter,
): Promise<void> {
  const anyOf = (values: number[]) => (values.length ? values : [-1]);
  const regionIds = await regionIdsInScope(context, filter, 'filter');
  if (regionIds) qb.andWhere('attempt.resolvedRegionId IN (:...regionIds)', { regionIds: anyOf(regionIds) });
  if (filter.policyKeys) {
    const policies: Policy[] = await context.dataSource.getRepository(Policy).findBy({ key: In(filter.policyKeys) });
    filter.policyKeys.forEach((key, index) => {
      if (!policies.some((policy) => policy.key === key))
        throw new BadUserInputError(`filter.policyKeys[${index}]`, `no policy has the key ${JSON.stringify(key)}`);
    });
    qb.andWhere(
      'attempt.policyVersionId IN (SELECT version.id FROM policy_version version WHERE version."policyId" IN (:...policyIds))',
      { policyIds: anyOf(policies.map((policy) => policy.id)) },
    );
  }
  if (filter.partnerIds) {
    const partnerIds = filter.partnerIds.map((globalId, index) => {
      const rowId = rowIdOf(globalId, 'Partner');
      if (rowId === null) throw new BadUserInputError(`filter.partnerIds[${index}]`, 'is not a partner ID');
      return rowId;
    });
    qb.andWhere('attempt.deviceId IN (SELECT owned.id FROM device owned WHERE owned."partnerId" IN (:...partnerIds))', {
      partnerIds: anyOf(partnerIds),
    });
  }
  if (filter.receivedBefore)
    qb.andWhere('attempt.receivedAt < :receivedBefore', { receivedBefore: filter.receivedBefore });
}

function requireText(field: string, text: string): string {
  const trimmed = text.trim();
  const problem = textLengthError([field], trimmed, 1, 1000);
  if (problem) throw new UserErrorsAbort([problem]);
  return trimmed;
}

/**
 * The resolution asked for: `outcome`, or the deprecated `resolution` (whose type also holds
 * REVIEW, refused); one of them is required and, when both are given, they must agree.
 */
function resolutionOf(input: ResolveReviewInput): ReviewResolution {
  const { outcome, resolution } = input;
  if (resolution === DecisionOutcome.REVIEW)
    throw new UserErrorsAbort([userError(['resolution'], UserErrorCode.INVALID, 'resolution must be ALLOW or LOCK')]);
  const legacy =
    resolution == null ? null : resolution === DecisionOutcome.LOCK ? ReviewResolution.LOCK : ReviewResolution.ALLOW;
  if (outcome != null && legacy !== null && outcome !== legacy)
    throw new UserErrorsAbort([
      userError(['resolution'], UserErrorCode.INVALID, 'resolution contradicts outcome: give outcome only'),
    ]);
  const chosen = outcome ?? legacy;
  if (chosen === null)
    throw new UserErrorsAbort([userError(['outcome'], UserErrorCode.REQUIRED, 'outcome is required: ALLOW or LOCK')]);
  return chosen;
}

/** A person decides a REVIEW: ALLOW lets the device activate, LOCK locks it with the attempt as evidence. */
export async function resolveReview(manager: EntityManager, context: RequestScope, input: ResolveReviewInput) {
  const note = requireText('note', input.note);
  const resolution = resolutionOf(input);
  // The ID names the attempt's month: one partition probed (an older ID without it, every month).
  const ref = attemptRefOfGlobalId(input.attemptId);
  const attempt = ref && (await findAttemptByRef(manager, ref));
  if (!attempt)
    throw new UserErrorsAbort([userError(['attemptId'], UserErrorCode.NOT_FOUND, 'no activation attempt has this ID')]);
  if (attempt.reviewStatus !== ReviewStatus.OPEN) {
    throw new UserErrorsAbort([
      userError(['attemptId'], UserErrorCode.INVALID_STATE, 'the attempt has no open review'),
    ]);
  }
  const device = await manager.findOneByOrFail(Device, { id: attempt.deviceId });
  const reviewStatus = resolution === ReviewResolution.LOCK ? ReviewStatus.LOCKED : ReviewStatus.ALLOWED;
  // Only while it is still open: two people resolving it at once must not both succeed (the
  // second would overwrite the first's outcome and tell the partner twice).
  const resolved = await manager.update(
    ActivationAttempt,
    { id: attempt.id, occurredAt: attempt.occurredAt, reviewStatus: ReviewStatus.OPEN },
    {
      reviewStatus,
      reviewedAt: new Date(),
      reviewedBy: context.actor,
      reviewNote: note,
    },
  );
  if (resolved.affected !== 1) {
    throw new UserErrorsAbort([
      userError(['attemptId'], UserErrorCode.INVALID_STATE, 'the review was resolved meanwhile by someone else'),
    ]);
  }
  // A device locked meanwhile stays locked by what locked it: an ALLOW here does not unlock it
  // (only unlockDevice does), and a LOCK keeps the first lock's cause.
  const after =
    device.status === DeviceStatus.LOCKED
      ? DeviceStatus.LOCKED
      : reviewStatus === ReviewStatus.LOCKED
        ? DeviceStatus.LOCKED
        : DeviceStatus.ACTIVE;
  await recordPartnerEvents(manager, [
    {
      type: PartnerEventType.REVIEW_RESOLVED,
      device,
      status: after,
      attemptId: attempt.id,
      attemptOccurredAt: attempt.occurredAt,
      reason: resolution,
    },
  ]);
  if (after !== device.status) {
    await changeDeviceStatusOrAbort(
      manager,
      context,
      device,
      {
        to: after,
        cause: StatusChangeCause.REVIEW,
        attemptId: attempt.id,
        attemptOccurredAt: attempt.occurredAt,
        policyVersionId: attempt.policyVersionId,
        regionId: attempt.resolvedRegionId,
        reason: `review resolved: ${resolution}: ${note}`,
        lockReason: `${LOCK_REASON_PREFIX.review}: ${note}`,
        partnerReason: LOCK_REASON_PREFIX.review,
        activatedAt: attempt.occurredAt,
      },
      'attemptId',
    );
  }
  await recordAuditEvent(manager, context, {
    action: 'review.resolve',
    targetType: 'ActivationAttempt',
    targetRowId: attempt.id,
    before: { reviewStatus: attempt.reviewStatus, deviceStatus: device.status },
    after: { reviewStatus, note, deviceStatus: after },
  });
  await announceLive(manager, {
    kind: 'review',
    attemptId: attempt.id,
    occurredAt: attempt.occurredAt.toISOString(),
    change: 'RESOLVED',
  });
  return manager.findOneByOrFail(ActivationAttempt, { id: attempt.id, occurredAt: attempt.occurredAt });
}

/** The audited way out of a lock. */
export async function unlockDevice(manager: EntityManager, context: RequestScope, input: UnlockDeviceInput) {
  const reason = requireText('reason', input.reason);
  const device = await findOrAbort(manager, Device, input.deviceId, 'deviceId', 'device');
  if (device.status !== DeviceStatus.LOCKED) {
    throw new UserErrorsAbort([
      userError(['deviceId'], UserErrorCode.INVALID_STATE, `the device is ${device.status}, not LOCKED`),
    ]);
  }
  await changeDeviceStatusOrAbort(
    manager,
    context,
    device,
    { to: DeviceStatus.ACTIVE, cause: StatusChangeCause.UNLOCK, reason },
    'deviceId',
  );
  return manager.findOneByOrFail(Device, { id: device.id });
}
