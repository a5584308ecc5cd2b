import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mccMncList from 'mcc-mnc-list';
import { projectRoot } from '../config';
import { SubdivisionBoundary } from './engine/geo-locator';
import { MobileNetwork } from './engine/mobile-networks';

/** Subdivision boundaries shipped in seeds/ (see scripts/build-subdivision-boundaries.ts). */
export function loadSubdivisionBoundaries(): SubdivisionBoundary[] {
  const collection = JSON.parse(readFileSync(join(projectRoot(), 'seeds', 'subdivision-boundaries.geojson'), 'utf8'));
  return collection.features.map(
    (feature: {
      properties: { code: string; kind: SubdivisionBoundary['kind']; splitInto?: string[] };
      geometry: SubdivisionBoundary['geometry'];
    }) => ({
      code: feature.properties.code,
      kind: feature.properties.kind,
      splitInto: feature.properties.splitInto,
      geometry: feature.geometry,
    }),
  );
}

/** The ISO 3166-1 alpha-2 codes of the countries and territories in seeds/regions.json. */
export function loadCountryCodes(): Set<string> {
  const seed = JSON.parse(readFileSync(join(projectRoot(), 'seeds', 'regions.json'), 'utf8')) as {
    regions: { code: string; kind: string }[];
  };
  return new Set(seed.regions.filter((region) => region.kind === 'COUNTRY').map((region) => region.code));
}

/**
 * Networks from mcc-mnc-list (data: Wikipedia "Mobile country code", CC BY-SA 4.0). Networks the
 * list marks as operating only in Crimea use Russian MCC 250, so the MCC alone says RU; they are
 * mapped to the subdivision instead.
 */
export function loadMobileNetworks(): MobileNetwork[] {
  return mccMncList
    .all()
    .filter(
      (network) =>
        /^\d{3}$/.test(network.mcc) &&
        /^\d{2,3}$/.test(network.mnc ?? '') &&
        /^[A-Z]{2}$/.test(network.countryCode ?? ''),
    )
    .map((network) => ({
      mcc: network.mcc,
      mnc: network.mnc!,
      regionCode: /crimea only/i.test(network.notes ?? '') ? 'UA-43' : network.countryCode!,
      name: network.brand || network.operator || `${network.mcc}-${network.mnc}`,
    }));
}
