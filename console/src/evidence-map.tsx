// The GPS fix on a small map drawn offline: the Natural Earth countries the world map draws and the
// project's subdivisions with shapes of their own (Crimea UA-43, Sevastopol UA-40, drawn over their
// country as the world map does), kept finer in their own static asset of this server
// (map-shapes.json, built by console/shapes.mts, fetched only when a fix is shown); the resolved
// region's outline, the accuracy circle and the fix. No tiles, no request elsewhere.
import { useEffect, useState } from 'react';
import { DRAWN_SUBDIVISIONS } from './pages/overview-map';

interface MapShape {
  code: string;
  name: string;
  bbox: [number, number, number, number];
  polygons: number[][][][];
}
interface Shapes {
  countries: MapShape[];
  subdivisions: MapShape[];
}

let shapesRequest: Promise<Shapes> | null = null;
function loadShapes(): Promise<Shapes> {
  shapesRequest ??= fetch(`${import.meta.env.BASE_URL}map-shapes.json`).then((response) => {
    if (!response.ok) throw new Error(`map shapes: HTTP ${response.status}`);
    return response.json() as Promise<Shapes>;
  });
  // A failed load is tried again by the next map drawn, not remembered.
  shapesRequest.catch(() => (shapesRequest = null));
  return shapesRequest;
}

/**
 * The shapes that outline a region: its own (a subdivision drawn as a region of its own, or a
 * country), else its country's, as the world map draws a subdivision without a shape of its own.
 */
function outlineOf(shapes: Shapes, code: string): { shapes: MapShape[]; ofCountry: boolean } {
  const own = (DRAWN_SUBDIVISIONS.has(code) ? shapes.subdivisions : shapes.countries).filter(
    (shape) => shape.code === code,
  );
  if (own.length || !code.includes('-')) return { shapes: own, ofCountry: false };
  const country = code.split('-')[0]!;
  return { shapes: shapes.countries.filter((shape) => shape.code === country), ofCountry: true };
}

const WIDTH = 360;
const HEIGHT = 240;
const METRES_PER_DEGREE = 111_320;

export interface Fix {
  latitude: number;
  longitude: number;
  accuracyMeters?: number | null;
}

export function EvidenceMap({ fix, regionCode }: { fix: Fix; regionCode: string | null }) {
  const [shapes, setShapes] = useState<Shapes | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadShapes().then(
      (loaded) => live && setShapes(loaded),
      (error: Error) => live && setFailure(error.message),
    );
    return () => {
      live = false;
    };
  }, []);

  const accuracy = fix.accuracyMeters ?? 0;
  const outline = shapes && regionCode ? outlineOf(shapes, regionCode) : null;
  const region = outline?.shapes ?? [];
  const outlineName = region.length
    ? outline!.ofCountry
      ? `${region[0]!.name}, the country of ${regionCode}`
      : `${region[0]!.name} (${regionCode})`
    : null;
  const label =
    `Map: GPS fix at ${fix.latitude.toFixed(4)}, ${fix.longitude.toFixed(4)}` +
    (accuracy ? `, accuracy ${Math.round(accuracy)} m` : '') +
    (outlineName ? `, with the outline of ${outlineName}` : ', no region outline');

  if (failure) return <p className="map-missing">The map could not be drawn ({failure}).</p>;
  if (!shapes) return <div className="map" role="img" aria-label="Map loading" />;

  // The view: the region's box (a subdivision's, or its country's) and the fix with its circle.
  const accuracyDegrees = accuracy / METRES_PER_DEGREE;
  let [west, south, east, north] = [fix.longitude, fix.latitude, fix.longitude, fix.latitude];
  for (const shape of region) {
    if (shape.bbox[2] - shape.bbox[0] > 60) continue; // a country across the globe (RU, US): stay near the fix
    west = Math.min(west, shape.bbox[0]);
    south = Math.min(south, shape.bbox[1]);
    east = Math.max(east, shape.bbox[2]);
    north = Math.max(north, shape.bbox[3]);
  }
  const span = Math.max(east - west, north - south, accuracyDegrees * 3, 0.2);
  const middleLat = (south + north) / 2;
  const middleLon = (west + east) / 2;
  const xScale = Math.cos((middleLat * Math.PI) / 180);
  const degreesShown = span * 1.3;
  const scale = Math.min(WIDTH / (degreesShown * xScale), HEIGHT / degreesShown);
  const x = (lon: number) => WIDTH / 2 + (lon - middleLon) * xScale * scale;
  const y = (lat: number) => HEIGHT / 2 - (lat - middleLat) * scale;
  const view = {
    west: middleLon - WIDTH / 2 / (xScale * scale),
    east: middleLon + WIDTH / 2 / (xScale * scale),
    south: middleLat - HEIGHT / 2 / scale,
    north: middleLat + HEIGHT / 2 / scale,
  };
  const visible = (shape: MapShape) =>
    shape.bbox[0] <= view.east &&
    shape.bbox[2] >= view.west &&
    shape.bbox[1] <= view.north &&
    shape.bbox[3] >= view.south;
  const path = (shape: MapShape) =>
    shape.polygons
      .map((polygon) =>
        polygon
          .map((ring) => 'M' + ring.map(([lon, lat]) => `${x(lon!).toFixed(1)},${y(lat!).toFixed(1)}`).join('L') + 'Z')
          .join(''),
      )
      .join('');
  const radius = Math.max(accuracyDegrees * scale, 0);

  return (
    <figure className="map">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width={WIDTH} height={HEIGHT} role="img" aria-label={label}>
        <title>{label}</title>
        <rect width={WIDTH} height={HEIGHT} className="sea" />
        {/* Countries, then the subdivisions drawn as regions of their own over them. */}
        {[...shapes.countries, ...shapes.subdivisions].filter(visible).map((shape, index) => (
          <path key={`${shape.code}-${index}`} d={path(shape)} className="land" />
        ))}
        {region.map((shape, index) => (
          <path key={`region-${index}`} d={path(shape)} className="region" />
        ))}
        {radius > 1 && <circle cx={x(fix.longitude)} cy={y(fix.latitude)} r={radius} className="accuracy" />}
        <circle cx={x(fix.longitude)} cy={y(fix.latitude)} r={3} className="fix" />
      </svg>
      <figcaption>
        {outlineName ? `Outline: ${outlineName}` : 'No region outline'} · fix {fix.latitude.toFixed(4)},{' '}
        {fix.longitude.toFixed(4)}
        {accuracy ? ` ± ${Math.round(accuracy)} m` : ''}
      </figcaption>
    </figure>
  );
}
