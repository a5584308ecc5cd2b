import { DecisionEngine, EngineData } from './engine/engine';
import { RegionDirectory } from './engine/regions';
import type { CompiledRules } from './evaluator';
import { loadStaticData } from './static-data';

/**
 * Compiled rules in a form that crosses to a worker thread (structured clone: plain data, Sets and
 * Maps, no functions). The worker rebuilds the same engine from it; boundaries and mobile networks
 * ship with the code and are loaded there.
 */
export interface PortableRules {
  regions: { code: string; parentCode: string | null }[];
  /** Policies, exemptions and the engine's settings: plain data already. */
  plain: Omit<EngineData, 'regions' | 'locator' | 'networks'>;
  regionIdByCode: ReadonlyMap<string, number>;
  modelCodeById: ReadonlyMap<number, string>;
}

export function portableRules(rules: CompiledRules): PortableRules {
  const { regions, locator: _locator, networks: _networks, ...plain } = rules.engineData;
  return {
    regions: regions.entries(),
    plain,
    regionIdByCode: rules.regionIdByCode,
    modelCodeById: rules.modelCodeById,
  };
}

export function rulesFromPortable(portable: PortableRules): CompiledRules {
  const engineData: EngineData = {
    ...portable.plain,
    ...loadStaticData(),
    regions: new RegionDirectory(portable.regions),
  };
  return {
    engine: new DecisionEngine(engineData),
    engineData,
    regionIdByCode: portable.regionIdByCode,
    modelCodeById: portable.modelCodeById,
  };
}
