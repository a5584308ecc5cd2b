import { DataSource, SelectQueryBuilder } from 'typeorm';
import { containsPattern } from '../common/like';
import { BadUserInputError } from '../common/errors';
import { ScopeWithLoaders } from '../common/request-scope';
import type { RegionLoaders } from './region.loaders';
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

/**
 * Row ids of the regions a filter names, each with its subdivisions (UA covers UA-43); an unknown
 * code is a client error naming `field[index]`.
 */
export async function regionIdsWithSubdivisions(
  context: ScopeWithLoaders<RegionLoaders>,
  codes: string[],
  field: string,
): Promise<number[]> {
  const regions = await context.loaders.regionByCode.loadMany(codes.map((code) => code.toUpperCase()));
  const ids = new Set<number>();
  for (const [index, region] of regions.entries()) {
    if (!(region instanceof Region))
      throw new BadUserInputError(`${field}[${index}]`, `unknown region code "${codes[index]}"`);
    ids.add(region.id);
    for (const child of await context.loaders.regionChildren.load(region.id)) ids.add(child.id);
  }
  return [...ids];
}
