import { ArrayMaxSize, ArrayMinSize, IsOptional, Matches } from 'class-validator';
import { TextLength } from '../common/text-length';
import { Field, ID, InputType } from 'type-graphql';
import { ConnectionType, defineOrder } from '../common/connection';
import { MutationPayload } from '../common/payload';
import { DeviceModel } from './device-model.entity';

export const DeviceModelConnection = ConnectionType(DeviceModel, 'DeviceModel', 'A page of device models.');

const deviceModelOrder = defineOrder<DeviceModel, 'CODE' | 'MARKETING_NAME'>(
  'DeviceModel',
  'device models',
  {
    CODE: { property: 'code', description: 'The internal model code.', valueOf: (model) => model.code },
    MARKETING_NAME: {
      property: 'marketingName',
      description: 'The name the model is sold under.',
      valueOf: (model) => model.marketingName,
    },
  },
  'CODE',
);
export const DeviceModelOrder = deviceModelOrder.OrderInput;
export type DeviceModelOrder = InstanceType<typeof DeviceModelOrder>;
export const deviceModelSort = deviceModelOrder.sortOf;

@InputType({ description: 'Narrows a list of device models.' })
export class DeviceModelFilter {
  @Field(() => [String], { nullable: true, description: 'Only the models with these codes.' })
  codes?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'Only models whose marketing name contains this text (case-insensitive).',
  })
  nameContains?: string | null;
}

const TAC_RULE = /^\d{8}$/;
const CODE_RULE = /^[A-Z0-9][A-Z0-9-]{0,39}$/;

@InputType({ description: 'A new device model.' })
export class CreateDeviceModelInput {
  @Matches(CODE_RULE, { message: 'code must be 1 to 40 upper-case letters, digits or dashes' })
  @Field({ description: 'Internal model code, unique, e.g. `PX-9-PRO`.' })
  code: string;

  @TextLength(1, 200, 'marketingName must be 1 to 200 characters')
  @Field({ description: 'Name the model is sold under.' })
  marketingName: string;

  @ArrayMinSize(1, { message: 'tacPrefixes must name at least one TAC' })
  @ArrayMaxSize(1000, { message: 'tacPrefixes can hold at most 1000 TACs' })
  @Matches(TAC_RULE, { each: true, message: 'tacPrefixes must hold 8-digit Type Allocation Codes' })
  @Field(() => [String], { description: 'Type Allocation Codes (first 8 IMEI digits) of the model.' })
  tacPrefixes: string[];
}

@InputType({ description: 'Changes to a device model; omitted fields keep their value. The code never changes.' })
export class UpdateDeviceModelInput {
  @Field(() => ID, { description: 'Global ID of the model.' })
  id: string;

  @IsOptional()
  @TextLength(1, 200, 'marketingName must be 1 to 200 characters')
  @Field(() => String, { nullable: true, description: 'New marketing name.' })
  marketingName?: string | null;

  @IsOptional()
  @ArrayMinSize(1, { message: 'tacPrefixes must name at least one TAC' })
  @ArrayMaxSize(1000, { message: 'tacPrefixes can hold at most 1000 TACs' })
  @Matches(TAC_RULE, { each: true, message: 'tacPrefixes must hold 8-digit Type Allocation Codes' })
  @Field(() => [String], { nullable: true, description: 'New full list of TACs.' })
  tacPrefixes?: string[] | null;
}

export const CreateDeviceModelPayload = MutationPayload(DeviceModel, 'deviceModel', 'createDeviceModel');
export const UpdateDeviceModelPayload = MutationPayload(DeviceModel, 'deviceModel', 'updateDeviceModel');
