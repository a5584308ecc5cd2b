import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { access } from '../auth/roles';
import { GraphQLContext } from '../context';
import { lockedDeviceStats, reviewQueueStats } from './current-state.service';
import {
  DeviceScopeFilter,
  LockedDevicesGroupBy,
  LockedDevicesRow,
  LockedDeviceStats,
  ReviewQueueGroupBy,
  ReviewQueueRow,
  ReviewQueueStats,
} from './current-state.types';
import { ReportGroupsResolver } from './report-groups.resolver';

@Resolver(() => LockedDevicesRow)
export class LockedDeviceStatsResolver extends ReportGroupsResolver(
  LockedDevicesRow,
  'The policy that locked them (its decision or its sweep), when grouped by POLICY.',
) {
  @Authorized(access.readReports)
  @Query(() => LockedDeviceStats, {
    description:
      'The devices locked now, by the region and policy that locked them, by cause, model or partner, with the oldest lock. A partner sees its own devices only.',
  })
  lockedDeviceStats(
    @Arg('filter', () => DeviceScopeFilter, { defaultValue: {}, description: 'Which locked devices to count.' })
    filter: DeviceScopeFilter,
    @Arg('groupBy', () => [LockedDevicesGroupBy], {
      defaultValue: [],
      description: 'What to break the counts down by.',
    })
    groupBy: LockedDevicesGroupBy[],
    @Ctx() context: GraphQLContext,
  ) {
    return lockedDeviceStats(context, filter, groupBy);
  }
}

@Resolver(() => ReviewQueueRow)
export class ReviewQueueStatsResolver extends ReportGroupsResolver(
  ReviewQueueRow,
  'The policy that sent the activations to review, when grouped by POLICY.',
) {
  @Authorized(access.readReviews)
  @Query(() => ReviewQueueStats, {
    description:
      'The open review queue now: how many activations wait for a person and how long, by region, policy, model or partner.',
  })
  reviewQueueStats(
    @Arg('filter', () => DeviceScopeFilter, { defaultValue: {}, description: 'Which open reviews to count.' })
    filter: DeviceScopeFilter,
    @Arg('groupBy', () => [ReviewQueueGroupBy], { defaultValue: [], description: 'What to break the counts down by.' })
    groupBy: ReviewQueueGroupBy[],
    @Ctx() context: GraphQLContext,
  ) {
    return reviewQueueStats(context, filter, groupBy);
  }
}
