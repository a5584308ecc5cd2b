import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { DeviceModel } from './device-model.entity';

export function createDeviceModelLoaders(dataSource: DataSource) {
  return {
    deviceModelById: createEntityLoader<DeviceModel, number>(dataSource, DeviceModel),
    deviceModelByCode: createEntityLoader<DeviceModel, string>(dataSource, DeviceModel, 'code'),
  };
}

/** The loaders a service takes with its scope when it batches reads of this module. */
export type DeviceModelLoaders = ReturnType<typeof createDeviceModelLoaders>;
