import { EntityManager, SelectQueryBuilder } from 'typeorm';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { findOrAbort } from '../common/find-by-global-id';
import { encodeGlobalId } from '../common/global-id';
import { GraphQLContext } from '../context';
import { Policy, PolicyStatus } from './policy.entity';
import {
  PolicyChangeKind,
  PolicyChangeRequest,
  PolicyChangeStatus,
  ProposedRules,
  RestrictionReason,
} from './policy-change-request.entity';
import { PolicyAction, PolicyMode } from './policy-version.entity';
import {
  PolicyRules,
  activateApproved,
  auditPolicy,
  findPolicyForChange,
  applyNewVersion,
  readRules,
  resolveRules,
} from './policy.service';
import { ApprovePolicyChangeInput, ClosePolicyChangeInput, PolicyChangeRequestFilter } from './policy.types';
import { SimulatedPolicyInput } from '../reports/report.types';

/** The proposed rules of a request as a version's rules; an open effectiveFrom resolves to `appliesAt`. */
export function rulesOfRequest(request: PolicyChangeRequest, base: PolicyRules, appliesAt: Date): PolicyRules {
  const proposed = request.proposedRules;
  return {
    ...proposed,
    action: proposed.action as PolicyAction,
    mode: proposed.mode as PolicyMode,
    effectiveFrom: proposed.effectiveFrom
      ? new Date(proposed.effectiveFrom)
      : new Date(Math.max(base.effectiveFrom.getTime(), appliesAt.getTime())),
    effectiveUntil: proposed.effectiveUntil ? new Date(proposed.effectiveUntil) : null,
  };
}

/** The request as a what-if: the policy with the proposed rules in place. */
export function simulationOfRequest(request: PolicyChangeRequest, policyKey: string): SimulatedPolicyInput {
  const proposed = request.proposedRules;
  return {
    policyKey,
    action: proposed.action as PolicyAction,
    mode: proposed.mode as PolicyMode,
    priority: proposed.priority,
    regionCodes: proposed.regionCodes,
    productScope: proposed.productScope,
    // An open effectiveFrom ("from approval") is simulated as in force over the whole window.
    effectiveFrom: proposed.effectiveFrom ? new Date(proposed.effectiveFrom) : new Date(0),
    effectiveUntil: proposed.effectiveUntil ? new Date(proposed.effectiveUntil) : null,
  };
}

function keyIdOf(context: GraphQLContext): string | null {
  return context.viewer?.keyId == null ? null : encodeGlobalId('ApiKey', context.viewer.keyId);
}

/** Whether the caller proposed the request: by the same key, or under the same name and role. */
function isAuthor(request: PolicyChangeRequest, context: GraphQLContext): boolean {
  const keyId = keyIdOf(context);
  return (keyId !== null && keyId === request.requestedByKeyId) || request.requestedBy === context.actor;
}

/** Opens a change request; one may wait per policy at a time, so a reviewer never judges two diverging proposals. */
export async function requestChange(
  manager: EntityManager,
  context: GraphQLContext,
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
  await auditPolicy(manager, context, 'policy.change.request', change.policy, null, {
    changeRequestId: request.globalId,
    kind: request.kind,
    reasons: request.reasons,
    proposedRules,
  });
  return request;
}

const CLOSING_ACTIONS = {
  [PolicyChangeStatus.SUPERSEDED]: 'policy.change.supersede',
  [PolicyChangeStatus.APPROVED]: 'policy.change.approve',
  [PolicyChangeStatus.REJECTED]: 'policy.change.reject',
  [PolicyChangeStatus.WITHDRAWN]: 'policy.change.withdraw',
} as const;

/** Decides a pending request (who, when, why) and audits it: every way a request ends goes through here. */
async function close(
  manager: EntityManager,
  context: GraphQLContext,
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
  );
  return Object.assign(request, changes);
}

/** A change applied (or a retirement, or an edited draft) makes the waiting request's base stale. */
export async function supersedePendingRequests(
  manager: EntityManager,
  context: GraphQLContext,
  policy: Policy,
  why: string,
): Promise<void> {
  const pending = await manager.findBy(PolicyChangeRequest, {
    policyId: policy.id,
    status: PolicyChangeStatus.PENDING,
  });
  for (const request of pending) await close(manager, context, policy, request, PolicyChangeStatus.SUPERSEDED, why);
}

