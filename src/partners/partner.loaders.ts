import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { Partner } from './partner.entity';

export function createPartnerLoaders(dataSource: DataSource) {
  return { partnerById: createEntityLoader<Partner, number>(dataSource, Partner) };
}

/** The loaders a service takes with its scope when it batches reads of this module. */
export type PartnerLoaders = ReturnType<typeof createPartnerLoaders>;
