import { createRequire } from 'node:module';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import type { Feature, MultiPolygon, Polygon } from 'geojson';

type CountryCoder = typeof import('@rapideditor/country-coder', { with: { 'resolution-mode': 'import' } });
// country-coder ships a CommonJS build for require() but declares its types as ESM only.
const { iso1A2Code } = createRequire(__filename)('@rapideditor/country-coder') as CountryCoder;

export interface SubdivisionBoundary {
  code: string;
  geometry: Polygon | MultiPolygon;
}

/**
 * Where a coordinate lies. Subdivision boundaries that policies target are checked first, so a
 * decision never depends on which country a country-level data set assigns a disputed territory
 * to (country-coder answers RU for Crimea). Countries come from country-coder, whose borders
 * include territorial waters, so fixes on piers, beaches and boats in harbours count; a point far
 * out at sea lies in no region.
 */
export class GeoLocator {
  private readonly boundaries: readonly { code: string; feature: Feature<Polygon | MultiPolygon>; bbox: number[] }[];

  constructor(subdivisions: readonly SubdivisionBoundary[]) {
    this.boundaries = subdivisions.map((subdivision) => ({
      code: subdivision.code,
      feature: { type: 'Feature', properties: {}, geometry: subdivision.geometry },
      bbox: boundingBox(subdivision.geometry),
    }));
  }

  /** The most specific region code at the point, or null. */
  locate(latitude: number, longitude: number): string | null {
    for (const boundary of this.boundaries) {
      const [west, south, east, north] = boundary.bbox;
      if (longitude < west || longitude > east || latitude < south || latitude > north) continue;
      if (booleanPointInPolygon([longitude, latitude], boundary.feature)) return boundary.code;
    }
    return iso1A2Code([longitude, latitude]);
  }
}

function boundingBox(geometry: Polygon | MultiPolygon): number[] {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const polygon of polygons) {
    for (const [longitude, latitude] of polygon[0]) {
      box[0] = Math.min(box[0], longitude);
      box[1] = Math.min(box[1], latitude);
      box[2] = Math.max(box[2], longitude);
      box[3] = Math.max(box[3], latitude);
    }
  }
  return box;
}
