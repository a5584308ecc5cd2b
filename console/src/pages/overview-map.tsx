// The overview's world map, drawn offline: Natural Earth countries and the project's subdivision land
// areas from one static asset of this server (world-shapes.json, built by console/shapes.mts). A
// subdivision with a shape of its own (Crimea UA-43, Sevastopol UA-40) is its own region, drawn over
// its country, which never counts it. Regions with figures are buttons: hover or focus shows them,
// a click (or Enter) filters the page to the region.
import { useEffect, useMemo, useState } from 'react';

interface MapShape {
  code: string;
  name: string;
  bbox: [number, number, number, number];
  polygons: number[][][][];
}
interface WorldShapes {
  countries: MapShape[];
  subdivisions: MapShape[];
}

let shapesRequest: Promise<WorldShapes> | null = null;
function loadWorld(): Promise<WorldShapes> {
  shapesRequest ??= fetch(`${import.meta.env.BASE_URL}world-shapes.json`).then((response) => {
    if (!response.ok) throw new Error(`world shapes: HTTP ${response.status}`);
    return response.json() as Promise<WorldShapes>;
  });
  return shapesRequest;
}

export interface RegionFigures {
  code: string;
  name: string;
  attempts: number;
  locks: number;
  reviews: number;
  monitorWouldLocks: number;
  lockedNow: number;
}

export type Measure = 'attempts' | 'locks' | 'reviews' | 'monitorWouldLocks' | 'lockedNow';

export const MEASURES: Record<Measure, string> = {
  attempts: 'Attempts',
  locks: 'Locks',
  reviews: 'Reviews',
  monitorWouldLocks: 'MONITOR would-locks',
  lockedNow: 'Devices locked now',
};

const WIDTH = 960;
const NORTH = 84;
const SOUTH = -58;
const SCALE = WIDTH / 360;
const HEIGHT = Math.round((NORTH - SOUTH) * SCALE);
const x = (lon: number) => (lon + 180) * SCALE;
const y = (lat: number) => (NORTH - lat) * SCALE;
/** Sequential blues, light to dark (ColorBrewer Blues). */
const STEPS = ['#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];

const number = new Intl.NumberFormat('en');
export const formatNumber = (value: number) => number.format(value);

function path(shape: MapShape): string {
  return shape.polygons
    .map((polygon) =>
      polygon
        .map((ring) => 'M' + ring.map(([lon, lat]) => `${x(lon!).toFixed(1)},${y(lat!).toFixed(1)}`).join('L') + 'Z')
        .join(''),
    )
    .join('');
}

/** Class limits: quantiles of the non-zero values, so a few large regions do not wash out the rest. */
function limitsOf(values: number[]): number[] {
  const sorted = values.filter((value) => value > 0).sort((a, b) => a - b);
  if (!sorted.length) return [];
  const limits: number[] = [];
  for (let step = 1; step < STEPS.length; step++) {
    const limit = sorted[Math.min(sorted.length - 1, Math.floor((step * sorted.length) / STEPS.length))]!;
    if (!limits.length || limit > limits[limits.length - 1]!) limits.push(limit);
  }
  return limits;
}

export function describe(figures: RegionFigures): string {
  return (
    `${figures.name} (${figures.code}): ${formatNumber(figures.attempts)} attempts, ${formatNumber(figures.locks)} locks, ` +
    `${formatNumber(figures.reviews)} reviews, ${formatNumber(figures.monitorWouldLocks)} MONITOR would-locks, ` +
    `${formatNumber(figures.lockedNow)} devices locked now`
  );
}

export function OverviewMap({
  figures,
  measure,
  selected,
  onSelect,
}: {
  /** By the code of a drawn region (a country, or a subdivision with a shape of its own). */
  figures: Map<string, RegionFigures>;
  measure: Measure;
  selected: string | null;
  onSelect: (code: string) => void;
}) {
  const [world, setWorld] = useState<WorldShapes | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [hovered, setHovered] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadWorld().then(
      (loaded) => live && setWorld(loaded),
      (error: Error) => live && setFailure(error.message),
    );
    return () => {
      live = false;
    };
  }, []);
  // The outlines change only with the asset; the colours with the figures.
  const outlines = useMemo(
    () =>
      world
        ? [...world.countries, ...world.subdivisions].map((shape) => ({
            code: shape.code,
            name: shape.name,
            d: path(shape),
          }))
        : [],
    [world],
  );
  const limits = useMemo(() => limitsOf([...figures.values()].map((value) => value[measure])), [figures, measure]);
  const colour = (value: number) => (value > 0 ? STEPS[limits.filter((limit) => value >= limit).length]! : undefined);

  if (failure) return <p className="map-missing">The map could not be drawn ({failure}).</p>;
  const shown = hovered ? figures.get(hovered) : selected ? figures.get(selected) : undefined;
  return (
    <figure className="world-map">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="group"
        aria-label={`World map coloured by ${MEASURES[measure].toLowerCase()}; regions with figures are buttons that filter the page`}
        onMouseLeave={() => setHovered(null)}
      >
        <clipPath id="world-frame">
          <rect width={WIDTH} height={HEIGHT} />
        </clipPath>
        <rect width={WIDTH} height={HEIGHT} className="sea" />
        {!world && (
          <text x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle">
            Loading the map…
          </text>
        )}
        <g clipPath="url(#world-frame)">
          {outlines.map((outline, index) => {
            const regionFigures = outline.code ? figures.get(outline.code) : undefined;
            const fill = regionFigures ? colour(regionFigures[measure]) : undefined;
            const className = ['land', outline.code === selected ? 'selected' : '', regionFigures ? 'has-figures' : '']
              .filter(Boolean)
              .join(' ');
            if (!regionFigures)
              return <path key={`${outline.code}-${index}`} d={outline.d} className={className} aria-hidden="true" />;
            return (
              <path
                key={`${outline.code}-${index}`}
                d={outline.d}
                className={className}
                style={fill ? { fill } : undefined}
                role="button"
                tabIndex={0}
                aria-label={describe(regionFigures)}
                aria-pressed={outline.code === selected}
                data-region={outline.code}
                onMouseEnter={() => setHovered(outline.code)}
                onFocus={() => setHovered(outline.code)}
                onBlur={() => setHovered(null)}
                onClick={() => onSelect(outline.code)}
                onKeyDown={(event) => {
                  if (event.key === 'Enter' || event.key === ' ') {
                    event.preventDefault();
                    onSelect(outline.code);
                  }
                }}
              >
                <title>{describe(regionFigures)}</title>
              </path>
            );
          })}
        </g>
      </svg>
      <figcaption>
        <span className="map-legend" aria-hidden="true">
          {MEASURES[measure]}:{' '}
          {limits.length === 0
            ? 'none in this window'
            : [0, ...limits].map((limit, step) => (
                <span key={limit} className="legend-step">
                  <span className="swatch" style={{ background: STEPS[step] }} />
                  {step === 0 ? '1' : formatNumber(limit)}
                  {step === limits.length ? '+' : ''}
                </span>
              ))}
        </span>
        <span className="map-hover" aria-live="polite">
          {shown ? describe(shown) : 'Hover over a region for its figures; click it to filter the page.'}
        </span>
      </figcaption>
    </figure>
  );
}
