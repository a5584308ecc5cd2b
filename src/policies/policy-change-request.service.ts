import { EntityManager, SelectQueryBuilder } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { findOrAbort } from '../common/find-by-global-id';
import { encodeGlobalId } from '../common/global-id';
import { RequestScope } from '../common/request-scope';
import { Policy } from './policy.entity';
import {
  PolicyChangeKind,
  PolicyChangeRequest,
  PolicyChangeStatus,
  ProposedRules,
  RestrictionReason,
} from './policy-change-request.entity';
import type { PolicyRules } from './policy.service';
import { PolicyChangeRequestFilter } from './policy.types';

/*
 * The owner of change requests (a domain module's own rows): opening, superseding and closing one,
 * each with its audit event. Approving one applies a policy change too: that workflow is
 * policy-change.service.ts.
 */

/** Every policy change's audit event. */
export async function auditPolicy(
  manager: EntityManager,
  context: RequestScope,
  action: string,
  policy: Policy,
  before: object | null,
  after: object,
  relatedTargetId?: string,
) {
  await recordAuditEvent(manager, context, {
    action,
    targetType: 'Policy',
    targetRowId: policy.id,
    before,
    after,
    relatedTargetId,
  });
}

function keyIdOf(context: RequestScope): string | null {
  return context.viewer?.keyId == null ? null : encodeGlobalId('ApiKey', context.viewer.keyId);
}

/** Whether the caller proposed the request: by the same key, or under the same name and role. */
export function isAuthor(request: PolicyChangeRequest, context: RequestScope): boolean {
  const keyId = keyIdOf(context);
  return (keyId !== null && keyId === request.requestedByKeyId) || request.requestedBy === context.actor;
}

/** Opens a change request; one may wait per policy at a time, so a reviewer never judges two diverging proposals. */
export async function requestChange(
  manager: EntityManager,
  context: RequestScope,
  change: {
    policy: Policy;
    kind: PolicyChangeKind;
    baseVersionId: number;
    rules: Omit<PolicyRules, 'effectiveFrom'> & { effectiveFrom: Date | null };
    reasons: RestrictionReason[];
    note: string | null | undefined;
  },
): Promise<PolicyChangeRequest> {
  const pending = await manager.findOneBy(PolicyChangeRequest, {
    policyId: change.policy.id,
    status: PolicyChangeStatus.PENDING,
  });
  if (pending) {
    throw new UserErrorsAbort([
      userError(
        ['id'],
        UserErrorCode.INVALID_STATE,
        `change request ${pending.globalId} is waiting for review: withdraw it or have it decided first`,
      ),
    ]);
  }
  const proposedRules: ProposedRules = {
    ...change.rules,
    effectiveFrom: change.rules.effectiveFrom?.toISOString() ?? null,
    effectiveUntil: change.rules.effectiveUntil?.toISOString() ?? null,
  };
  const request = await manager.save(
    manager.create(PolicyChangeRequest, {
      policyId: change.policy.id,
      kind: change.kind,
      baseVersionId: change.baseVersionId,
      proposedRules,
      reasons: change.reasons,
      status: PolicyChangeStatus.PENDING,
      note: change.note?.trim() ?? '',
      requestedBy: context.actor,
      requestedByKeyId: keyIdOf(context),
      requestedAt: new Date(),
      decidedBy: null,
      decidedAt: null,
      decisionComment: null,
      impactAtApproval: null,
      resultingVersionId: null,
    }),
  );
  await auditPolicy(
    manager,
    context,
    'policy.change.request',
    change.policy,
    null,
    {
      changeRequestId: request.globalId,
      kind: request.kind,
      reasons: request.reasons,
      proposedRules,
    },
    request.globalId,
  );
  return request;
}

const CLOSING_ACTIONS = {
  [PolicyChangeStatus.SUPERSEDED]: 'policy.change.supersede',
  [PolicyChangeStatus.APPROVED]: 'policy.change.approve',
  [PolicyChangeStatus.REJECTED]: 'policy.change.reject',
  [PolicyChangeStatus.WITHDRAWN]: 'policy.change.withdraw',
} as const;

/** Decides a pending request (who, when, why) and audits it: every way a request ends goes through here. */
export async function close(
  manager: EntityManager,
  context: RequestScope,
  policy: Policy,
  request: PolicyChangeRequest,
  status: keyof typeof CLOSING_ACTIONS,
  comment: string | null,
  extra: Partial<PolicyChangeRequest> = {},
) {
  const changes = { status, decidedBy: context.actor, decidedAt: new Date(), decisionComment: comment, ...extra };
  await manager.update(PolicyChangeRequest, { id: request.id }, changes);
  await auditPolicy(
    manager,
    context,
    CLOSING_ACTIONS[status],
    policy,
    { changeRequestId: request.globalId, status: PolicyChangeStatus.PENDING },
    { changeRequestId: request.globalId, status, comment },
    request.globalId,
  );
  return Object.assign(request, changes);
}

/** A change applied (or a retirement, or an edited draft) makes the waiting request's base stale. */
export async function supersedePendingRequests(
  manager: EntityManager,
  context: RequestScope,
  policy: Policy,
  why: string,
): Promise<void> {
  const pending = await manager.findBy(PolicyChangeRequest, {
    policyId: policy.id,
    status: PolicyChangeStatus.PENDING,
  });
  for (const request of pending) await close(manager, context, policy, request, PolicyChangeStatus.SUPERSEDED, why);
}

export async function findPending(manager: EntityManager, id: string) {
  const request = await findOrAbort(manager, PolicyChangeRequest, id, 'id', 'change request');
  if (request.status !== PolicyChangeStatus.PENDING) {
    throw new UserErrorsAbort([
      userError(['id'], UserErrorCode.INVALID_STATE, `the change request is ${request.status}, not PENDING`),
    ]);
  }
  return request;
}

export function queryChangeRequests(
  manager: EntityManager,
  filter: PolicyChangeRequestFilter | null,
): SelectQueryBuilder<PolicyChangeRequest> {
  const qb = manager.createQueryBuilder(PolicyChangeRequest, 'request');
  if (filter?.statuses)
    qb.andWhere('request.status IN (:...statuses)', { statuses: filter.statuses.length ? filter.statuses : [''] });
  if (filter?.policyKey) {
    qb.innerJoin(Policy, 'policy', 'policy.id = request.policyId').andWhere('policy.key = :key', {
      key: filter.policyKey.trim(),
    });
  }
  return qb;
}
