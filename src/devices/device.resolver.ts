import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import {
  ActivationAttemptConnection,
  ActivationAttemptOrder,
  DeviceActivationAttemptFilter,
  attemptOrder,
} from '../activations/activation-attempt.types';
import { checkTimeRange } from '../common/filter-bounds';
import { ConnectionArgs } from '../common/connection-args';
import { BadUserInputError } from '../common/errors';
import { paginateQuery } from '../common/sql-pagination';
import { isVisiblePartnerRow, partnerScopeOf } from '../auth/viewer';
import { GraphQLContext } from '../context';
import { DeviceModel } from '../device-models/device-model.entity';
import { Partner } from '../partners/partner.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import { Device, DeviceStatus } from './device.entity';
import { queryDevices, registerManifest, resolveDeviceFilter } from './device.service';
import {
  DeviceConnection,
  DeviceFilter,
  DeviceOrder,
  RegisterDevicesInput,
  RegisterDevicesPayload,
  deviceOrder,
  deviceSort,
  DeviceStatusChangeConnection,
} from './device.types';
import { imeiProblem, imeiProblemMessages } from './imei';

@Resolver(() => Device)
export class DeviceResolver {
  @Authorized(access.readDevices)
  @Query(() => DeviceConnection, { description: 'Registered devices, filtered and paged.' })
  async devices(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => DeviceFilter, { nullable: true, description: 'Conditions the devices must meet.' })
    filter: DeviceFilter | null,
    @Arg('orderBy', () => DeviceOrder, { nullable: true, description: 'Order of the list; by IMEI by default.' })
    orderBy: DeviceOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    const resolved = await resolveDeviceFilter(context, filter);
    return paginateQuery(queryDevices(context.dataSource, resolved), deviceSort(orderBy), window);
  }

  @Authorized(access.readDevices)
  @Query(() => Device, { nullable: true, description: 'The device with this IMEI; null when none is registered.' })
  async device(@Arg('imei', { description: 'The 15-digit IMEI.' }) imei: string, @Ctx() context: GraphQLContext) {
    const problem = imeiProblem(imei.trim());
    if (problem) throw new BadUserInputError('imei', imeiProblemMessages[problem]);
    const device = await context.loaders.deviceByImei.load(imei.trim());
    // Another partner's device reads as not registered.
    return device && isVisiblePartnerRow(context.viewer, device) ? device : null;
  }

  @Authorized(access.registerDevices)
  @Mutation(() => RegisterDevicesPayload, {
    description:
      "Registers a partner's shipment manifest (up to 10,000 devices) all-or-nothing, reporting every bad row.",
  })
  async registerDevices(
    @Arg('input', () => RegisterDevicesInput, { description: 'The manifest.' }) input: RegisterDevicesInput,
    @Ctx() context: GraphQLContext,
  ): Promise<RegisterDevicesPayload> {
    const { result, userErrors } = await registerManifest(context, input, context.services.registrationConflicts);
    return { registeredCount: result?.length ?? 0, devices: result, userErrors };
  }

  @FieldResolver(() => DeviceModel, { description: "The device's model." })
  model(@Root() device: Device, @Ctx() context: GraphQLContext) {
    return context.loaders.deviceModelById.load(device.modelId);
  }

  @FieldResolver(() => Partner, { description: 'The partner that distributed the device.' })
  partner(@Root() device: Device, @Ctx() context: GraphQLContext) {
    return context.loaders.partnerById.load(device.partnerId);
  }

  @FieldResolver(() => Region, { description: 'The region the device was sold for.' })
  marketRegion(@Root() device: Device, @Ctx() context: GraphQLContext) {
    return context.loaders.regionById.load(device.marketRegionId);
  }

  @Authorized(access.readAttempts)
  @FieldResolver(() => ActivationAttempt, {
    nullable: true,
    description: 'The attempt whose decision locked the device.',
  })
  lockedByAttempt(@Root() device: Device, @Ctx() context: GraphQLContext) {
    return device.lockedByAttemptId === null
      ? null
      : context.loaders.activationAttemptByRef.load({
          id: device.lockedByAttemptId,
          occurredAt: device.lockedByAttemptOccurredAt,
        });
  }

  @FieldResolver(() => PolicyVersion, {
    nullable: true,
    description:
      "The policy version that caused the lock (see lockCause): the locking decision's, the reviewed attempt's, or the sweep's policy in force; null unless LOCKED, or when a person locked it without a policy asking.",
  })
  lockPolicyVersion(@Root() device: Device, @Ctx() context: GraphQLContext) {
    return device.lockPolicyVersionId === null
      ? null
      : context.loaders.policyVersionById.load(device.lockPolicyVersionId);
  }

  @FieldResolver(() => DeviceStatusChangeConnection, {
    description: "The device's status changes with their causes, newest first.",
  })
  statusHistory(@Root() device: Device, @Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    return context.loaders.statusChangesByDevice.load({ parentId: device.id, window: context.pageWindow(page) });
  }

  @Authorized(access.readAttempts)
  @FieldResolver(() => ActivationAttemptConnection, {
    description: "The device's activation attempts; newest first by default.",
  })
  attempts(
    @Root() device: Device,
    @Args() page: ConnectionArgs,
    @Arg('filter', () => DeviceActivationAttemptFilter, {
      nullable: true,
      description: 'Conditions the attempts must meet.',
    })
    filter: DeviceActivationAttemptFilter | null,
    @Arg('orderBy', () => ActivationAttemptOrder, {
      nullable: true,
      description: 'Order; newest occurrence first by default.',
    })
    orderBy: ActivationAttemptOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    checkTimeRange('filter.occurredBefore', 'occurredFrom', filter?.occurredFrom, filter?.occurredBefore);
    return context.loaders.attemptsByDevice.load({
      parentId: device.id,
      window: context.pageWindow(page),
      filter: {
        outcomes: filter?.outcomes ?? undefined,
        occurredFrom: filter?.occurredFrom ?? undefined,
        occurredBefore: filter?.occurredBefore ?? undefined,
        order: {
          field: orderBy?.field ?? attemptOrder.defaultField,
          direction: orderBy?.direction ?? attemptOrder.defaultDirection,
        },
      },
    });
  }
}

