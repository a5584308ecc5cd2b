// The console's offline maps: Natural Earth's countries (world-atlas) and the project's subdivision
// boundaries (seeds/subdivision-boundaries.geojson) as static JSON assets, coordinates rounded and
// thinned to what each map can show: the world map's (world-shapes.json) and the evidence map's,
// which zooms in on one region (map-shapes.json).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import countries from 'i18n-iso-countries';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
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

/**
 * Rounds to `digits` decimals, drops each point closer than `tolerance` degrees to the last one kept
 * (under a pixel on the map it is drawn for) and the islands that shrink below a triangle, except a
 * country's largest polygon, so that a small country still shows.
 */
function thin(polygons: Polygons, digits: number, tolerance: number): Polygons {
  const rounded = simplify(polygons, digits);
  const thinned = rounded.map((polygon) =>
    polygon
      .map((ring) => {
        const out: Ring = [];
        for (const point of ring) {
          const last = out[out.length - 1];
          if (!last || Math.abs(last[0]! - point[0]!) + Math.abs(last[1]! - point[1]!) >= tolerance) out.push(point);
        }
        return out;
      })
      .filter((ring) => ring.length >= 4),
  );
  const kept = thinned.filter((polygon) => polygon.length > 0);
  if (kept.length > 0) return kept;
  const largest = rounded.reduce(
    (best, polygon) => ((polygon[0]?.length ?? 0) > (best[0]?.length ?? 0) ? polygon : best),
    [],
  );
  return largest.length ? [largest.slice(0, 1)] : [];
}

/**
 * Rings that cross the antimeridian (Russia's Chukotka, Fiji) jump from 180° to -180°, which a flat
 * map would draw as a stripe across the world: each such ring is made continuous (past 180°) and
 * drawn a second time a world to the left, the map's frame cutting off what lies outside.
 */
function acrossTheAntimeridian(polygons: Polygons): Polygons {
  const out: Polygons = [];
  for (const polygon of polygons) {
    const unwrapped = polygon.map((ring) => {
      const continuous: Ring = [];
      for (const [lon, lat] of ring) {
        const previous = continuous[continuous.length - 1]?.[0];
        let x = lon!;
        while (previous !== undefined && x - previous > 180) x -= 360;
        while (previous !== undefined && previous - x > 180) x += 360;
        continuous.push([x, lat!]);
      }
      return continuous;
    });
    out.push(unwrapped);
    const xs = unwrapped.flatMap((ring) => ring.map((point) => point[0]!));
    if (Math.max(...xs) > 180) out.push(unwrapped.map((ring) => ring.map(([x, y]) => [x! - 360, y!])));
    if (Math.min(...xs) < -180) out.push(unwrapped.map((ring) => ring.map(([x, y]) => [x! + 360, y!])));
  }
  return out;
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

/** The project's subdivision land areas (seeds/subdivision-boundaries.geojson), drawn over their country. */
function subdivisionShapes(root: string): MapShape[] {
  const seeds = JSON.parse(readFileSync(join(root, 'seeds', 'subdivision-boundaries.geojson'), 'utf8')) as {
    features: {
      properties: { code: string; name: string; kind: string };
      geometry: { type: string; coordinates: unknown };
    }[];
  };
  // The land areas tell UA-40 from UA-43; the "territory" feature is their union with the waters.
  return seeds.features
    .filter((feature) => feature.properties.kind === 'land')
    .map((feature) =>
      shape(feature.properties.code, feature.properties.name, simplify(polygonsOf(feature.geometry), 3)),
    );
}

/**
 * Natural Earth's 1:50m admin-0 countries (world-atlas, public domain, TopoJSON turned into polygons
 * here, at build time) keyed by ISO alpha-2, rounded to `digits` decimals and thinned to `tolerance`
 * degrees. Natural Earth units without an ISO code (Kosovo, Northern Cyprus, Somaliland…) stay as
 * land without a code.
 */
function naturalEarthCountries(root: string, digits: number, tolerance: number): MapShape[] {
  const topology = JSON.parse(
    readFileSync(join(root, 'node_modules', 'world-atlas', 'countries-50m.json'), 'utf8'),
  ) as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const collection = feature(topology, topology.objects.countries);
  return collection.features
    .filter((country) => country.geometry && country.properties?.name !== 'Antarctica')
    .map((country) => {
      const code = (country.id && countries.numericToAlpha2(String(country.id))) || '';
      return shape(
        code,
        country.properties?.name ?? code,
        acrossTheAntimeridian(thin(polygonsOf(country.geometry as never), digits, tolerance)),
      );
    })
    .filter((country) => country.polygons.some((polygon) => (polygon[0]?.length ?? 0) >= 3));
}

/**
 * The evidence map's shapes: the same Natural Earth countries and subdivisions as the world map, kept
 * finer (0.01°, about a kilometre), since that map zooms in on one region and its GPS fix. Fetched
 * only when a GPS fix is shown.
 */
export function buildShapes(root: string): { countries: MapShape[]; subdivisions: MapShape[] } {
  return { countries: naturalEarthCountries(root, 2, 0.02), subdivisions: subdivisionShapes(root) };
}

/**
 * The world map's shapes (overview, policy diff, simulation): the Natural Earth countries thinned to
 * under a pixel of its 960-pixel width, plus the subdivision land areas, drawn over them so that
 * Crimea and Sevastopol are regions of their own.
 */
export function buildWorldShapes(root: string): { countries: MapShape[]; subdivisions: MapShape[] } {
  return { countries: naturalEarthCountries(root, 1, 0.6), subdivisions: subdivisionShapes(root) };
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
      this.emitFile({
        type: 'asset',
        fileName: 'world-shapes.json',
        source: JSON.stringify(buildWorldShapes(dirname(dirname(fileURLToPath(import.meta.url))))),
      });
    },
  };
}
