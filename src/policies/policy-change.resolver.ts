import {
  Arg,
  Args,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { access } from '../auth/roles';
import { ConnectionArgs } from '../common/connection-args';
import { findByGlobalId } from '../common/find-by-global-id';
import { runMutation } from '../common/mutation';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { PolicySimulation } from '../reports/report.types';
import { simulatePolicy } from '../reports/simulation.service';
import { Policy } from './policy.entity';
import { PolicyChangeRequest, PolicyChangeStatus } from './policy-change-request.entity';
import { PolicyAction, PolicyMode, PolicyVersion } from './policy-version.entity';
import { approvalRefusal, approvePolicyChange, closePolicyChange, simulationOfRequest } from './policy-change.service';
import { isAuthor, queryChangeRequests } from './policy-change-request.service';
import {
  ApprovePolicyChangeInput,
  ApprovePolicyChangePayload,
  ClosePolicyChangeInput,
  PolicyChangeRequestConnection,
  PolicyChangeRequestFilter,
  RejectPolicyChangePayload,
  WithdrawPolicyChangePayload,
  changeRequestSort,
} from './policy.types';

/** The window a reviewer's impact figures replay, ending now. */
const REVIEW_IMPACT_DAYS = 30;

@ObjectType({ description: 'The rules a change request proposes.' })
export class ProposedPolicyRules {
  @Field({ description: 'Short title.' })
  title: string;

  @Field(() => PolicyAction, { description: 'LOCK or REVIEW.' })
  action: PolicyAction;

  @Field(() => PolicyMode, { description: 'ENFORCE or MONITOR.' })
  mode: PolicyMode;

  @Field(() => Int, { description: 'Priority; higher wins.' })
  priority: number;

  @Field(() => Date, {
    nullable: true,
    description: 'When it would take effect; null: from the moment it is approved.',
  })
  effectiveFrom: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it would stop; null: never.' })
  effectiveUntil: Date | null;

  @Field(() => [String], { description: 'Region codes it would cover.' })
  regionCodes: string[];

  @Field(() => [String], { description: 'Device model codes in scope; empty for all models.' })
  productScope: string[];

  @Field({ description: 'The English lock message.' })
  lockMessage: string;
}

function impactWindow(now: Date) {
  return { from: new Date(now.getTime() - REVIEW_IMPACT_DAYS * 86_400_000), to: now };
}

async function impactOf(context: GraphQLContext, request: PolicyChangeRequest, window: { from: Date; to: Date }) {
  const policy = (await context.loaders.policyById.load(request.policyId))!;
  return simulatePolicy(context, await context.services.evaluator.current(), {
    policy: simulationOfRequest(request, policy.key),
    ...window,
  });
}

@Resolver(() => PolicyChangeRequest)
export class PolicyChangeRequestResolver {
  @Authorized(access.readPolicyChanges)
  @Query(() => PolicyChangeRequestConnection, { description: 'Policy change requests, newest first.' })
  policyChangeRequests(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => PolicyChangeRequestFilter, {
      nullable: true,
      description: 'Conditions the requests must meet.',
    })
    filter: PolicyChangeRequestFilter | null,
    @Ctx() context: GraphQLContext,
  ) {
    return paginateQuery(
      queryChangeRequests(context.dataSource.manager, filter),
      changeRequestSort,
      context.pageWindow(page),
    );
  }

  @Authorized(access.reviewPolicyChanges)
  @Mutation(() => ApprovePolicyChangePayload, {
    description:
      'Approves a waiting change request and applies it: a POLICY_AUTHOR or ADMIN other than its author. The ' +
      `simulated impact over the last ${REVIEW_IMPACT_DAYS} days is kept with the approval.`,
  })
  async approvePolicyChange(
    @Arg('input', () => ApprovePolicyChangeInput, { description: 'The request.' }) input: ApprovePolicyChangeInput,
    @Ctx() context: GraphQLContext,
  ) {
    // The replay reads many attempts: it runs before the transaction, which then checks the request again.
    const request = await findByGlobalId(context.dataSource.manager, PolicyChangeRequest, input.id);
    const impact =
      request?.status === PolicyChangeStatus.PENDING
        ? await impactOf(context, request, impactWindow(new Date()))
        : null;
    return runMutation(context, input, (manager) => approvePolicyChange(manager, context, input, impact), {
      changesRules: true,
    });
  }

  @Authorized(access.reviewPolicyChanges)
  @Mutation(() => RejectPolicyChangePayload, {
    description: 'Turns a waiting change request down (not its author: the author withdraws); nothing else changes.',
  })
  rejectPolicyChange(
    @Arg('input', () => ClosePolicyChangeInput, { description: 'The request and why.' }) input: ClosePolicyChangeInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) =>
      closePolicyChange(manager, context, input, PolicyChangeStatus.REJECTED),
    );
  }

  @Authorized(access.reviewPolicyChanges)
  @Mutation(() => WithdrawPolicyChangePayload, {
    description: 'Takes back a waiting change request: its author or an ADMIN; nothing else changes.',
  })
  withdrawPolicyChange(
    @Arg('input', () => ClosePolicyChangeInput, { description: 'The request and why.' }) input: ClosePolicyChangeInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) =>
      closePolicyChange(manager, context, input, PolicyChangeStatus.WITHDRAWN),
    );
  }

  @FieldResolver(() => Policy, { description: 'The policy it would change.' })
  policy(@Root() request: PolicyChangeRequest, @Ctx() context: GraphQLContext) {
    return context.loaders.policyById.load(request.policyId);
  }

  @FieldResolver(() => PolicyVersion, { description: 'The version it was proposed against (the draft, for ACTIVATE).' })
  baseVersion(@Root() request: PolicyChangeRequest, @Ctx() context: GraphQLContext) {
    return context.loaders.policyVersionById.load(request.baseVersionId);
  }

  @FieldResolver(() => PolicyVersion, { nullable: true, description: 'The version it made, once APPROVED.' })
  resultingVersion(@Root() request: PolicyChangeRequest, @Ctx() context: GraphQLContext) {
    return request.resultingVersionId === null
      ? null
      : context.loaders.policyVersionById.load(request.resultingVersionId);
  }

  @FieldResolver(() => ProposedPolicyRules, { description: 'The rules it proposes.' })
  proposed(@Root() request: PolicyChangeRequest): ProposedPolicyRules {
    const rules = request.proposedRules;
    return {
      ...rules,
      action: rules.action as PolicyAction,
      mode: rules.mode as PolicyMode,
      effectiveFrom: rules.effectiveFrom ? new Date(rules.effectiveFrom) : null,
      effectiveUntil: rules.effectiveUntil ? new Date(rules.effectiveUntil) : null,
    };
  }

  @Authorized(access.simulatePolicies)
  @FieldResolver(() => PolicySimulation, {
    description: `What it would change, replayed over recorded attempts now: the last ${REVIEW_IMPACT_DAYS} days unless a window is given.`,
  })
  impact(
    @Root() request: PolicyChangeRequest,
    @Arg('from', () => Date, { nullable: true, description: 'Replay attempts from this instant.' }) from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: 'Replay attempts before this instant.' }) to: Date | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = impactWindow(to ?? new Date());
    return impactOf(context, request, { from: from ?? window.from, to: window.to });
  }

  @FieldResolver(() => Boolean, {
    description:
      'Indicates whether the caller may approve it now: a POLICY_AUTHOR or ADMIN other than its author, while it is PENDING.',
  })
  viewerCanApprove(@Root() request: PolicyChangeRequest, @Ctx() context: GraphQLContext): boolean {
    return approvalRefusal(request, context) === null;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'Why approvePolicyChange would refuse the caller, in its own words (e.g. the author of a request cannot approve it); null when the caller may approve.',
  })
  viewerCannotApproveReason(@Root() request: PolicyChangeRequest, @Ctx() context: GraphQLContext): string | null {
    return approvalRefusal(request, context);
  }

  @FieldResolver(() => Boolean, {
    description: 'Indicates whether the caller may withdraw it now: its author or an ADMIN, while it is PENDING.',
  })
  viewerCanWithdraw(@Root() request: PolicyChangeRequest, @Ctx() context: GraphQLContext): boolean {
    return (
      request.status === PolicyChangeStatus.PENDING &&
      (context.viewer?.role === 'ADMIN' || (context.viewer?.role === 'POLICY_AUTHOR' && isAuthor(request, context)))
    );
  }

  @FieldResolver(() => PolicySimulation, {
    nullable: true,
    description: 'The impact the approver was shown, kept with the approval; null until APPROVED.',
  })
  impactAtApproval(@Root() request: PolicyChangeRequest): PolicySimulation | null {
    return request.impactAtApproval as PolicySimulation | null;
  }
}

export const policyChangeResolvers = [PolicyChangeRequestResolver] as const;
