import { GeoLocator } from './engine/geo-locator';
import { MobileNetworkTable } from './engine/mobile-networks';
import { loadCountryCodes, loadMobileNetworks, loadSubdivisionBoundaries } from './reference-data';

/*
 * The reference data that ships with the code, apart from the evaluator (which reads rules from
 * the database): a worker thread deciding attempts loads this and the engine, not the ORM and its
 * entities, which took it seconds to start.
 */

let staticData: { locator: GeoLocator; networks: MobileNetworkTable } | undefined;

/** Boundaries and networks ship with the code: loaded once per process. */
export function loadStaticData() {
  staticData ??= {
    locator: new GeoLocator(loadSubdivisionBoundaries(), loadCountryCodes()),
    networks: new MobileNetworkTable(loadMobileNetworks(), (code) => code.includes('-')),
  };
  return staticData;
}
