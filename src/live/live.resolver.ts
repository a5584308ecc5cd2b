import { GraphQLError } from 'graphql';
import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import { In } from 'typeorm';
import { access } from '../auth/roles';
import { partnerScopeOf } from '../auth/viewer';
import { BadUserInputError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { GraphQLContext } from '../context';
import { createLoaders } from '../loaders';
import { Region } from '../regions/region.entity';
import { Sweep } from '../sweeps/sweep.entity';
import { LiveConnection, LiveGroup, LiveHub } from './live-hub';
import {
  ActivationDecided,
  ActivationDecidedFilter,
  DeviceStatusChanged,
  DeviceStatusChangedFilter,
  ReviewQueueChanged,
} from './live.types';

declare module '../context' {
  interface GraphQLContext {
    /**
     * Set for operations arriving over WebSocket: the hub, and the caller's connection; a group's
     * shared execution has the group instead (src/live/subscription-groups.ts).
     */
    live?: { hub: LiveHub; connection?: LiveConnection; group?: LiveGroup };
  }
}

/** The hub and the group a subscription's source is opened for. */
function liveOf(context: GraphQLContext): { hub: LiveHub; group: LiveGroup } {
  const { hub, group } = context.live ?? {};
  if (!hub || !group) {
    throw new GraphQLError('subscriptions are served over WebSocket (graphql-ws protocol) on /graphql', {
      extensions: { code: 'BAD_REQUEST' },
    });
  }
  return { hub, group };
}

/**
 * Each event is resolved with fresh loaders: a subscription lives for hours, and rows read for one
 * event must not be served, stale, for the next.
 */
function freshLoaders<T>(context: GraphQLContext, payload: T): T {
  context.loaders = createLoaders(context.dataSource);
  return payload;
}

function partnerRowIdOf(field: string, globalId: string | null | undefined): number | null {
  if (globalId == null) return null;
  const rowId = rowIdOf(globalId, 'Partner');
  if (rowId === null) throw new BadUserInputError(field, 'is not a partner ID');
  return rowId;
}

/** The regions named and their subdivisions, as row ids; unknown codes are refused by name. */
async function regionIdsOf(context: GraphQLContext, codes: string[]): Promise<Set<number>> {
  const repository = context.dataSource.getRepository(Region);
  const named = codes.length ? await repository.findBy({ code: In(codes) }) : [];
  const unknown = codes.filter((code) => !named.some((region) => region.code === code));
  if (unknown.length) throw new BadUserInputError('filter.regionCodes', `unknown region code ${unknown[0]}`);
  const children = named.length ? await repository.findBy({ parentId: In(named.map((region) => region.id)) }) : [];
  return new Set([...named, ...children].map((region) => region.id));
}

@Resolver()
export class LiveResolver {
  @Authorized(access.readAttempts)
  @Subscription(() => ActivationDecided, {
    description:
      'Each activation decision once it has been committed, on any instance. At most once: after a reconnect, read what was missed with `activationAttempts`. A partner receives its own devices’ decisions only.',
    subscribe: async ({ args, context }) => {
      const live = liveOf(context as GraphQLContext);
      const filter = (args.filter ?? {}) as ActivationDecidedFilter;
      const scope = partnerScopeOf((context as GraphQLContext).viewer);
      const partnerId = partnerRowIdOf('filter.partnerId', filter.partnerId);
      const outcomes = filter.outcomes ? new Set(filter.outcomes) : null;
      const regionIds = filter.regionCodes ? await regionIdsOf(context as GraphQLContext, filter.regionCodes) : null;
      const enforced = filter.enforced ?? null;
      return live.hub.open(
        'decision',
        live.group,
        (payload) =>
          (scope === null || payload.partnerId === scope) &&
          (partnerId === null || payload.partnerId === partnerId) &&
          (outcomes === null || outcomes.has(payload.attempt.outcome)) &&
          (enforced === null || payload.attempt.enforced === enforced) &&
          (regionIds === null ||
            (payload.attempt.resolvedRegionId !== null && regionIds.has(payload.attempt.resolvedRegionId))),
      );
    },
  })
  activationDecided(
    @Root() payload: ActivationDecided,
    @Arg('filter', () => ActivationDecidedFilter, { nullable: true, description: 'Which decisions to receive.' })
    _filter: ActivationDecidedFilter | null,
    @Ctx() context: GraphQLContext,
  ): ActivationDecided {
    return freshLoaders(context, payload);
  }

  @Authorized(access.readReviews)
  @Subscription(() => ReviewQueueChanged, {
    description:
      'Each review opened (a decision sent to review) or resolved, with the queue’s size and ages after it. At most once: after a reconnect, read the queue with `reviewQueueStats`.',
    subscribe: ({ context }) => {
      const live = liveOf(context as GraphQLContext);
      return live.hub.open('review', live.group, () => true);
    },
  })
  reviewQueueChanged(@Root() payload: ReviewQueueChanged, @Ctx() context: GraphQLContext): ReviewQueueChanged {
    return freshLoaders(context, payload);
  }

  @Authorized(access.readDevices)
  @Subscription(() => DeviceStatusChanged, {
    description:
      'Each change of a device’s status (a decision, a review, an unlock, a sweep), once committed. A partner follows its own devices only.',
    subscribe: ({ args, context }) => {
      const live = liveOf(context as GraphQLContext);
      const filter = (args.filter ?? {}) as DeviceStatusChangedFilter;
      const scope = partnerScopeOf((context as GraphQLContext).viewer);
      const partnerId = partnerRowIdOf('filter.partnerId', filter.partnerId);
      const deviceIds = filter.deviceIds
        ? new Set(
            filter.deviceIds.map((id) => {
              const rowId = rowIdOf(id, 'Device');
              if (rowId === null) throw new BadUserInputError('filter.deviceIds', `${id} is not a device ID`);
              return rowId;
            }),
          )
        : null;
      return live.hub.open(
        'device',
        live.group,
        ({ device }) =>
          (scope === null || device.partnerId === scope) &&
          (partnerId === null || device.partnerId === partnerId) &&
          (deviceIds === null || deviceIds.has(device.id)),
      );
    },
  })
  deviceStatusChanged(
    @Root() payload: DeviceStatusChanged,
    @Arg('filter', () => DeviceStatusChangedFilter, { nullable: true, description: 'Which devices to follow.' })
    _filter: DeviceStatusChangedFilter | null,
    @Ctx() context: GraphQLContext,
  ): DeviceStatusChanged {
    return freshLoaders(context, payload);
  }

  @Authorized(access.readSweeps)
  @Subscription(() => Sweep, {
    description:
      'A sweep’s progress: the sweep after each batch and each change of its status. At most once: after a reconnect, read it with `node`.',
    subscribe: async ({ args, context }) => {
      const live = liveOf(context as GraphQLContext);
      const rowId = rowIdOf(args.id as string, 'Sweep');
      if (
        rowId === null ||
        !(await (context as GraphQLContext).dataSource.getRepository(Sweep).existsBy({ id: rowId }))
      )
        throw new BadUserInputError('id', 'no sweep has this ID');
      return live.hub.open('sweep', live.group, (sweep) => sweep.id === rowId);
    },
  })
  sweepProgress(
    @Root() payload: Sweep,
    @Arg('id', () => ID, { description: 'The sweep to follow.' }) _id: string,
    @Ctx() context: GraphQLContext,
  ): Sweep {
    return freshLoaders(context, payload);
  }
}
