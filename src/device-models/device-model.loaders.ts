import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { DeviceModel } from './device-model.entity';

export function createDeviceModelLoaders(dataSource: DataSource) {
  return {
    deviceModelById: createEntityLoader<DeviceModel, number>(dataSource, DeviceModel),
    deviceModelByCode: createEntityLoader<DeviceModel, string>(dataSource, DeviceModel, 'code'),
  };
}
