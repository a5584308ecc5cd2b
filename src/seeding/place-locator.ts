import { createRequire } from 'node:module';
import type { MultiPolygon, Polygon } from 'geojson';
import { GeoLocator, SubdivisionBoundary } from '../decisions/engine/geo-locator';

/*
 * Where a generated fix lies, as GeoLocator.locate answers, without a point-in-polygon test for
 * most fixes. The generator puts every fix within PLACE_SPREAD_DEGREES of one of its places, so
 * each place's square is cut lazily into a quadtree: a cell that no boundary edge touches lies
 * wholly inside the same polygons, so every point in it has the answer of its centre, asked once.
 * Cells a border or coastline crosses are cut again down to MAX_DEPTH (cells of about 35 m), and
 * points in the cells left crossed are located exactly. The answer is the engine's own for every
 * point (test/unit/generator-decisions.test.ts compares them, on borders too; the seed test decides
 * stored signals again with the real engine): the quadtree only chooses when to ask. The demo's
 * places lie inland or within their territorial waters, so most squares are one cell, one lookup.
 */

/** How far the generator moves a fix from its place, in degrees each way (attempt-generator.ts). */
export const PLACE_SPREAD_DEGREES = 0.04;
/** The fix's coordinates are rounded to 5 decimals: a hair beyond the spread. */
const ROOT_MARGIN = 0.0001;
const MAX_DEPTH = 8;
/** Cells are tested a little larger than they are, so an edge grazing a cell in floating point counts as crossing it. */
const EDGE_SLACK = 1e-9;

type CountryCoder = typeof import('@rapideditor/country-coder', { with: { 'resolution-mode': 'import' } });
const { borders } = createRequire(__filename)('@rapideditor/country-coder') as CountryCoder;

/** Boundary edges, four numbers each (x1, y1, x2, y2 as longitude, latitude), in one flat array. */
type Edges = Float64Array;

interface Cell {
  west: number;
  south: number;
  east: number;
  north: number;
  depth: number;
  /** Edges touching the cell; dropped once the cell is resolved. */
  edges: Edges | null;
  /** Resolved: 'uniform' (answer holds), 'split' (children), or 'exact' (locate each point). */
  kind?: 'uniform' | 'split' | 'exact';
  answer?: string | null;
  children?: Cell[];
}

function edgesOf(geometries: Iterable<Polygon | MultiPolygon>): Edges {
  const values: number[] = [];
  for (const geometry of geometries) {
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    for (const polygon of polygons)
      for (const ring of polygon)
        for (let index = 1; index < ring.length; index += 1)
          values.push(ring[index - 1][0], ring[index - 1][1], ring[index][0], ring[index][1]);
  }
  return Float64Array.from(values);
}

/** Whether the segment touches the closed rectangle: bounding boxes overlap and the corners are not all on one side of its line. */
function touches(edges: Edges, at: number, west: number, south: number, east: number, north: number): boolean {
  const x1 = edges[at];
  const y1 = edges[at + 1];
  const x2 = edges[at + 2];
  const y2 = edges[at + 3];
  if (Math.max(x1, x2) < west || Math.min(x1, x2) > east || Math.max(y1, y2) < south || Math.min(y1, y2) > north)
    return false;
  const dx = x2 - x1;
  const dy = y2 - y1;
  const side = (x: number, y: number) => dx * (y - y1) - dy * (x - x1);
  const a = side(west, south);
  const b = side(east, south);
  const c = side(west, north);
  const d = side(east, north);
  return !((a > 0 && b > 0 && c > 0 && d > 0) || (a < 0 && b < 0 && c < 0 && d < 0));
}

function edgesTouching(edges: Edges, west: number, south: number, east: number, north: number): Edges {
  const [w, s, e, n] = [west - EDGE_SLACK, south - EDGE_SLACK, east + EDGE_SLACK, north + EDGE_SLACK];
  const kept: number[] = [];
  for (let at = 0; at < edges.length; at += 4)
    if (touches(edges, at, w, s, e, n)) kept.push(edges[at], edges[at + 1], edges[at + 2], edges[at + 3]);
  return Float64Array.from(kept);
}

