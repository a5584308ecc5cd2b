import { ArrayMaxSize, ArrayMinSize } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType, SortDirection, byId, defineOrder } from '../common/connection';
import { UserError } from '../common/errors';
import { Device, DeviceStatus } from './device.entity';
import { DeviceStatusChange } from './device-status-change.entity';

export const DeviceConnection = ConnectionType(Device, 'Device', 'A page of devices.');

export const deviceOrder = defineOrder<Device, 'IMEI' | 'CREATED_AT'>(
  'Device',
  'devices',
  {
    IMEI: { property: 'imei', description: 'The IMEI, digit by digit.', valueOf: (device) => device.imei },
    CREATED_AT: {
      property: 'createdAt',
      description: 'When the device was registered.',
      valueOf: (device) => device.createdAt,
    },
  },
  'IMEI',
);
export const DeviceOrder = deviceOrder.OrderInput;
export type DeviceOrder = InstanceType<typeof DeviceOrder>;
export const deviceSort = deviceOrder.sortOf;

@InputType({ description: 'Narrows a list of devices; all given conditions must hold.' })
export class DeviceFilter {
  @Field(() => [DeviceStatus], { nullable: true, description: 'Only devices in one of these states.' })
  statuses?: DeviceStatus[] | null;

  @Field(() => [String], { nullable: true, description: 'Only devices of these model codes.' })
  modelCodes?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Only devices sold for these market regions (ISO codes).' })
  marketRegionCodes?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Only devices distributed by these partners (global IDs).' })
  partnerIds?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'Only devices whose IMEI starts with these digits (e.g. a TAC).',
  })
  imeiPrefix?: string | null;
}

/** Filter with every reference resolved to row ids (what the query layer works with). */
export interface ResolvedDeviceFilter {
  /** A PARTNER caller's own partner: set from the caller, never from the request. */
  partnerScope?: number;
  statuses?: DeviceStatus[];
  modelIds?: number[];
  marketRegionIds?: number[];
  partnerIds?: number[];
  imeiPrefix?: string;
}

@InputType({ description: 'One row of a shipment manifest.' })
export class DeviceManifestRow {
  @Field({ description: "The device's IMEI: 15 digits with a valid Luhn check digit." })
  imei: string;

  @Field({ description: 'Manufacturer serial number (1 to 64 characters).' })
  serialNumber: string;

  @Field({ description: "Code of the device's model; the IMEI's TAC must be one of the model's." })
  modelCode: string;

  @Field({ description: 'ISO code of the region the device is sold for.' })
  marketRegionCode: string;
}

export const MAX_MANIFEST_ROWS = 10_000;

@InputType({ description: "A partner's shipment manifest: registered all together or not at all." })
export class RegisterDevicesInput {
  @Field(() => ID, { description: 'Global ID of the partner that distributes the devices.' })
  partnerId: string;

  @ArrayMinSize(1, { message: 'devices must hold at least one row' })
  @ArrayMaxSize(MAX_MANIFEST_ROWS, { message: `devices can hold at most ${MAX_MANIFEST_ROWS} rows in one call` })
  @Field(() => [DeviceManifestRow], { description: `The devices, 1 to ${MAX_MANIFEST_ROWS}.` })
  devices: DeviceManifestRow[];
}

@ObjectType({ description: 'Result of registerDevices.' })
export class RegisterDevicesPayload {
  @Field(() => Int, { description: 'How many devices were registered (0 when there are user errors).' })
  registeredCount: number;

  @Field(() => [Device], {
    nullable: true,
    description: 'The registered devices, in manifest order; null on user errors.',
  })
  devices: Device[] | null;

  @Field(() => [UserError], { description: 'Every bad row and field; nothing is registered when any exists.' })
  userErrors: UserError[];
}

export const DeviceStatusChangeConnection = ConnectionType(
  DeviceStatusChange,
  'DeviceStatusChange',
  "A page of a device's status changes.",
);

/** Newest first. */
export const statusChangeSort = byId<DeviceStatusChange>(SortDirection.DESC);