async function findPending(manager: EntityManager, id: string) {
  const request = await findOrAbort(manager, PolicyChangeRequest, id, 'id', 'change request');
  if (request.status !== PolicyChangeStatus.PENDING) {
    throw new UserErrorsAbort([
      userError(['id'], UserErrorCode.INVALID_STATE, `the change request is ${request.status}, not PENDING`),
    ]);
  }
  return request;
}

/**
 * A second POLICY_AUTHOR or ADMIN applies a waiting change: the new version (or the activation)
 * and the request's closing are one transaction. `impact` is the simulation the reviewer was shown.
 */
export async function approvePolicyChange(
  manager: EntityManager,
  context: GraphQLContext,
  input: ApprovePolicyChangeInput,
  impact: object | null,
): Promise<PolicyChangeRequest> {
  const request = await findPending(manager, input.id);
  if (isAuthor(request, context)) {
    throw new UserErrorsAbort([
      userError(
        ['id'],
        UserErrorCode.FORBIDDEN,
        'the author of a change request cannot approve it: ask a second person',
      ),
    ]);
  }
  const { policy, version } = await findPolicyForChange(manager, encodeGlobalId('Policy', request.policyId));
  const expectedStatus = request.kind === PolicyChangeKind.ACTIVATE ? PolicyStatus.DRAFT : PolicyStatus.ACTIVE;
  if (version.id !== request.baseVersionId || policy.status !== expectedStatus) {
    throw new UserErrorsAbort([
      userError(['id'], UserErrorCode.INVALID_STATE, 'the policy changed since the request: propose it again'),
    ]);
  }
  const now = new Date();
  const approval = { approvedAt: now, approvedBy: context.actor, changeRequestId: request.id };
  let resultingVersionId: number;
  if (request.kind === PolicyChangeKind.ACTIVATE) {
    await activateApproved(manager, context, policy, version, approval);
    resultingVersionId = version.id;
  } else {
    const base = await readRules(manager, version);
    const errors: ReturnType<typeof userError>[] = [];
    // References are checked again: a region or model may have gone since the request.
    const resolved = await resolveRules(manager, rulesOfRequest(request, base, now), errors);
    if (errors.length) {
      throw new UserErrorsAbort(
        errors.map((error) =>
          userError(
            ['id'],
            error.code,
            `the proposal no longer holds (${error.field.slice(1).join('.')}): ${error.message}`,
          ),
        ),
      );
    }
    const next = await applyNewVersion(manager, context, policy, version, base, resolved, approval);
    resultingVersionId = next.id;
  }
  return close(manager, context, policy, request, PolicyChangeStatus.APPROVED, input.comment?.trim() ?? null, {
    impactAtApproval: impact,
    resultingVersionId,
  });
}

/** A reviewer turns a request down, or its author (or an ADMIN) takes it back; nothing else changes. */
export async function closePolicyChange(
  manager: EntityManager,
  context: GraphQLContext,
  input: ClosePolicyChangeInput,
  status: PolicyChangeStatus.REJECTED | PolicyChangeStatus.WITHDRAWN,
): Promise<PolicyChangeRequest> {
  const request = await findPending(manager, input.id);
  if (status === PolicyChangeStatus.WITHDRAWN && !isAuthor(request, context) && context.viewer?.role !== 'ADMIN') {
    throw new UserErrorsAbort([
      userError(['id'], UserErrorCode.FORBIDDEN, 'only its author or an ADMIN can withdraw a change request'),
    ]);
  }
  if (status === PolicyChangeStatus.REJECTED && isAuthor(request, context)) {
    throw new UserErrorsAbort([
      userError(['id'], UserErrorCode.FORBIDDEN, 'the author of a change request withdraws it instead of rejecting it'),
    ]);
  }
  const policy = await manager.findOneByOrFail(Policy, { id: request.policyId });
  return close(manager, context, policy, request, status, input.comment.trim());
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