export class PlaceLocator extends GeoLocator {
  private readonly roots: Cell[];

  /**
   * @param places the centres fixes are spread around (places.ts)
   * @param subdivisions, countryCodes what the engine's locator is built from (src/decisions/reference-data.ts)
   */
  constructor(
    places: readonly { latitude: number; longitude: number }[],
    subdivisions: readonly SubdivisionBoundary[],
    countryCodes: ReadonlySet<string>,
  ) {
    super(subdivisions, countryCodes);
    // Every boundary the locator may consult: the subdivisions' and every country-coder feature's.
    const all = edgesOf([
      ...subdivisions.map((subdivision) => subdivision.geometry),
      ...borders.features.flatMap((feature) => (feature.geometry ? [feature.geometry as Polygon | MultiPolygon] : [])),
    ]);
    // A point in a split territory's water goes to the nearest of its lands: not constant over a
    // cell, so squares reaching such a territory are located point by point.
    const splitEdges = edgesOf(
      subdivisions.filter((subdivision) => subdivision.splitInto?.length).map((subdivision) => subdivision.geometry),
    );
    const splitBoxes = boxesOf(splitEdges);
    const reach = PLACE_SPREAD_DEGREES + ROOT_MARGIN;
    this.roots = places.map((place) => {
      const [west, south, east, north] = [
        place.longitude - reach,
        place.latitude - reach,
        place.longitude + reach,
        place.latitude + reach,
      ];
      const nearSplit = splitBoxes.some(([w, s, e, n]) => w <= east && e >= west && s <= north && n >= south);
      return {
        west,
        south,
        east,
        north,
        depth: 0,
        edges: nearSplit ? null : edgesTouching(all, west, south, east, north),
        ...(nearSplit ? { kind: 'exact' as const } : {}),
      };
    });
  }

  override locate(latitude: number, longitude: number): string | null {
    const root = this.roots.find(
      (cell) => longitude >= cell.west && longitude <= cell.east && latitude >= cell.south && latitude <= cell.north,
    );
    if (!root) return super.locate(latitude, longitude);
    let cell = root;
    for (;;) {
      if (!cell.kind) this.resolve(cell);
      if (cell.kind === 'uniform') return cell.answer!;
      if (cell.kind === 'exact') return super.locate(latitude, longitude);
      const east = longitude >= (cell.west + cell.east) / 2 ? 1 : 0;
      const north = latitude >= (cell.south + cell.north) / 2 ? 2 : 0;
      cell = cell.children![east + north];
    }
  }

  private resolve(cell: Cell): void {
    const edges = cell.edges!;
    cell.edges = null;
    if (edges.length === 0) {
      cell.kind = 'uniform';
      cell.answer = super.locate((cell.south + cell.north) / 2, (cell.west + cell.east) / 2);
      return;
    }
    if (cell.depth >= MAX_DEPTH) {
      cell.kind = 'exact';
      return;
    }
    const midLongitude = (cell.west + cell.east) / 2;
    const midLatitude = (cell.south + cell.north) / 2;
    const child = (west: number, south: number, east: number, north: number): Cell => ({
      west,
      south,
      east,
      north,
      depth: cell.depth + 1,
      edges: edgesTouching(edges, west, south, east, north),
    });
    cell.kind = 'split';
    // Order: [south-west, south-east, north-west, north-east], as locate() indexes them.
    cell.children = [
      child(cell.west, cell.south, midLongitude, midLatitude),
      child(midLongitude, cell.south, cell.east, midLatitude),
      child(cell.west, midLatitude, midLongitude, cell.north),
      child(midLongitude, midLatitude, cell.east, cell.north),
    ];
  }
}

/** The box around the split territories' edges (one box: there is one such territory, Crimea's). */
function boxesOf(edges: Edges): [number, number, number, number][] {
  if (edges.length === 0) return [];
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let at = 0; at < edges.length; at += 2) {
    box[0] = Math.min(box[0], edges[at]);
    box[1] = Math.min(box[1], edges[at + 1]);
    box[2] = Math.max(box[2], edges[at]);
    box[3] = Math.max(box[3], edges[at + 1]);
  }
  return [box];
}
