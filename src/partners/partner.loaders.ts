import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { Partner } from './partner.entity';

export function createPartnerLoaders(dataSource: DataSource) {
  return { partnerById: createEntityLoader<Partner, number>(dataSource, Partner) };
}
