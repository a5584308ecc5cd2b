import { DataSource } from 'typeorm';
import { createChildConnectionLoader, createEntityLoader } from '../common/loaders';
import { Device, DeviceStatus } from './device.entity';
import { DeviceStatusChange } from './device-status-change.entity';
import { DeviceOrder, deviceSort, statusChangeSort } from './device.types';

export interface ChildDevicesFilter {
  /** A PARTNER caller's own partner (a model's devices span partners). */
  partnerScope?: number;
  statuses?: DeviceStatus[];
  order?: Pick<DeviceOrder, 'field' | 'direction'>;
}

function childDevicesLoader(dataSource: DataSource, parentProperty: 'partnerId' | 'modelId') {
  return createChildConnectionLoader<Device, ChildDevicesFilter>(dataSource, {
    entity: Device,
    parentProperty,
    sortFor: (key) => deviceSort(key.filter?.order),
    applyFilter: (qb, filter) => {
      if (filter.partnerScope !== undefined)
        qb.andWhere('t.partnerId = :partnerScope', { partnerScope: filter.partnerScope });
      if (filter.statuses)
        qb.andWhere('t.status IN (:...statuses)', { statuses: filter.statuses.length ? filter.statuses : [''] });
    },
  });
}

export function createDeviceLoaders(dataSource: DataSource) {
  return {
    deviceById: createEntityLoader<Device, number>(dataSource, Device),
    deviceByImei: createEntityLoader<Device, string>(dataSource, Device, 'imei'),
    devicesByPartner: childDevicesLoader(dataSource, 'partnerId'),
    devicesByModel: childDevicesLoader(dataSource, 'modelId'),
    statusChangesByDevice: createChildConnectionLoader<DeviceStatusChange>(dataSource, {
      entity: DeviceStatusChange,
      parentProperty: 'deviceId',
      sortFor: () => statusChangeSort,
    }),
    deviceStatusChangeById: createEntityLoader<DeviceStatusChange, number>(dataSource, DeviceStatusChange),
  };
}
