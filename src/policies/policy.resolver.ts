import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { paginateArray } from '../common/connection';
import { ConnectionArgs } from '../common/connection-args';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { DeviceModel } from '../device-models/device-model.entity';
import { DeviceModelConnection, deviceModelSort } from '../device-models/device-model.types';
import { Region } from '../regions/region.entity';
import { RegionConnection, regionSort } from '../regions/region.types';
import { Policy, PolicyStatus } from './policy.entity';
import { LocalizedMessage, PolicyAction, PolicyMode, PolicyVersion } from './policy-version.entity';
import { lockMessageFor } from './lock-message';
import {
  PolicyChangeOutcome,
  activatePolicy,
  createPolicy,
  queryPolicies,
  retirePolicy,
  updatePolicy,
} from './policy.service';
import { MutationOutcome, runMutation } from '../common/mutation';
import { BadUserInputError } from '../common/errors';
import { asOfCopy, describedVersion, scheduledVersion, versionInForceAt } from './policy-history';
import { PolicyChangeStatus } from './policy-change-request.entity';
import { queryChangeRequests } from './policy-change-request.service';
import {
  ActivatePolicyInput,
  ActivatePolicyPayload,
  CreatePolicyInput,
  CreatePolicyPayload,
  PolicyConnection,
  PolicyFilter,
  PolicyOrder,
  PolicyChangeRequestConnection,
  PolicyVersionConnection,
  RetirePolicyInput,
  changeRequestSort,
  RetirePolicyPayload,
  UpdatePolicyInput,
  UpdatePolicyPayload,
  policySort,
  versionSort,
} from './policy.types';

function changePayload(outcome: MutationOutcome<PolicyChangeOutcome>) {
  return {
    policy: outcome.result?.policy ?? null,
    changeRequest: outcome.result?.changeRequest ?? null,
    userErrors: outcome.userErrors,
  };
}

async function regionNamed(context: GraphQLContext, code: string): Promise<Region> {
  const region = await context.loaders.regionByCode.load(code.trim().toUpperCase());
  if (!region) throw new BadUserInputError('filter.coversRegionCode', `unknown region code "${code}"`);
  return region;
}

/** Whether a version covers a region, directly or through the region's country. */
async function coversRegion(context: GraphQLContext, version: PolicyVersion, region: Region): Promise<boolean> {
  const regionIds = await context.loaders.regionIdsByVersion.load(version.id);
  return regionIds.includes(region.id) || (region.parentId !== null && regionIds.includes(region.parentId));
}

async function regionsOfVersion(context: GraphQLContext, version: PolicyVersion) {
  const regionIds = await context.loaders.regionIdsByVersion.load(version.id);
  return (await context.loaders.regionById.loadMany(regionIds)).filter(
    (region): region is Region => region instanceof Region,
  );
}

async function modelsOfVersion(context: GraphQLContext, version: PolicyVersion) {
  const modelIds = await context.loaders.modelIdsByVersion.load(version.id);
  return (await context.loaders.deviceModelById.loadMany(modelIds)).filter(
    (model): model is DeviceModel => model instanceof DeviceModel,
  );
}

/**
 * Which version the policy's own fields (title, action, mode, regions) read, said once for all of
 * them: describedVersion in policy-history.ts.
 */
const AS_DESCRIBED =
  'as the version in force says: now, or at the as-of instant the policy was read for. When none is in force now ' +
  "(a DRAFT, a policy whose first version waits for its effectiveFrom, or one no longer in force), the latest version's.";

