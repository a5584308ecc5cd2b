import { runMutation } from '../common/mutation';
import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { createExemption, revokeExemption } from './exemption.service';
import { ConnectionArgs } from '../common/connection-args';
import { BadUserInputError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { Exemption } from './exemption.entity';
import {
  CreateExemptionInput,
  CreateExemptionPayload,
  ExemptionConnection,
  ExemptionFilter,
  ExemptionOrder,
  RevokeExemptionInput,
  RevokeExemptionPayload,
  exemptionSort,
} from './exemption.types';

@Resolver(() => Exemption)
export class ExemptionResolver {
  @Authorized(access.readExemptions)
  @Query(() => ExemptionConnection, { description: 'Exemptions from policies, newest first.' })
  async exemptions(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ExemptionFilter, { nullable: true, description: 'Conditions the exemptions must meet.' })
    filter: ExemptionFilter | null,
    @Arg('orderBy', () => ExemptionOrder, {
      nullable: true,
      description: 'Order of the list; newest first by default.',
    })
    orderBy: ExemptionOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    const qb = context.dataSource.getRepository(Exemption).createQueryBuilder('exemption');
    if (filter?.policyKey) {
      const policy = await context.loaders.policyByKey.load(filter.policyKey);
      if (!policy) throw new BadUserInputError('filter.policyKey', `no policy has key "${filter.policyKey}"`);
      qb.andWhere('exemption.policyId = :policyId', { policyId: policy.id });
    }
    for (const [field, typeName] of [
      ['deviceId', 'Device'],
      ['partnerId', 'Partner'],
    ] as const) {
      const globalId = filter?.[field];
      if (!globalId) continue;
      const rowId = rowIdOf(globalId, typeName);
      if (rowId === null) throw new BadUserInputError(`filter.${field}`, `is not a ${typeName.toLowerCase()} ID`);
      qb.andWhere(`exemption.${field} = :${field}`, { [field]: rowId });
    }
    if (filter?.activeOnly) {
      qb.andWhere('exemption.revokedAt IS NULL').andWhere(
        '(exemption.expiresAt IS NULL OR exemption.expiresAt > :now)',
        {
          now: new Date(),
        },
      );
    }
    return paginateQuery(qb, exemptionSort(orderBy), window);
  }

  @Authorized(access.writeExemptions)
  @Mutation(() => CreateExemptionPayload, {
    description:
      'Exempts a device or a partner from a policy: its attempts are allowed with a reason code naming the exemption.',
  })
  createExemption(
    @Arg('input', () => CreateExemptionInput, { description: 'The exemption.' }) input: CreateExemptionInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => createExemption(manager, context, input), { changesRules: true });
  }

  @Authorized(access.writeExemptions)
  @Mutation(() => RevokeExemptionPayload, { description: 'Ends an exemption now.' })
  revokeExemption(
    @Arg('input', () => RevokeExemptionInput, { description: 'The exemption and why.' }) input: RevokeExemptionInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => revokeExemption(manager, context, input), { changesRules: true });
  }

  @FieldResolver(() => Policy, { description: 'The policy the exemption is from.' })
  policy(@Root() exemption: Exemption, @Ctx() context: GraphQLContext) {
    return context.loaders.policyById.load(exemption.policyId);
  }

  @FieldResolver(() => Device, {
    nullable: true,
    description: 'The exempt device; null when a whole partner is exempt.',
  })
  device(@Root() exemption: Exemption, @Ctx() context: GraphQLContext) {
    return exemption.deviceId === null ? null : context.loaders.deviceById.load(exemption.deviceId);
  }

  @FieldResolver(() => Partner, { nullable: true, description: 'The exempt partner; null when one device is exempt.' })
  partner(@Root() exemption: Exemption, @Ctx() context: GraphQLContext) {
    return exemption.partnerId === null ? null : context.loaders.partnerById.load(exemption.partnerId);
  }
}
