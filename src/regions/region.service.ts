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

/** The region and every region above it, most specific first (UA-43, UA). */
export async function regionWithAncestors(
  loadRegion: (id: number) => Promise<Region | null>,
  region: Region,
): Promise<Region[]> {
  const chain = [region];
  let current = region;
  while (current.parentId !== null && chain.length < 10) {
    const parent = await loadRegion(current.parentId);
    if (!parent) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}
