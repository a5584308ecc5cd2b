import { DataSource, SelectQueryBuilder } from 'typeorm';
import { BadUserInputError } from '../common/errors';
import { checkTimeRange } from '../common/filter-bounds';
import { rowIdOf } from '../common/global-id';
import { partnerScopeOf } from '../auth/viewer';
import { ScopeWithLoaders } from '../common/request-scope';
import type { RegionLoaders } from '../regions/region.loaders';
import { regionIdsWithSubdivisions } from '../regions/region.service';
import { ActivationAttempt } from './activation-attempt.entity';
import { ActivationAttemptFilter, ResolvedAttemptFilter } from './activation-attempt.types';

/** Resolves codes and IDs to row ids; a region code stands for the region and its subdivisions. */
export async function resolveAttemptFilter(
  context: ScopeWithLoaders<RegionLoaders>,
  filter?: ActivationAttemptFilter | null,
): Promise<ResolvedAttemptFilter> {
  const partnerScope = partnerScopeOf(context.viewer) ?? undefined;
  if (!filter) return { partnerScope };
  checkTimeRange('filter.occurredBefore', 'occurredFrom', filter.occurredFrom, filter.occurredBefore);
  const resolved: ResolvedAttemptFilter = {
    partnerScope,
    outcomes: filter.outcomes ?? undefined,
    occurredFrom: filter.occurredFrom ?? undefined,
    occurredBefore: filter.occurredBefore ?? undefined,
  };
  if (filter.deviceIds) {
    resolved.deviceIds = filter.deviceIds.map((globalId, index) => {
      const rowId = rowIdOf(globalId, 'Device');
      if (rowId === null) throw new BadUserInputError(`filter.deviceIds[${index}]`, 'is not a device ID');
      return rowId;
    });
  }
  if (filter.regionCodes)
    resolved.regionIds = await regionIdsWithSubdivisions(context, filter.regionCodes, 'filter.regionCodes');
  return resolved;
}

export function applyAttemptFilter(qb: SelectQueryBuilder<ActivationAttempt>, filter: ResolvedAttemptFilter): void {
  const alias = qb.alias;
  const anyOf = (values: unknown[]) => (values.length ? values : [-1]);
  if (filter.partnerScope !== undefined) {
    qb.andWhere(`${alias}.deviceId IN (SELECT scoped.id FROM device scoped WHERE scoped."partnerId" = :partnerScope)`, {
      partnerScope: filter.partnerScope,
    });
  }
  if (filter.deviceIds) qb.andWhere(`${alias}.deviceId IN (:...deviceIds)`, { deviceIds: anyOf(filter.deviceIds) });
  if (filter.regionIds)
    qb.andWhere(`${alias}.resolvedRegionId IN (:...regionIds)`, { regionIds: anyOf(filter.regionIds) });
  if (filter.outcomes) qb.andWhere(`${alias}.outcome IN (:...outcomes)`, { outcomes: anyOf(filter.outcomes) });
  if (filter.occurredFrom) qb.andWhere(`${alias}.occurredAt >= :occurredFrom`, { occurredFrom: filter.occurredFrom });
  if (filter.occurredBefore)
    qb.andWhere(`${alias}.occurredAt < :occurredBefore`, { occurredBefore: filter.occurredBefore });
}

export function queryAttempts(dataSource: DataSource, filter: ResolvedAttemptFilter) {
  const qb = dataSource.getRepository(ActivationAttempt).createQueryBuilder('attempt');
  applyAttemptFilter(qb, filter);
  return qb;
}
