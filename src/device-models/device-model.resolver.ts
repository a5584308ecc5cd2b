import { runMutation } from '../common/mutation';
import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { ConnectionArgs } from '../common/connection-args';
// Product scopes name models: a model change rebuilds the compiled rules like a policy change.
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { DeviceModel } from './device-model.entity';
import { createDeviceModel, queryDeviceModels, updateDeviceModel } from './device-model.service';
import {
  CreateDeviceModelInput,
  CreateDeviceModelPayload,
  DeviceModelConnection,
  DeviceModelFilter,
  DeviceModelOrder,
  UpdateDeviceModelInput,
  UpdateDeviceModelPayload,
  deviceModelSort,
} from './device-model.types';

@Resolver(() => DeviceModel)
export class DeviceModelResolver {
  @Authorized(access.readReferenceData)
  @Query(() => DeviceModelConnection, { description: "The maker's phone models, filtered and paged." })
  deviceModels(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => DeviceModelFilter, { nullable: true, description: 'Conditions the models must meet.' })
    filter: DeviceModelFilter | null,
    @Arg('orderBy', () => DeviceModelOrder, { nullable: true, description: 'Order of the list; by code by default.' })
    orderBy: DeviceModelOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    return paginateQuery(
      queryDeviceModels(context.dataSource, filter),
      deviceModelSort(orderBy),
      context.pageWindow(page),
    );
  }

  @Authorized(access.readReferenceData)
  @Query(() => DeviceModel, { nullable: true, description: 'The device model with this code.' })
  deviceModel(
    @Arg('code', { description: 'Model code, e.g. `PX-9-PRO`.' }) code: string,
    @Ctx() context: GraphQLContext,
  ) {
    return context.loaders.deviceModelByCode.load(code.trim());
  }

  @Authorized(access.writeDeviceModels)
  @Mutation(() => CreateDeviceModelPayload, { description: 'Creates a device model with its TACs.' })
  createDeviceModel(
    @Arg('input', () => CreateDeviceModelInput, { description: 'The new model.' }) input: CreateDeviceModelInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => createDeviceModel(manager, context, input), { changesRules: true });
  }

  @Authorized(access.writeDeviceModels)
  @Mutation(() => UpdateDeviceModelPayload, { description: "Changes a device model's marketing name or TACs." })
  updateDeviceModel(
    @Arg('input', () => UpdateDeviceModelInput, { description: 'The changes.' }) input: UpdateDeviceModelInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => updateDeviceModel(manager, context, input), { changesRules: true });
  }
}