@Resolver(() => Policy)
export class PolicyResolver {
  @Authorized(access.readReferenceData)
  @Query(() => PolicyConnection, { description: 'Export policies, filtered and paged.' })
  async policies(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => PolicyFilter, { nullable: true, description: 'Conditions the policies must meet.' })
    filter: PolicyFilter | null,
    @Arg('orderBy', () => PolicyOrder, { nullable: true, description: 'Order of the list; by key by default.' })
    orderBy: PolicyOrder | null,
    @Arg('asOf', () => Date, {
      nullable: true,
      description:
        'An instant (past or future): only policies with a version in force then, each described by that version. ' +
        'The filter applies to that version; statuses are those of today. Without it, the filter applies to the ' +
        "version the policy's fields describe (in force now, or the latest when none is).",
    })
    asOf: Date | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    const query = queryPolicies(context, filter);
    const onVersions = filter?.actions || filter?.modes || filter?.coversRegionCode;
    if (!asOf && !onVersions) return paginateQuery(query, policySort(orderBy), window);
    // Conditions on what a policy says apply to the version its fields describe — in force now, or
    // at the as-of instant — which SQL cannot pick cheaply; policies are few.
    const region = filter?.coversRegionCode ? await regionNamed(context, filter.coversRegionCode) : null;
    if (asOf) query.andWhere('policy.status <> :draft', { draft: PolicyStatus.DRAFT });
    const candidates = await query.getMany();
    const versions = await Promise.all(
      candidates.map((policy) => (asOf ? versionInForceAt(context, policy, asOf) : describedVersion(context, policy))),
    );
    const matching: Policy[] = [];
    for (const [index, version] of versions.entries()) {
      if (!version) continue;
      if (filter?.actions && !filter.actions.includes(version.action)) continue;
      if (filter?.modes && !filter.modes.includes(version.mode)) continue;
      if (region && !(await coversRegion(context, version, region))) continue;
      matching.push(asOf ? asOfCopy(candidates[index], asOf) : candidates[index]);
    }
    return paginateArray(matching, policySort(orderBy), window);
  }

  @Authorized(access.readReferenceData)
  @Query(() => Policy, { nullable: true, description: 'The policy with this key.' })
  policy(@Arg('key', { description: "The policy's stable key." }) key: string, @Ctx() context: GraphQLContext) {
    return context.loaders.policyByKey.load(key.trim());
  }

  @Authorized(access.writePolicies)
  @Mutation(() => CreatePolicyPayload, { description: 'Creates a policy as a DRAFT with version 1.' })
  createPolicy(
    @Arg('input', () => CreatePolicyInput, { description: 'The new policy.' }) input: CreatePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => createPolicy(manager, context, input), { changesRules: true });
  }

  @Authorized(access.writePolicies)
  @Mutation(() => UpdatePolicyPayload, {
    description:
      'Changes a policy: a DRAFT in place; an ACTIVE policy through a new immutable version — at once when the ' +
      'change can lock no one (it narrows, or touches texts), otherwise as a change request a second ' +
      'POLICY_AUTHOR or ADMIN must approve.',
  })
  async updatePolicy(
    @Arg('input', () => UpdatePolicyInput, { description: 'The changes.' }) input: UpdatePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return changePayload(
      await runMutation(context, input, (manager) => updatePolicy(manager, context, input), { changesRules: true }),
    );
  }

  @Authorized(access.writePolicies)
  @Mutation(() => ActivatePolicyPayload, {
    description:
      'Makes a DRAFT policy ACTIVE: at once in MONITOR mode; in ENFORCE mode through a change request a second ' +
      'POLICY_AUTHOR or ADMIN must approve.',
  })
  async activatePolicy(
    @Arg('input', () => ActivatePolicyInput, { description: 'The policy.' }) input: ActivatePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return changePayload(
      await runMutation(context, input, (manager) => activatePolicy(manager, context, input), { changesRules: true }),
    );
  }

  @Authorized(access.writePolicies)
  @Mutation(() => RetirePolicyPayload, {
    description: 'Retires a policy: it no longer applies; its versions stay for history.',
  })
  retirePolicy(
    @Arg('input', () => RetirePolicyInput, { description: 'The policy and why.' }) input: RetirePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => retirePolicy(manager, context, input), { changesRules: true });
  }

  @FieldResolver(() => PolicyVersion, {
    description:
      'The version in force now — or at the as-of instant the policy was read for. For a DRAFT, and for a policy ' +
      'not in force now, its latest version.',
    deprecationReason:
      'Not always current: when no version is in force it is the latest one. Use `versionInForce` (null then) or ' +
      '`latestVersion`. Removal on or after 2027-03-01.',
  })
  currentVersion(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return describedVersion(context, policy);
  }

  @FieldResolver(() => PolicyVersion, {
    nullable: true,
    description:
      'The version in force now — or at the as-of instant the policy was read for; null for a DRAFT and when none ' +
      'is in force (not yet, or no longer).',
  })
  versionInForce(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return versionInForceAt(context, policy, policy.asOf ?? new Date());
  }

  @FieldResolver(() => PolicyVersion, {
    description: 'The newest version, approved or not, whether in force or not: what the next change starts from.',
  })
  async latestVersion(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return (await context.loaders.policyVersionById.load(policy.latestVersionId!))!;
  }

  @FieldResolver(() => PolicyVersion, {
    nullable: true,
    description: 'An approved version that takes over later by itself, at its effectiveFrom; null when none.',
  })
  scheduledVersion(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return scheduledVersion(context, policy);
  }

  @Authorized(access.readPolicyChanges)
  @FieldResolver(() => PolicyChangeRequestConnection, { description: "The policy's change requests, newest first." })
  changeRequests(
    @Root() policy: Policy,
    @Args() page: ConnectionArgs,
    @Arg('statuses', () => [PolicyChangeStatus], { nullable: true, description: 'Only requests in these states.' })
    statuses: PolicyChangeStatus[] | null,
    @Ctx() context: GraphQLContext,
  ) {
    const query = queryChangeRequests(context.dataSource.manager, { statuses }).andWhere(
      'request.policyId = :policyId',
      { policyId: policy.id },
    );
    return paginateQuery(query, changeRequestSort, context.pageWindow(page));
  }

  @FieldResolver(() => String, { description: `The title, ${AS_DESCRIBED}` })
  async title(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return (await this.currentVersion(policy, context))!.title;
  }

  @FieldResolver(() => PolicyAction, {
    description: `What the policy does to a device it applies to (LOCK or REVIEW), ${AS_DESCRIBED}`,
  })
  async action(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return (await this.currentVersion(policy, context))!.action;
  }

  @FieldResolver(() => PolicyMode, {
    description: `Whether the policy acts (ENFORCE) or only records what it would do (MONITOR), ${AS_DESCRIBED}`,
  })
  async mode(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return (await this.currentVersion(policy, context))!.mode;
  }

  @FieldResolver(() => RegionConnection, {
    description: `Regions the policy covers, each with its subdivisions, ${AS_DESCRIBED}`,
  })
  async regions(@Root() policy: Policy, @Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    const window = context.pageWindow(page);
    const version = await this.currentVersion(policy, context);
    return paginateArray(version ? await regionsOfVersion(context, version) : [], regionSort(), window);
  }

  @FieldResolver(() => PolicyVersionConnection, { description: 'Every version of the policy, newest first.' })
  async versions(@Root() policy: Policy, @Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    const window = context.pageWindow(page);
    return paginateArray(await context.loaders.policyVersionsByPolicy.load(policy.id), versionSort, window);
  }
}

