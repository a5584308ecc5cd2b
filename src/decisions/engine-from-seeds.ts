import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../config';
import { DecisionEngine } from './engine/engine';
import { RegionDirectory } from './engine/regions';
import { DEFAULT_MAX_GPS_ACCURACY_METERS } from './engine/signal-readers';
import { CompiledExemption, CompiledPolicy } from './engine/types';
import { loadStaticData } from './evaluator';

/** The region tree of seeds/regions.json, for running the engine without a database. */
export function seedRegionDirectory(): RegionDirectory {
  return new RegionDirectory(JSON.parse(readFileSync(join(projectRoot(), 'seeds', 'regions.json'), 'utf8')).regions);
}

/** An engine on the shipped reference data and the given rules: for tests and benchmarks of the engine alone. */
export function engineFromSeeds(policies: CompiledPolicy[], exemptions: CompiledExemption[] = []): DecisionEngine {
  return new DecisionEngine({
    regions: seedRegionDirectory(),
    ...loadStaticData(),
    policies,
    exemptions,
    maxGpsAccuracyMeters: DEFAULT_MAX_GPS_ACCURACY_METERS,
  });
}
