import { DataSource, SelectQueryBuilder } from 'typeorm';
import { containsPattern } from '../common/like';
import { Region } from './region.entity';
import { RegionFilter } from './region.types';

/** The filtered (unordered, unpaged) query behind `regions`. */
export function queryRegions(dataSource: DataSource, filter?: RegionFilter | null): SelectQueryBuilder<Region> {
  const qb = dataSource.getRepository(Region).createQueryBuilder('region');
  if (filter?.kind) qb.andWhere('region.kind = :kind', { kind: filter.kind });
  if (filter?.codes) qb.andWhere('region.code IN (:...codes)', { codes: filter.codes.length ? filter.codes : [''] });
  if (filter?.parentCode) {
    qb.andWhere('region.parentId IN (SELECT parent.id FROM region parent WHERE parent.code = :parentCode)', {
      parentCode: filter.parentCode,
    });
  }
  if (filter?.nameContains) {
    qb.andWhere("LOWER(region.name) LIKE :namePattern ESCAPE '\\'", {
      namePattern: containsPattern(filter.nameContains),
    });
  }
  if (filter?.mobileCountryCode) {
    qb.andWhere('region.mobileCountryCodes LIKE :mccPattern', {
      mccPattern: `%"${filter.mobileCountryCode.replace(/\D/g, '')}"%`,
    });
  }
  return qb;
}
