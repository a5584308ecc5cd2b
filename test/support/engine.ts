import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecisionEngine } from '../../src/decisions/engine/engine';
import { GeoLocator } from '../../src/decisions/engine/geo-locator';
import { MobileNetworkTable } from '../../src/decisions/engine/mobile-networks';
import { RegionDirectory } from '../../src/decisions/engine/regions';
import { DEFAULT_MAX_GPS_ACCURACY_METERS } from '../../src/decisions/engine/signal-readers';
import { CompiledExemption, CompiledPolicy, DeviceFacts } from '../../src/decisions/engine/types';
import { loadMobileNetworks, loadSubdivisionBoundaries } from '../../src/decisions/reference-data';

const regionSeeds: { code: string; parentCode: string | null }[] = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'seeds', 'regions.json'), 'utf8'),
).regions;

export const regions = new RegionDirectory(regionSeeds);
export const locator = new GeoLocator(loadSubdivisionBoundaries());
export const networks = new MobileNetworkTable(loadMobileNetworks(), (code) => code.includes('-'));

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
  return new DecisionEngine({
    regions,
    locator,
    networks,
    policies,
    exemptions,
    maxGpsAccuracyMeters: DEFAULT_MAX_GPS_ACCURACY_METERS,
  });
}

export const device: DeviceFacts = {
  deviceId: 7,
  modelCode: 'AR-5',
  partnerId: 3,
  locked: false,
  lockedByVersionId: null,
};
