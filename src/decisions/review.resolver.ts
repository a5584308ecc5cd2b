import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { ActivationAttempt, ReviewStatus } from '../activations/activation-attempt.entity';
import { ActivationAttemptConnection } from '../activations/activation-attempt.types';
import { SortDirection } from '../common/connection';
import { ConnectionArgs } from '../common/connection-args';
import { runMutation } from '../common/mutation';
import { MutationPayload } from '../common/payload';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { ResolveReviewInput, ReviewQueueFilter, UnlockDeviceInput } from './decision.types';
import { filterReviewQueue, resolveReview, unlockDevice } from './review.service';

export const ResolveReviewPayload = MutationPayload(ActivationAttempt, 'attempt', 'resolveReview');
export const UnlockDevicePayload = MutationPayload(Device, 'device', 'unlockDevice');

@Resolver()
export class ReviewResolver {
  @Authorized(access.readReviews)
  @Query(() => ActivationAttemptConnection, { description: 'Attempts waiting for a person to decide, oldest first.' })
  async reviewQueue(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ReviewQueueFilter, { nullable: true, description: 'Conditions the reviews must meet.' })
    filter: ReviewQueueFilter | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    const qb = context.dataSource
      .getRepository(ActivationAttempt)
      .createQueryBuilder('attempt')
      .where('attempt.reviewStatus = :open', { open: ReviewStatus.OPEN });
    if (filter) await filterReviewQueue(context, qb, filter);
    return paginateQuery(
      qb,
      { property: 'occurredAt', direction: SortDirection.ASC, valueOf: (attempt) => attempt.occurredAt },
      window,
    );
  }

  @Authorized(access.resolveDeviceStatus)
  @Mutation(() => ResolveReviewPayload, {
    description: 'Resolves a REVIEW decision: allow the device, or lock it. Audited.',
  })
  resolveReview(
    @Arg('input', () => ResolveReviewInput, { description: 'The resolution.' }) input: ResolveReviewInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => resolveReview(manager, context, input));
  }

  @Authorized(access.resolveDeviceStatus)
  @Mutation(() => UnlockDevicePayload, { description: 'Unlocks a LOCKED device; the reason is required and audited.' })
  unlockDevice(
    @Arg('input', () => UnlockDeviceInput, { description: 'The device and why.' }) input: UnlockDeviceInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => unlockDevice(manager, context, input));
  }
}
