import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, In } from 'typeorm';
import { Settings, projectRoot } from '../config';
import { internalScope } from '../common/request-scope';
import { DeviceModel } from '../device-models/device-model.entity';
import { Policy } from '../policies/policy.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { activateApproved, createPolicy } from '../policies/policy.service';
import { CreatePolicyInput } from '../policies/policy.types';
import { Region, RegionKind } from '../regions/region.entity';
import { inTransaction } from '../db/transactions';

const seedsDirectory = join(projectRoot(), 'seeds');

function readSeed<T>(file: string): T {
  return JSON.parse(readFileSync(join(seedsDirectory, file), 'utf8')) as T;
}

interface RegionSeed {
  code: string;
  name: string;
  kind: RegionKind;
  parentCode: string | null;
  mobileCountryCodes: string[];
}

/** Adds the regions of seeds/regions.json that are missing (countries first, then subdivisions). */
async function loadRegions(dataSource: DataSource): Promise<number> {
  const seeds = readSeed<{ regions: RegionSeed[] }>('regions.json').regions;
  const repository = dataSource.getRepository(Region);
  const existing = new Set((await repository.find({ select: { code: true } })).map((region) => region.code));
  let added = 0;
  for (const kind of [RegionKind.COUNTRY, RegionKind.SUBDIVISION]) {
    const missing = seeds.filter((seed) => seed.kind === kind && !existing.has(seed.code));
    if (missing.length === 0) continue;
    const parentCodes = [...new Set(missing.map((seed) => seed.parentCode).filter((code): code is string => !!code))];
    const parents = parentCodes.length ? await repository.findBy({ code: In(parentCodes) }) : [];
    const parentIdByCode = new Map(parents.map((parent) => [parent.code, parent.id]));
    const rows = missing.map((seed) => ({
      code: seed.code,
      name: seed.name,
      kind: seed.kind,
      parentId: seed.parentCode ? parentIdByCode.get(seed.parentCode)! : null,
      mobileCountryCodes: seed.mobileCountryCodes,
    }));
    for (let start = 0; start < rows.length; start += 200) await repository.insert(rows.slice(start, start + 200));
    added += rows.length;
  }
  return added;
}

async function loadDeviceModels(dataSource: DataSource): Promise<number> {
  const seeds = readSeed<{ deviceModels: Pick<DeviceModel, 'code' | 'marketingName' | 'tacPrefixes'>[] }>(
    'device-models.json',
  );
  const repository = dataSource.getRepository(DeviceModel);
  const existing = new Set((await repository.find({ select: { code: true } })).map((model) => model.code));
  const missing = seeds.deviceModels.filter((seed) => !existing.has(seed.code));
  if (missing.length) await repository.insert(missing);
  return missing.length;
}

/**
 * The seed policies are created and activated through the same service as the API, audited as
 * `system`. They are the maker's reviewed rule set shipped with the product, so they are active
 * without a change request (the one place that may skip a second person).
 */
async function loadPolicies(dataSource: DataSource, settings: Settings): Promise<number> {
  if ((await dataSource.getRepository(Policy).count()) > 0) return 0;
  const seeds = readSeed<{
    policies: (Omit<CreatePolicyInput, 'effectiveFrom' | 'effectiveUntil'> & {
      effectiveFrom: string;
      effectiveUntil: string | null;
    })[];
  }>('policies.json').policies;
  const context = internalScope(dataSource, settings, 'system', 'seed');
  await inTransaction(dataSource, async (manager) => {
    for (const seed of seeds) {
      const input = Object.assign(new CreatePolicyInput(), {
        ...seed,
        effectiveFrom: new Date(seed.effectiveFrom),
        effectiveUntil: seed.effectiveUntil ? new Date(seed.effectiveUntil) : null,
      });
      const policy = await createPolicy(manager, context, input);
      const draft = await manager.findOneByOrFail(PolicyVersion, { id: policy.latestVersionId! });
      await activateApproved(manager, context, policy, draft, {
        approvedAt: new Date(),
        approvedBy: 'system (shipped seed policy)',
        changeRequestId: null,
      });
    }
  });
  return seeds.length;
}

export interface ReferenceDataReport {
  regions: number;
  deviceModels: number;
  policies: number;
}

/** Loads what is missing of the reference data; running it again adds nothing. */
export async function loadReferenceData(dataSource: DataSource, settings: Settings): Promise<ReferenceDataReport> {
  return {
    regions: await loadRegions(dataSource),
    deviceModels: await loadDeviceModels(dataSource),
    policies: await loadPolicies(dataSource, settings),
  };
}
