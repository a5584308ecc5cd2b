import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { paginateArray } from '../common/connection';
import { ConnectionArgs } from '../common/connection-args';
import { runRuleChange } from '../decisions/rule-change';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { DeviceModel } from '../device-models/device-model.entity';
import { DeviceModelConnection, deviceModelSort } from '../device-models/device-model.types';
import { Region } from '../regions/region.entity';
import { RegionConnection, regionSort } from '../regions/region.types';
import { Policy, PolicyStatus } from './policy.entity';
import { LocalizedMessage, PolicyAction, PolicyMode, PolicyVersion } from './policy-version.entity';
import { lockMessageFor } from './lock-message';
import { activatePolicy, createPolicy, queryPolicies, retirePolicy, updatePolicy } from './policy.service';
import {
  ActivatePolicyInput,
  ActivatePolicyPayload,
  CreatePolicyInput,
  CreatePolicyPayload,
  PolicyConnection,
  PolicyFilter,
  PolicyOrder,
  PolicyVersionConnection,
  RetirePolicyInput,
  RetirePolicyPayload,
  UpdatePolicyInput,
  UpdatePolicyPayload,
  policySort,
  versionSort,
} from './policy.types';

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
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    return paginateQuery(await queryPolicies(context, filter), policySort(orderBy), window);
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
    return runRuleChange(context, input, (manager) => createPolicy(manager, context, input));
  }

  @Authorized(access.writePolicies)
  @Mutation(() => UpdatePolicyPayload, {
    description: 'Changes a policy: a DRAFT in place; an ACTIVE policy through a new immutable version.',
  })
  updatePolicy(
    @Arg('input', () => UpdatePolicyInput, { description: 'The changes.' }) input: UpdatePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runRuleChange(context, input, (manager) => updatePolicy(manager, context, input));
  }

  @Authorized(access.writePolicies)
  @Mutation(() => ActivatePolicyPayload, {
    description: 'Makes a DRAFT policy ACTIVE: it applies to decisions from now on.',
  })
  activatePolicy(
    @Arg('input', () => ActivatePolicyInput, { description: 'The policy.' }) input: ActivatePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runRuleChange(context, input, (manager) => activatePolicy(manager, context, input));
  }

  @Authorized(access.writePolicies)
  @Mutation(() => RetirePolicyPayload, {
    description: 'Retires a policy: it no longer applies; its versions stay for history.',
  })
  retirePolicy(
    @Arg('input', () => RetirePolicyInput, { description: 'The policy and why.' }) input: RetirePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runRuleChange(context, input, (manager) => retirePolicy(manager, context, input));
  }

  @FieldResolver(() => PolicyVersion, { description: 'The version in force (the draft, for a DRAFT policy).' })
  currentVersion(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return context.loaders.policyVersionById.load(policy.currentVersionId!);
  }

  @FieldResolver(() => String, { description: 'Title of the current version.' })
  async title(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return (await this.currentVersion(policy, context))!.title;
  }

  @FieldResolver(() => PolicyAction, { description: 'Action of the current version.' })
  async action(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return (await this.currentVersion(policy, context))!.action;
  }

  @FieldResolver(() => PolicyMode, { description: 'Mode of the current version.' })
  async mode(@Root() policy: Policy, @Ctx() context: GraphQLContext) {
    return (await this.currentVersion(policy, context))!.mode;
  }

  @FieldResolver(() => RegionConnection, {
    description: 'Regions the current version covers; each covers its subdivisions too.',
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
    description: 'Policies whose current version covers this region, directly or through its country.',
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
    const policies = (await context.loaders.policyById.loadMany(versions.map((version) => version.policyId))).filter(
      (policy): policy is Policy =>
        policy instanceof Policy &&
        versionIds.has(policy.currentVersionId!) &&
        (!statuses || statuses.includes(policy.status)),
    );
    return paginateArray([...new Map(policies.map((policy) => [policy.id, policy])).values()], policySort(), window);
  }
}

export const policyResolvers = [PolicyResolver, PolicyVersionResolver, RegionPoliciesResolver] as const;
