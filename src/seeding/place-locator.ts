import { createRequire } from 'node:module';
import type { MultiPolygon, Polygon } from 'geojson';
import { BoundaryCells, boxesOf, edgesOf } from '../decisions/engine/boundary-cells';
import { GeoLocator, SubdivisionBoundary } from '../decisions/engine/geo-locator';

/*
 * Where a generated fix lies, as GeoLocator.locate answers, without a point-in-polygon test for
 * most fixes. The generator puts every fix within PLACE_SPREAD_DEGREES of one of its places, so
 * each place's square is the root of a quadtree cut lazily (decisions/engine/boundary-cells.ts):
 * a cell that no boundary edge touches has its centre's answer, asked once. The answer is the
 * engine's own for every point (test/unit/generator-decisions.test.ts compares them, on borders
 * too; the seed test decides stored signals again with the real engine): the quadtree only chooses
 * when to ask. The demo's places lie inland or within their territorial waters, so most squares
 * are one cell, one lookup.
 */

/** How far the generator moves a fix from its place, in degrees each way (attempt-generator.ts). */
export const PLACE_SPREAD_DEGREES = 0.04;
/** The fix's coordinates are rounded to 5 decimals: a hair beyond the spread. */
const ROOT_MARGIN = 0.0001;
/** A place's square is cut at most 8 times: cells of about 35 m. */
const MAX_DEPTH = 8;

type CountryCoder = typeof import('@rapideditor/country-coder', { with: { 'resolution-mode': 'import' } });
const { borders } = createRequire(__filename)('@rapideditor/country-coder') as CountryCoder;

export class PlaceLocator extends GeoLocator {
  private readonly places: BoundaryCells;

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
    const reach = PLACE_SPREAD_DEGREES + ROOT_MARGIN;
    this.places = BoundaryCells.over(
      places.map((place) => [
        place.longitude - reach,
        place.latitude - reach,
        place.longitude + reach,
        place.latitude + reach,
      ]),
      all,
      (latitude, longitude) => super.locate(latitude, longitude),
      {
        // A point in a split territory's water goes to the nearest of its lands: not constant over a
        // cell, so squares reaching such a territory are located point by point.
        exactBoxes: boxesOf(
          edgesOf(
            subdivisions
              .filter((subdivision) => subdivision.splitInto?.length)
              .map((subdivision) => subdivision.geometry),
          ),
        ),
        maxDepth: MAX_DEPTH,
      },
    );
  }

  override locate(latitude: number, longitude: number): string | null {
    return this.places.locate(latitude, longitude);
  }
}
