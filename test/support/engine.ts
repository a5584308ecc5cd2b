import { engineFromSeeds } from '../../src/decisions/engine-from-seeds';
import { loadStaticData } from '../../src/decisions/evaluator';
import { CompiledExemption, CompiledPolicy, DeviceFacts } from '../../src/decisions/engine/types';

export const { locator, networks } = loadStaticData();

/** The seed export policy, as the engine sees it. */
export const exportPolicy: CompiledPolicy = {
  versionId: 1,
  policyKey: 'export-restricted-territories',
  versionNumber: 1,
  action: 'LOCK',
  mode: 'ENFORCE',
  priority: 100,
  effectiveFrom: Date.parse('2020-01-01T00:00:00Z'),
  effectiveUntil: null,
  regionCodes: new Set(['UA-43', 'UA-40', 'CU', 'IR', 'SY', 'KP', 'SD']),
  modelCodes: null,
};

export function engineWith(policies: CompiledPolicy[] = [exportPolicy], exemptions: CompiledExemption[] = []) {
  return engineFromSeeds(policies, exemptions);
}

export const device: DeviceFacts = {
  deviceId: 7,
  modelCode: 'AR-5',
  partnerId: 3,
  locked: false,
  lockedByVersionId: null,
};
