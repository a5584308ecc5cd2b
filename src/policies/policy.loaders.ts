import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { Policy } from './policy.entity';
import { PolicyChangeRequest } from './policy-change-request.entity';
import { PolicyVersion, PolicyVersionDeviceModel, PolicyVersionRegion } from './policy-version.entity';

/** Groups join rows by one of their columns, answering every key (an empty list when none). */
function groupedLoader<Row>(
  load: (keys: number[]) => Promise<Row[]>,
  keyOf: (row: Row) => number,
  valueOf: (row: Row) => number,
) {
  return new DataLoader<number, number[]>(async (keys) => {
    const rows = await load([...keys]);
    return keys.map((key) => rows.filter((row) => keyOf(row) === key).map(valueOf));
  });
}

export function createPolicyLoaders(dataSource: DataSource) {
  return {
    policyById: createEntityLoader<Policy, number>(dataSource, Policy),
    policyByKey: createEntityLoader<Policy, string>(dataSource, Policy, 'key'),
    policyChangeRequestById: createEntityLoader<PolicyChangeRequest, number>(dataSource, PolicyChangeRequest),
    policyVersionById: createEntityLoader<PolicyVersion, number>(dataSource, PolicyVersion),
    policyVersionsByPolicy: new DataLoader<number, PolicyVersion[]>(async (policyIds) => {
      const rows = await dataSource.getRepository(PolicyVersion).findBy({ policyId: In([...policyIds]) });
      return policyIds.map((policyId) => rows.filter((row) => row.policyId === policyId));
    }),
    regionIdsByVersion: groupedLoader(
      (versionIds) => dataSource.getRepository(PolicyVersionRegion).findBy({ policyVersionId: In(versionIds) }),
      (row) => row.policyVersionId,
      (row) => row.regionId,
    ),
    modelIdsByVersion: groupedLoader(
      (versionIds) => dataSource.getRepository(PolicyVersionDeviceModel).findBy({ policyVersionId: In(versionIds) }),
      (row) => row.policyVersionId,
      (row) => row.deviceModelId,
    ),
    /** Versions that name each region directly (coverage through a country is added by the caller). */
    versionIdsByRegion: groupedLoader(
      (regionIds) => dataSource.getRepository(PolicyVersionRegion).findBy({ regionId: In(regionIds) }),
      (row) => row.regionId,
      (row) => row.policyVersionId,
    ),
  };
}

/** The loaders a service takes with its scope when it batches reads of this module. */
export type PolicyLoaders = ReturnType<typeof createPolicyLoaders>;
