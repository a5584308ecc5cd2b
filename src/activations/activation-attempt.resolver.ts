import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { ConnectionArgs } from '../common/connection-args';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import { ActivationAttempt } from './activation-attempt.entity';
import { queryAttempts, resolveAttemptFilter } from './activation-attempt.service';
import {
  ActivationAttemptConnection,
  ActivationAttemptFilter,
  ActivationAttemptOrder,
  attemptSort,
} from './activation-attempt.types';

@Resolver(() => ActivationAttempt)
export class ActivationAttemptResolver {
  @Authorized(access.readAttempts)
  @Query(() => ActivationAttemptConnection, {
    description: 'Activation attempts with their decisions, filtered and paged; newest first by default.',
  })
  async activationAttempts(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ActivationAttemptFilter, { nullable: true, description: 'Conditions the attempts must meet.' })
    filter: ActivationAttemptFilter | null,
    @Arg('orderBy', () => ActivationAttemptOrder, {
      nullable: true,
      description: 'Order of the list; newest occurrence first by default.',
    })
    orderBy: ActivationAttemptOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    const resolved = await resolveAttemptFilter(context, filter);
    return paginateQuery(queryAttempts(context.dataSource, resolved), attemptSort(orderBy), window);
  }

  @FieldResolver(() => Device, { description: 'The device that tried to activate.' })
  async device(@Root() attempt: ActivationAttempt, @Ctx() context: GraphQLContext) {
    return context.loaders.deviceById.load(attempt.deviceId);
  }

  @FieldResolver(() => Region, {
    nullable: true,
    description: 'The most specific region resolved; null when none could be.',
  })
  resolvedRegion(@Root() attempt: ActivationAttempt, @Ctx() context: GraphQLContext) {
    return attempt.resolvedRegionId === null ? null : context.loaders.regionById.load(attempt.resolvedRegionId);
  }

  @FieldResolver(() => PolicyVersion, {
    nullable: true,
    description: 'The policy version that decided the outcome; null when no policy applied.',
  })
  policyVersion(@Root() attempt: ActivationAttempt, @Ctx() context: GraphQLContext) {
    return attempt.policyVersionId === null ? null : context.loaders.policyVersionById.load(attempt.policyVersionId);
  }
}