/** `devices` under a partner and under a model: one windowed query for all parents on a page. */
function childDevicesArgs() {
  return {
    status: Arg('statuses', () => [DeviceStatus], {
      nullable: true,
      description: 'Only devices in one of these states.',
    }),
    order: Arg('orderBy', () => DeviceOrder, { nullable: true, description: 'Order of the list; by IMEI by default.' }),
  };
}

function childDevicesFilter(context: GraphQLContext, statuses: DeviceStatus[] | null, orderBy: DeviceOrder | null) {
  return {
    partnerScope: partnerScopeOf(context.viewer) ?? undefined,
    statuses: statuses ?? undefined,
    order: {
      field: orderBy?.field ?? deviceOrder.defaultField,
      direction: orderBy?.direction ?? deviceOrder.defaultDirection,
    },
  };
}

@Resolver(() => Partner)
export class PartnerDevicesResolver {
  @Authorized(access.readDevices)
  @FieldResolver(() => DeviceConnection, { description: 'Devices this partner distributed.' })
  devices(
    @Root() partner: Partner,
    @Args() page: ConnectionArgs,
    @(childDevicesArgs().status) statuses: DeviceStatus[] | null,
    @(childDevicesArgs().order) orderBy: DeviceOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    return context.loaders.devicesByPartner.load({
      parentId: partner.id,
      window,
      filter: childDevicesFilter(context, statuses, orderBy),
    });
  }
}

@Resolver(() => DeviceModel)
export class DeviceModelDevicesResolver {
  @Authorized(access.readDevices)
  @FieldResolver(() => DeviceConnection, { description: 'Devices of this model.' })
  devices(
    @Root() model: DeviceModel,
    @Args() page: ConnectionArgs,
    @(childDevicesArgs().status) statuses: DeviceStatus[] | null,
    @(childDevicesArgs().order) orderBy: DeviceOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    return context.loaders.devicesByModel.load({
      parentId: model.id,
      window,
      filter: childDevicesFilter(context, statuses, orderBy),
    });
  }
}
