import type { MultiPolygon, Polygon } from 'geojson';

/*
 * Where a point lies, asked of the exact locator as seldom as possible: a quadtree whose cells are
 * cut lazily where points are asked. A cell that no boundary edge touches lies wholly inside the
 * same polygons, so every point in it has the answer of its centre, asked once. Cells a border or
 * coastline crosses are cut again down to a depth limit (cells of about 35 m), and points in the
 * cells left crossed are located exactly. The answer is the exact locator's for every point: the
 * quadtree only chooses when to ask (test/unit/generator-decisions.test.ts compares them, on
 * borders and coasts too).
 */

/** Boundary edges, four numbers each (x1, y1, x2, y2 as longitude, latitude), in one flat array. */
export type Edges = Float64Array;

/** A box as [west, south, east, north]. */
export type Box = [number, number, number, number];

/** Cells are tested a little larger than they are, so an edge grazing a cell in floating point counts as crossing it. */
const EDGE_SLACK = 1e-9;

export function edgesOf(geometries: Iterable<Polygon | MultiPolygon>): Edges {
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

export function edgesTouching(edges: Edges, west: number, south: number, east: number, north: number): Edges {
  const [w, s, e, n] = [west - EDGE_SLACK, south - EDGE_SLACK, east + EDGE_SLACK, north + EDGE_SLACK];
  const kept: number[] = [];
  for (let at = 0; at < edges.length; at += 4)
    if (touches(edges, at, w, s, e, n)) kept.push(edges[at], edges[at + 1], edges[at + 2], edges[at + 3]);
  return Float64Array.from(kept);
}

/** The box around edges (one box: there is one split territory, Crimea's); none for no edges. */
export function boxesOf(edges: Edges): Box[] {
  if (edges.length === 0) return [];
  const box: Box = [Infinity, Infinity, -Infinity, -Infinity];
  for (let at = 0; at < edges.length; at += 2) {
    box[0] = Math.min(box[0], edges[at]);
    box[1] = Math.min(box[1], edges[at + 1]);
    box[2] = Math.max(box[2], edges[at]);
    box[3] = Math.max(box[3], edges[at + 1]);
  }
  return [box];
}

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

export interface BoundaryCellOptions {
  /** Boxes where the answer is not constant between edges (a split territory's water goes to the nearest land): located point by point. */
  exactBoxes?: readonly Box[];
  /** How deep a crossed cell is cut before its points are located exactly. */
  maxDepth: number;
  /** Cells made at most; past it, unresolved cells locate their points exactly (memory stays bounded). */
  maxCells?: number;
}

export class BoundaryCells {
  private cells = 0;
  private readonly exactBoxes: readonly Box[];
  private readonly maxCells: number;

  /**
   * @param roots the boxes the quadtree covers (the world, or a square per place); a point outside all is located exactly
   * @param edges every boundary edge the exact locator may consult
   * @param exact the exact locator
   */
  constructor(
    private readonly roots: readonly Cell[],
    private readonly exact: (latitude: number, longitude: number) => string | null,
    private readonly options: BoundaryCellOptions,
  ) {
    this.exactBoxes = options.exactBoxes ?? [];
    this.maxCells = options.maxCells ?? Infinity;
  }

  static over(
    boxes: readonly Box[],
    edges: Edges,
    exact: (latitude: number, longitude: number) => string | null,
    options: BoundaryCellOptions,
  ): BoundaryCells {
    const roots = boxes.map(([west, south, east, north]) => ({
      west,
      south,
      east,
      north,
      depth: 0,
      edges: edgesTouching(edges, west, south, east, north),
    }));
    return new BoundaryCells(roots, exact, options);
  }

  locate(latitude: number, longitude: number): string | null {
    const root = this.roots.find(
      (cell) => longitude >= cell.west && longitude <= cell.east && latitude >= cell.south && latitude <= cell.north,
    );
    if (!root) return this.exact(latitude, longitude);
    let cell = root;
    for (;;) {
      if (!cell.kind) this.resolve(cell);
      if (cell.kind === 'uniform') return cell.answer!;
      if (cell.kind === 'exact') return this.exact(latitude, longitude);
      const east = longitude >= (cell.west + cell.east) / 2 ? 1 : 0;
      const north = latitude >= (cell.south + cell.north) / 2 ? 2 : 0;
      cell = cell.children![east + north];
    }
  }

  private resolve(cell: Cell): void {
    const edges = cell.edges!;
    cell.edges = null;
    const nearExact = this.exactBoxes.find(
      ([w, s, e, n]) => w <= cell.east && e >= cell.west && s <= cell.north && n >= cell.south,
    );
    if (edges.length === 0 && !nearExact) {
      cell.kind = 'uniform';
      cell.answer = this.exact((cell.south + cell.north) / 2, (cell.west + cell.east) / 2);
      return;
    }
    // A cell reaching an exact box is cut until it is no larger than the box, then located point by point.
    const smallerThanBox = nearExact && cell.east - cell.west <= nearExact[2] - nearExact[0];
    if (cell.depth >= this.options.maxDepth || smallerThanBox || this.cells + 4 > this.maxCells) {
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
    this.cells += 4;
    // Order: [south-west, south-east, north-west, north-east], as locate() indexes them.
    cell.children = [
      child(cell.west, cell.south, midLongitude, midLatitude),
      child(midLongitude, cell.south, cell.east, midLatitude),
      child(cell.west, midLatitude, midLongitude, cell.north),
      child(midLongitude, midLatitude, cell.east, cell.north),
    ];
  }
}