@Resolver(() => PolicyVersion)
export class PolicyVersionResolver {
  @FieldResolver(() => Policy, { description: 'The policy this is a version of.' })
  policy(@Root() version: PolicyVersion, @Ctx() context: GraphQLContext) {
    return context.loaders.policyById.load(version.policyId);
  }

  @FieldResolver(() => RegionConnection, {
    description: 'Regions the version covers; each covers its subdivisions too.',
  })
  async regions(@Root() version: PolicyVersion, @Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    const window = context.pageWindow(page);
    return paginateArray(await regionsOfVersion(context, version), regionSort(), window);
  }

  @FieldResolver(() => DeviceModelConnection, {
    description: 'Models the version is limited to; empty means every model.',
  })
  async productScope(@Root() version: PolicyVersion, @Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    const window = context.pageWindow(page);
    return paginateArray(await modelsOfVersion(context, version), deviceModelSort(), window);
  }

  @FieldResolver(() => String, {
    description: 'The lock message in `locale`, falling back to its language, then English.',
  })
  localizedLockMessage(
    @Root() version: PolicyVersion,
    @Arg('locale', () => String, { nullable: true, description: 'BCP 47 tag, e.g. `ru`.' }) locale: string | null,
  ) {
    return lockMessageFor(version, locale);
  }

  @FieldResolver(() => [LocalizedMessage], { description: 'The lock message in every language besides English.' })
  lockMessageTranslations(@Root() version: PolicyVersion): LocalizedMessage[] {
    return Object.entries(version.lockMessageTranslations)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([locale, text]) => ({ locale, text }));
  }
}

@Resolver(() => Region)
export class RegionPoliciesResolver {
  @FieldResolver(() => PolicyConnection, {
    description:
      'Policies that cover this region, directly or through its country, by the version their fields describe (in ' +
      'force now, or the latest when none is); for a region read as of an instant, those whose version in force ' +
      'then covers it.',
  })
  async policies(
    @Root() region: Region,
    @Args() page: ConnectionArgs,
    @Arg('statuses', () => [PolicyStatus], { nullable: true, description: 'Only policies in one of these states.' })
    statuses: PolicyStatus[] | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    const coveringRegionIds = region.parentId === null ? [region.id] : [region.id, region.parentId];
    const versionIds = new Set(
      (await context.loaders.versionIdsByRegion.loadMany(coveringRegionIds)).flat() as number[],
    );
    const versions = (await context.loaders.policyVersionById.loadMany([...versionIds])).filter(
      (version): version is PolicyVersion => version instanceof PolicyVersion,
    );
    const candidates = (await context.loaders.policyById.loadMany(versions.map((version) => version.policyId))).filter(
      (policy): policy is Policy => policy instanceof Policy && (!statuses || statuses.includes(policy.status)),
    );
    const unique = [...new Map(candidates.map((policy) => [policy.id, policy])).values()];
    const read = region.asOf ? unique.map((policy) => asOfCopy(policy, region.asOf!)) : unique;
    const described = await Promise.all(
      read.map((policy) =>
        policy.asOf ? versionInForceAt(context, policy, policy.asOf) : describedVersion(context, policy),
      ),
    );
    const covering = read.filter((_policy, index) => described[index] && versionIds.has(described[index]!.id));
    return paginateArray(covering, policySort(), window);
  }
}

export const policyResolvers = [PolicyResolver, PolicyVersionResolver, RegionPoliciesResolver] as const;
