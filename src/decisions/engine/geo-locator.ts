import { createRequire } from 'node:module';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import { BoundaryCells, boxesOf, edgesOf } from './boundary-cells';

type CountryCoder = typeof import('@rapideditor/country-coder', { with: { 'resolution-mode': 'import' } });
// country-coder ships a CommonJS build for require() but declares its types as ESM only.
const { featuresContaining, borders } = createRequire(__filename)('@rapideditor/country-coder') as CountryCoder;

/** Crossed cells are cut down to 360° / 2^20 (about 35 m at the equator) before their points are located exactly. */
const MAX_CELL_DEPTH = 20;
/** Cells remembered at most (a few tens of MB): points past it in cells not yet cut are located exactly. */
const MAX_CELLS = 400_000;

export interface SubdivisionBoundary {
  code: string;
  geometry: Polygon | MultiPolygon;
  /**
   * `territory`: a boundary including territorial waters, checked before any country lookup.
   * `land`: the land area of a subdivision, used to split a territory among the subdivisions it
   * holds (Crimea's territory into UA-43 and UA-40).
   */
  kind: 'territory' | 'land';
  /** For a territory: the land areas that split it. A point on land lies in the one it is in; a
   * point in the territory's water (a harbour, a pier the coastline simplifies away) in the nearest. */
  splitInto?: readonly string[];
}

interface Area {
  code: string;
  feature: Feature<Polygon | MultiPolygon>;
  bbox: number[];
}

/**
 * Where a coordinate lies. Subdivision boundaries that policies target are checked first, so a
 * decision never depends on which country a country-level data set assigns a disputed territory
 * to (country-coder answers RU for Crimea). Countries come from country-coder, whose borders
 * include territorial waters, so fixes on piers, beaches and boats in harbours count; a point far
 * out at sea lies in no region.
 *
 * Dependent territories with an ISO 3166-1 code of their own (Greenland GL, the Cayman Islands KY,
 * Puerto Rico PR, Hong Kong HK, …) are regions of their own: of the features country-coder finds
 * at a point, most specific first, the first whose code is one of `countryCodes` decides. Features
 * without such a code (the Canary Islands IC, Ceuta EA, Diego Garcia DG: exceptionally reserved
 * codes) give way to the next one (ES, ES, IO).
 */
export class GeoLocator {
  private readonly territories: readonly (Area & { lands: readonly Area[] })[];
  /**
   * The world cut lazily into cells no boundary crosses (boundary-cells.ts): a what-if replays
   * millions of fixes, and a point-in-polygon test over country-coder's borders was the largest
   * part of reading one; most fixes now take a walk down a quadtree, with the same answers.
   */
  private readonly cells: BoundaryCells;

  /**
   * @param countryCodes the ISO 3166-1 alpha-2 codes that are regions (seeds/regions.json); when
   *   omitted, every code country-coder knows at the territory or country level.
   */
  constructor(
    subdivisions: readonly SubdivisionBoundary[],
    private readonly countryCodes?: ReadonlySet<string>,
  ) {
    const areaOf = (subdivision: SubdivisionBoundary): Area => ({
      code: subdivision.code,
      feature: { type: 'Feature', properties: {}, geometry: subdivision.geometry },
      bbox: boundingBox(subdivision.geometry),
    });
    const lands = new Map(
      subdivisions.filter((subdivision) => subdivision.kind === 'land').map((land) => [land.code, areaOf(land)]),
    );
    this.territories = subdivisions
      .filter((subdivision) => subdivision.kind === 'territory')
      .map((territory) => ({
        ...areaOf(territory),
        lands: (territory.splitInto ?? []).map((code) => {
          const land = lands.get(code);
          if (!land) throw new Error(`territory ${territory.code} is split into ${code}, which has no land boundary`);
          return land;
        }),
      }));
    // Every boundary locateExactly may consult: the subdivisions' and every country-coder feature's.
    const edges = edgesOf([
      ...subdivisions.map((subdivision) => subdivision.geometry),
      ...borders.features.flatMap((feature) => (feature.geometry ? [feature.geometry as Polygon | MultiPolygon] : [])),
    ]);
    this.cells = BoundaryCells.over(
      [[-180, -90, 180, 90]],
      edges,
      (latitude, longitude) => this.locateExactly(latitude, longitude),
      {
        // A point in a split territory's water goes to the nearest of its lands: not constant over a cell.
        exactBoxes: boxesOf(
          edgesOf(
            subdivisions
              .filter((subdivision) => subdivision.splitInto?.length)
              .map((subdivision) => subdivision.geometry),
          ),
        ),
        maxDepth: MAX_CELL_DEPTH,
        maxCells: MAX_CELLS,
      },
    );
  }

  /** The most specific region code at the point, or null. */
  locate(latitude: number, longitude: number): string | null {
    return this.cells.locate(latitude, longitude);
  }

  /** What locate answers, found by point-in-polygon tests alone. */
  locateExactly(latitude: number, longitude: number): string | null {
    for (const territory of this.territories) {
      if (!contains(territory, latitude, longitude)) continue;
      if (territory.lands.length === 0) return territory.code;
      const onLand = territory.lands.find((land) => contains(land, latitude, longitude));
      if (onLand) return onLand.code;
      let nearest = territory.lands[0];
      let nearestDistance = Infinity;
      for (const land of territory.lands) {
        const distance = distanceToBoundary(land.feature.geometry, latitude, longitude);
        if (distance < nearestDistance) [nearest, nearestDistance] = [land, distance];
      }
      return nearest.code;
    }
    return this.countryAt(latitude, longitude);
  }

  /** The most specific ISO 3166-1 entity whose borders (territorial waters included) hold the point. */
  private countryAt(latitude: number, longitude: number): string | null {
    for (const feature of featuresContaining([longitude, latitude])) {
      const { iso1A2: code, level } = feature.properties;
      if (!code) continue;
      if (this.countryCodes ? this.countryCodes.has(code) : level === 'territory' || level === 'country') return code;
    }
    return null;
  }
}

function contains(area: Area, latitude: number, longitude: number): boolean {
  const [west, south, east, north] = area.bbox;
  if (longitude < west || longitude > east || latitude < south || latitude > north) return false;
  return booleanPointInPolygon([longitude, latitude], area.feature);
}

/**
 * Squared distance, in degrees of latitude, from a point to the nearest edge of a polygon: an
 * equirectangular projection around the point, exact enough to tell which of two neighbouring
 * shores a point off a coast is nearer to.
 */
function distanceToBoundary(geometry: Polygon | MultiPolygon, latitude: number, longitude: number): number {
  const scale = Math.cos((latitude * Math.PI) / 180);
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let best = Infinity;
  for (const polygon of polygons) {
    for (const ring of polygon) {
      for (let index = 1; index < ring.length; index += 1) {
        const ax = (ring[index - 1][0] - longitude) * scale;
        const ay = ring[index - 1][1] - latitude;
        const bx = (ring[index][0] - longitude) * scale;
        const by = ring[index][1] - latitude;
        const dx = bx - ax;
        const dy = by - ay;
        const length = dx * dx + dy * dy;
        const t = length === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / length));
        const x = ax + t * dx;
        const y = ay + t * dy;
        best = Math.min(best, x * x + y * y);
      }
    }
  }
  return best;
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
