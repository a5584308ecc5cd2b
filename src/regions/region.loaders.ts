import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { Region } from './region.entity';

export function createRegionLoaders(dataSource: DataSource) {
  return {
    regionById: createEntityLoader<Region, number>(dataSource, Region),
    regionByCode: createEntityLoader<Region, string>(dataSource, Region, 'code'),
    /** Subdivisions of each region, all of them (a country has at most a few dozen). */
    regionChildren: new DataLoader<number, Region[]>(async (parentIds) => {
      const rows = await dataSource.getRepository(Region).findBy({ parentId: In([...parentIds]) });
      return parentIds.map((parentId) => rows.filter((row) => row.parentId === parentId));
    }),
  };
}

/** The loaders a service takes with its scope when it batches reads of this module. */
export type RegionLoaders = ReturnType<typeof createRegionLoaders>;
