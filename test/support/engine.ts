import { compiledSeedPolicy, engineFromSeeds } from '../../src/decisions/engine-from-seeds';
import { loadStaticData } from '../../src/decisions/static-data';
import { CompiledExemption, CompiledPolicy, DeviceFacts } from '../../src/decisions/engine/types';

export const { locator, networks } = loadStaticData();

/** The seed export policy, as the engine sees it. */
export const exportPolicy: CompiledPolicy = compiledSeedPolicy();

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
