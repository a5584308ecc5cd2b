import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { access } from '../auth/roles';
import { ConnectionArgs } from '../common/connection-args';
import { rowIdOf } from '../common/global-id';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { DeviceModel } from '../device-models/device-model.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { Region } from '../regions/region.entity';
import { Sweep } from './sweep.entity';
import { PREVIEW_SAMPLE_SIZE, breakdownCounts, controlSweep, startSweep } from './sweep-control';
import {
  CancelSweepPayload,
  PauseSweepPayload,
  ResumeSweepPayload,
  StartSweepInput,
  StartSweepPayload,
  SweepBreakdownCounts,
  SweepConnection,
  SweepControlInput,
  SweepFilter,
  SweepModelCount,
  SweepPartnerCount,
  SweepPreview,
  SweepRegionCount,
  sweepSort,
} from './sweep.types';

@Resolver(() => Sweep)
export class SweepResolver {
  @Authorized(access.readSweeps)
  @Query(() => Sweep, { nullable: true, description: 'A sweep and its progress; null when there is none.' })
  sweep(@Arg('id', () => ID, { description: 'Global ID of the sweep.' }) id: string, @Ctx() context: GraphQLContext) {
    const rowId = rowIdOf(id, 'Sweep');
    return rowId === null ? null : context.loaders.sweepById.load(rowId);
  }

  @Authorized(access.readSweeps)
  @Query(() => SweepConnection, { description: 'Sweeps, newest first.' })
  sweeps(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => SweepFilter, { nullable: true, description: 'Conditions the sweeps must meet.' })
    filter: SweepFilter | null,
    @Ctx() context: GraphQLContext,
  ) {
    const query = context.dataSource.getRepository(Sweep).createQueryBuilder('sweep');
    if (filter?.statuses)
      query.andWhere('sweep.status IN (:...statuses)', { statuses: filter.statuses.length ? filter.statuses : [''] });
    return paginateQuery(query, sweepSort, context.pageWindow(page));
  }

  @Authorized(access.runSweeps)
  @Mutation(() => StartSweepPayload, {
    description:
      'Re-screens devices after a policy change: a dry run counts what it would change and writes nothing; a real ' +
      'run works in batches in the background (see `sweep(id:)`), can be paused, resumed and cancelled, and ' +
      'carries on after a restart. Every device it changes gets an audit event and a status history entry.',
  })
  async startSweep(
    @Arg('input', () => StartSweepInput, { description: 'The policy, the action and whether to dry-run.' })
    input: StartSweepInput,
    @Ctx() context: GraphQLContext,
  ): Promise<StartSweepPayload> {
    const { result, userErrors } = await startSweep(context, context.services, input);
    if (result?.sweep) context.services.sweeps.wake();
    return { sweep: result?.sweep ?? null, preview: result?.preview ?? null, userErrors };
  }

  @Authorized(access.runSweeps)
  @Mutation(() => PauseSweepPayload, { description: 'Pauses a running sweep after the batch in flight.' })
  pauseSweep(
    @Arg('input', () => SweepControlInput, { description: 'The sweep.' }) input: SweepControlInput,
    @Ctx() context: GraphQLContext,
  ) {
    return this.control(context, input, 'pause');
  }

  @Authorized(access.runSweeps)
  @Mutation(() => ResumeSweepPayload, { description: 'Resumes a paused sweep where it left off.' })
  async resumeSweep(
    @Arg('input', () => SweepControlInput, { description: 'The sweep.' }) input: SweepControlInput,
    @Ctx() context: GraphQLContext,
  ) {
    const outcome = await this.control(context, input, 'resume');
    if (outcome.result) context.services.sweeps.wake();
    return outcome;
  }

  @Authorized(access.runSweeps)
  @Mutation(() => CancelSweepPayload, { description: 'Stops a sweep for good; the batches done stay done.' })
  cancelSweep(
    @Arg('input', () => SweepControlInput, { description: 'The sweep.' }) input: SweepControlInput,
    @Ctx() context: GraphQLContext,
  ) {
    return this.control(context, input, 'cancel');
  }

  private control(context: GraphQLContext, input: SweepControlInput, change: 'pause' | 'resume' | 'cancel') {
    return controlSweep(context, input, change);
  }

  @FieldResolver(() => Policy, { description: 'The policy it carries out.' })
  policy(@Root() sweep: Sweep, @Ctx() context: GraphQLContext) {
    return context.loaders.policyById.load(sweep.policyId);
  }

  @FieldResolver(() => SweepBreakdownCounts, { description: 'The devices changed so far, counted.' })
  breakdown(@Root() sweep: Sweep): SweepBreakdownCounts {
    return breakdownCounts(sweep.breakdown);
  }
}

@Resolver(() => SweepPreview)
export class SweepPreviewResolver {
  @FieldResolver(() => [Device], { description: `Up to ${PREVIEW_SAMPLE_SIZE} devices it would change.` })
  async sampleDevices(@Root() preview: SweepPreview, @Ctx() context: GraphQLContext) {
    return (await context.loaders.deviceById.loadMany(preview.sampleDeviceIds)).filter(
      (device): device is Device => device instanceof Device,
    );
  }
}

@Resolver(() => SweepRegionCount)
export class SweepRegionCountResolver {
  @FieldResolver(() => Region, {
    description: 'The region the sweep judged the devices in: where each was activated, or locked.',
  })
  region(@Root() count: SweepRegionCount, @Ctx() context: GraphQLContext) {
    return context.loaders.regionById.load(count.key);
  }
}

@Resolver(() => SweepModelCount)
export class SweepModelCountResolver {
  @FieldResolver(() => DeviceModel, { description: "The devices' model." })
  model(@Root() count: SweepModelCount, @Ctx() context: GraphQLContext) {
    return context.loaders.deviceModelById.load(count.key);
  }
}

@Resolver(() => SweepPartnerCount)
export class SweepPartnerCountResolver {
  @FieldResolver(() => Partner, { description: 'The partner the devices belong to.' })
  partner(@Root() count: SweepPartnerCount, @Ctx() context: GraphQLContext) {
    return context.loaders.partnerById.load(count.key);
  }
}

export const sweepResolvers = [
  SweepResolver,
  SweepPreviewResolver,
  SweepRegionCountResolver,
  SweepModelCountResolver,
  SweepPartnerCountResolver,
] as const;
