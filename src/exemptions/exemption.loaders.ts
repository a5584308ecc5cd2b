import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { Exemption } from './exemption.entity';

export function createExemptionLoaders(dataSource: DataSource) {
  return { exemptionById: createEntityLoader<Exemption, number>(dataSource, Exemption) };
}
