import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { recordAuditEvent } from '../audit/audit.service';
import { access } from '../auth/roles';
import { ConnectionArgs } from '../common/connection-args';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { runMutation, validateInput } from '../common/mutation';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { DeviceModel } from '../device-models/device-model.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { Region } from '../regions/region.entity';
import { Sweep, SweepBreakdown, SweepStatus } from './sweep.entity';
import { lockSweep } from './sweep-runner';
import {
  candidateIds,
  countCandidates,
  countChange,
  emptyBreakdown,
  plannedChanges,
  sweepScope,
  sweepTransitions,
} from './sweep.service';
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
import { announceLive } from '../db/live-events';

const SAMPLE_SIZE = 20;
const PREVIEW_CHUNK = 1_000;

function countsOf(breakdown: SweepBreakdown): SweepBreakdownCounts {
  const rows = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([key, devices]) => ({ key: Number(key), devices }))
      .sort((a, b) => b.devices - a.devices || a.key - b.key);
  return { byRegion: rows(breakdown.byRegion), byModel: rows(breakdown.byModel), byPartner: rows(breakdown.byPartner) };
}

/** A dry run: every candidate judged exactly as a real run would judge it now, nothing written. */
async function previewSweep(context: GraphQLContext, input: StartSweepInput): Promise<SweepPreview> {
  const manager = context.dataSource.manager;
  const scope = await sweepScope(manager, await context.services.evaluator.current(), input.policyKey, input.action);
  const breakdown = emptyBreakdown();
  const preview: SweepPreview = {
    action: input.action,
    total: 0,
    changed: 0,
    breakdown: countsOf(breakdown),
    sampleDeviceIds: [],
  };
  const now = new Date();
  for (let after = 0; ;) {
    const ids = await candidateIds(manager, scope, after, PREVIEW_CHUNK);
    preview.total += ids.length;
    for (const change of await plannedChanges(manager, scope, ids, now)) {
      preview.changed += 1;
      countChange(breakdown, change);
      if (preview.sampleDeviceIds.length < SAMPLE_SIZE) preview.sampleDeviceIds.push(change.device.id);
    }
    if (ids.length < PREVIEW_CHUNK) break;
    after = ids[ids.length - 1];
  }
  preview.breakdown = countsOf(breakdown);
  return preview;
}

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
    if (input.dryRun) {
      const inputErrors = await validateInput(input);
      if (inputErrors.length) return { sweep: null, preview: null, userErrors: inputErrors };
      try {
        return { sweep: null, preview: await previewSweep(context, input), userErrors: [] };
      } catch (error) {
        if (error instanceof UserErrorsAbort) return { sweep: null, preview: null, userErrors: error.userErrors };
        throw error;
      }
    }
    const outcome = await runMutation(context, input, async (manager) => {
      const scope = await sweepScope(
        manager,
        await context.services.evaluator.current(),
        input.policyKey,
        input.action,
      );
      const running = await manager.findOneBy(Sweep, { policyId: scope.policy.id, status: SweepStatus.RUNNING });
      if (running) {
        throw new UserErrorsAbort([
          userError(['policyKey'], UserErrorCode.INVALID_STATE, `sweep ${running.globalId} is running for this policy`),
        ]);
      }
      const now = new Date();
      const sweep = await manager.save(
        manager.create(Sweep, {
          policyId: scope.policy.id,
          action: input.action,
          status: SweepStatus.RUNNING,
          note: input.note?.trim() ?? '',
          total: await countCandidates(manager, scope),
          processed: 0,
          changed: 0,
          failed: 0,
          breakdown: emptyBreakdown(),
          cursor: 0,
          leaseOwner: null,
          leaseUntil: null,
          startedBy: context.actor,
          startedAt: now,
          updatedAt: now,
          finishedAt: null,
        }),
      );
      await recordAuditEvent(manager, context, {
        action: 'sweep.start',
        targetType: 'Sweep',
        targetRowId: sweep.id,
        before: null,
        after: { policyKey: scope.policy.key, action: sweep.action, total: sweep.total, note: sweep.note },
      });
      return sweep;
    });
    if (outcome.result) context.services.sweeps.wake();
    return { sweep: outcome.result, preview: null, userErrors: outcome.userErrors };
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

  private control(context: GraphQLContext, input: SweepControlInput, change: keyof typeof sweepTransitions) {
    return runMutation(context, input, async (manager) => {
      // Read once, with the row lock the runner's batches take too.
      const rowId = rowIdOf(input.id, 'Sweep');
      const sweep = rowId === null ? null : await lockSweep(manager, rowId);
      if (!sweep) throw new UserErrorsAbort([userError(['id'], UserErrorCode.NOT_FOUND, 'no sweep has this ID')]);
      const { from, to } = sweepTransitions[change];
      if (!from.includes(sweep.status)) {
        throw new UserErrorsAbort([
          userError(['id'], UserErrorCode.INVALID_STATE, `a ${sweep.status} sweep cannot be ${change}d`),
        ]);
      }
      const now = new Date();
      const values: Partial<Sweep> = {
        status: to,
        updatedAt: now,
        // The runner stops at its next batch; a resumed sweep is claimed afresh.
        leaseOwner: null,
        leaseUntil: null,
        ...(to === SweepStatus.CANCELLED ? { finishedAt: now } : {}),
      };
      await manager.update(Sweep, { id: sweep.id }, values);
      await announceLive(manager, { kind: 'sweep', sweepId: sweep.id });
      await recordAuditEvent(manager, context, {
        action: `sweep.${change}`,
        targetType: 'Sweep',
        targetRowId: sweep.id,
        before: { status: sweep.status },
        after: { status: to, processed: sweep.processed, changed: sweep.changed },
      });
      return Object.assign(sweep, values);
    });
  }

  @FieldResolver(() => Policy, { description: 'The policy it carries out.' })
  policy(@Root() sweep: Sweep, @Ctx() context: GraphQLContext) {
    return context.loaders.policyById.load(sweep.policyId);
  }

  @FieldResolver(() => SweepBreakdownCounts, { description: 'The devices changed so far, counted.' })
  breakdown(@Root() sweep: Sweep): SweepBreakdownCounts {
    return countsOf(sweep.breakdown);
  }
}

@Resolver(() => SweepPreview)
export class SweepPreviewResolver {
  @FieldResolver(() => [Device], { description: `Up to ${SAMPLE_SIZE} devices it would change.` })
  async sampleDevices(@Root() preview: SweepPreview, @Ctx() context: GraphQLContext) {
    return (await context.loaders.deviceById.loadMany(preview.sampleDeviceIds)).filter(
      (device): device is Device => device instanceof Device,
    );
  }
}

@Resolver(() => SweepRegionCount)
export class SweepRegionCountResolver {
  @FieldResolver(() => Region, { description: 'The region.' })
  region(@Root() count: SweepRegionCount, @Ctx() context: GraphQLContext) {
    return context.loaders.regionById.load(count.key);
  }
}

@Resolver(() => SweepModelCount)
export class SweepModelCountResolver {
  @FieldResolver(() => DeviceModel, { description: 'The device model.' })
  model(@Root() count: SweepModelCount, @Ctx() context: GraphQLContext) {
    return context.loaders.deviceModelById.load(count.key);
  }
}

@Resolver(() => SweepPartnerCount)
export class SweepPartnerCountResolver {
  @FieldResolver(() => Partner, { description: 'The partner.' })
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
