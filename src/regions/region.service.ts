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

/**
 * Row ids of the regions `regionCodes` names (with subdivisions) less those `excludeRegionCodes`
 * names (with theirs): `UA` less `UA-43` is Ukraine without Crimea. `null` when neither is given;
 * an exclusion without regions to exclude from is a client error, and nothing left is `[-1]`,
 * which no row matches (rather than an empty IN list).
 */
export async function regionIdsInScope(
  context: ScopeWithLoaders<RegionLoaders>,
  filter: { regionCodes?: string[] | null; excludeRegionCodes?: string[] | null },
  prefix: string,
): Promise<number[] | null> {
  const excluding = Boolean(filter.excludeRegionCodes?.length);
  if (excluding && !filter.regionCodes)
    throw new BadUserInputError(`${prefix}.excludeRegionCodes`, 'leaves regions out of regionCodes: name those too');
  if (!filter.regionCodes) return null;
  const regionIds = await regionIdsWithSubdivisions(context, filter.regionCodes, `${prefix}.regionCodes`);
  if (!excluding) return regionIds;
  const excluded = new Set(
    await regionIdsWithSubdivisions(context, filter.excludeRegionCodes!, `${prefix}.excludeRegionCodes`),
  );
  const kept = regionIds.filter((id) => !excluded.has(id));
  return kept.length ? kept : [-1];
}
