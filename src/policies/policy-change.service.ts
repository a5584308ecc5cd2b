import { EntityManager } from 'typeorm';
import { access } from '../auth/roles';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { encodeGlobalId } from '../common/global-id';
import { RequestScope } from '../common/request-scope';
import { Policy, PolicyStatus } from './policy.entity';
import { PolicyChangeKind, PolicyChangeRequest, PolicyChangeStatus } from './policy-change-request.entity';
import { PolicyAction, PolicyMode } from './policy-version.entity';
import {
  PolicyRules,
  activateApproved,
  findPolicyForChange,
  applyNewVersion,
  readRules,
  resolveRules,
} from './policy.service';
import { ApprovePolicyChangeInput, ClosePolicyChangeInput } from './policy.types';
import { close, findPending, isAuthor } from './policy-change-request.service';
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

const AUTHOR_CANNOT_APPROVE = 'the author of a change request cannot approve it: ask a second person';

/**
 * Why approvePolicyChange would refuse this caller, in the words it would use; null when it would
 * not (a reviewer's screen knows before the click). The policy having changed underneath the request
 * is found at approval only.
 */
export function approvalRefusal(request: PolicyChangeRequest, context: RequestScope): string | null {
  const role = context.viewer?.role;
  if (!role || !(access.reviewPolicyChanges as readonly string[]).includes(role))
    return `a ${role ?? 'anonymous'} key may not use Mutation.approvePolicyChange`;
  if (request.status !== PolicyChangeStatus.PENDING) return `the change request is ${request.status}, not PENDING`;
  if (isAuthor(request, context)) return AUTHOR_CANNOT_APPROVE;
  return null;
}

/**
 * A second POLICY_AUTHOR or ADMIN applies a waiting change: the new version (or the activation)
 * and the request's closing are one transaction. `impact` is the simulation the reviewer was shown.
 */
export async function approvePolicyChange(
  manager: EntityManager,
  context: RequestScope,
  input: ApprovePolicyChangeInput,
  impact: object | null,
): Promise<PolicyChangeRequest> {
  const request = await findPending(manager, input.id);
  if (isAuthor(request, context))
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.FORBIDDEN, AUTHOR_CANNOT_APPROVE)]);
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
  context: RequestScope,
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
