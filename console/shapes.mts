// Country outlines (@rapideditor/country-coder's borders, ISC, from OpenStreetMap and Natural Earth)
// and the project's subdivision boundaries (seeds/subdivision-boundaries.geojson) as one small JSON
// asset for the console's offline map: coordinates rounded to what a small map can show.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregateFeature, borders } from '@rapideditor/country-coder';
import type { Plugin } from 'vite';

type Ring = number[][];
type Polygons = Ring[][];

export interface MapShape {
  code: string;
  name: string;
  /** [west, south, east, north] */
  bbox: [number, number, number, number];
  polygons: Polygons;
}

function polygonsOf(geometry: { type: string; coordinates: unknown }): Polygons {
  if (geometry.type === 'Polygon') return [geometry.coordinates as Ring[]];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates as Polygons;
  return [];
}

/** Rounds each point to `digits` decimals and drops points that round onto the previous one. */
function simplify(polygons: Polygons, digits: number): Polygons {
  const factor = 10 ** digits;
  return polygons.map((polygon) =>
    polygon.map((ring) => {
      const out: Ring = [];
      for (const point of ring) {
        const rounded = [Math.round(point[0]! * factor) / factor, Math.round(point[1]! * factor) / factor];
        const last = out[out.length - 1];
        if (!last || last[0] !== rounded[0] || last[1] !== rounded[1]) out.push(rounded);
      }
      return out;
    }),
  );
}

function shape(code: string, name: string, polygons: Polygons): MapShape {
  let [west, south, east, north] = [180, 90, -180, -90];
  for (const polygon of polygons)
    for (const [x, y] of polygon[0] ?? []) {
      west = Math.min(west, x!);
      east = Math.max(east, x!);
      south = Math.min(south, y!);
      north = Math.max(north, y!);
    }
  return { code, name, bbox: [west, south, east, north], polygons };
}

export function buildShapes(root: string): { countries: MapShape[]; subdivisions: MapShape[] } {
  // Countries made of several parts (RU, US, FR…) have no geometry of their own: their aggregate does.
  const countries = borders.features
    .filter((feature) => feature.properties.iso1A2 && ['country', 'territory'].includes(feature.properties.level))
    .map((feature) => {
      const geometry = feature.geometry ?? aggregateFeature(feature.properties.iso1A2!)?.geometry;
      return shape(feature.properties.iso1A2!, feature.properties.nameEn, simplify(polygonsOf(geometry as never), 2));
    })
    .filter((country) => country.polygons.length > 0);
  const seeds = JSON.parse(readFileSync(join(root, 'seeds', 'subdivision-boundaries.geojson'), 'utf8')) as {
    features: {
      properties: { code: string; name: string; kind: string };
      geometry: { type: string; coordinates: unknown };
    }[];
  };
  // The land areas tell UA-40 from UA-43; the "territory" feature is their union with the waters.
  const subdivisions = seeds.features
    .filter((feature) => feature.properties.kind === 'land')
    .map((feature) =>
      shape(feature.properties.code, feature.properties.name, simplify(polygonsOf(feature.geometry), 3)),
    );
  return { countries, subdivisions };
}

export function mapShapes(): Plugin {
  return {
    name: 'compliance-map-shapes',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'map-shapes.json',
        source: JSON.stringify(buildShapes(dirname(dirname(fileURLToPath(import.meta.url))))),
      });
    },
  };
}
