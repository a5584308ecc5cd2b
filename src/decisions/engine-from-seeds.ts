import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, readEvidenceSettings } from '../config';
import { DecisionEngine } from './engine/engine';
import { RegionDirectory } from './engine/regions';
import { DEFAULT_MAX_GPS_ACCURACY_METERS } from './engine/signal-readers';
import { CompiledExemption, CompiledPolicy } from './engine/types';
import { loadStaticData } from './static-data';

/** The region tree of seeds/regions.json, for running the engine without a database. */
export function seedRegionDirectory(): RegionDirectory {
  return new RegionDirectory(JSON.parse(readFileSync(join(projectRoot(), 'seeds', 'regions.json'), 'utf8')).regions);
}

/** The seed export policy (seeds/policies.json) as the engine sees it, as version 1 with id 1. */
export function compiledSeedPolicy(): CompiledPolicy {
  const [seed] = JSON.parse(readFileSync(join(projectRoot(), 'seeds', 'policies.json'), 'utf8')).policies;
  return {
    versionId: 1,
    policyKey: seed.key,
    versionNumber: 1,
    action: seed.action,
    mode: seed.mode,
    priority: seed.priority,
    effectiveFrom: Date.parse(seed.effectiveFrom),
    effectiveUntil: seed.effectiveUntil ? Date.parse(seed.effectiveUntil) : null,
    regionCodes: new Set(seed.regionCodes),
    modelCodes: seed.productScope.length ? new Set(seed.productScope) : null,
  };
}

/** An engine on the shipped reference data and the given rules: for tests and benchmarks of the engine alone. */
export function engineFromSeeds(policies: CompiledPolicy[], exemptions: CompiledExemption[] = []): DecisionEngine {
  return new DecisionEngine({
    regions: seedRegionDirectory(),
    ...loadStaticData(),
    policies,
    exemptions,
    maxGpsAccuracyMeters: DEFAULT_MAX_GPS_ACCURACY_METERS,
    // The defaults, whatever this process's environment says.
    ...readEvidenceSettings({}),
  });
}
