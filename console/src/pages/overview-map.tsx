// The overview's world map, drawn offline: Natural Earth countries and the project's subdivision land
// areas from one static asset of this server (world-shapes.json, built by console/shapes.mts). A
// subdivision with a shape of its own (Crimea UA-43, Sevastopol UA-40) is its own region, drawn over
// its country, which never counts it. Regions with figures are buttons: hover or focus shows them,
// a click (or Enter) filters the page to the region.
import { ReactNode, useEffect, useId, useMemo, useState } from 'react';

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

export interface Outline {
  code: string;
  name: string;
  /** The SVG path, computed once per page load (every map of the console draws the same outlines). */
  d: string;
}

let outlinesRequest: Promise<Outline[]> | null = null;
function loadOutlines(): Promise<Outline[]> {
  outlinesRequest ??= fetch(`${import.meta.env.BASE_URL}world-shapes.json`)
    .then((response) => {
      if (!response.ok) throw new Error(`world shapes: HTTP ${response.status}`);
      return response.json() as Promise<WorldShapes>;
    })
    .then((world) =>
      [...world.countries, ...world.subdivisions].map((shape) => ({
        code: shape.code,
        name: shape.name,
        d: path(shape),
      })),
    );
  // A failed load is tried again by the next map drawn, not remembered.
  outlinesRequest.catch(() => (outlinesRequest = null));
  return outlinesRequest;
}

/** Starts fetching the outlines before the first map mounts (a failure is reported by the map). */
export function preloadWorldMap(): void {
  loadOutlines().catch(() => undefined);
}

/**
 * The subdivisions the map draws as regions of their own (seeds/subdivision-boundaries.geojson):
 * any other subdivision is drawn as part of its country.
 */
export const DRAWN_SUBDIVISION_NAMES: ReadonlyMap<string, string> = new Map([
  ['UA-40', 'Sevastopol'],
  ['UA-43', 'Autonomous Republic of Crimea'],
]);
export const DRAWN_SUBDIVISIONS: ReadonlySet<string> = new Set(DRAWN_SUBDIVISION_NAMES.keys());

/** The code of the shape a region is drawn as: its own, or its country's. */
export const drawnCodeOf = (code: string) => (DRAWN_SUBDIVISIONS.has(code) ? code : code.split('-')[0]!);

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

/** A region the map shows: its fill and everything its figures say, in words. */
export interface MapRegion {
  /** The accessible name, the tooltip and the caption's line while hovered. */
  description: string;
  fill?: string;
}

/**
 * The world map every page of the console draws (the overview's figures, a policy diff's regions, a
 * simulation's transitions): outlines from the one asset, regions filled by the caller. With
 * `onSelect`, the regions are buttons (click, Enter or Space); without, images named by their
 * description. Hover or focus shows a region's description under the map.
 */
export function WorldMap({
  label,
  regions,
  legend,
  hint,
  selected = null,
  onSelect,
}: {
  label: string;
  /** By the code of a drawn region (a country, or a subdivision with a shape of its own: drawnCodeOf). */
  regions: ReadonlyMap<string, MapRegion>;
  legend: ReactNode;
  hint: string;
  selected?: string | null;
  onSelect?: (code: string) => void;
}) {
  const [outlines, setOutlines] = useState<Outline[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [hovered, setHovered] = useState<string | null>(null);
  const frameId = useId();
  useEffect(() => {
    let live = true;
    loadOutlines().then(
      (loaded) => live && setOutlines(loaded),
      (error: Error) => live && setFailure(error.message),
    );
    return () => {
      live = false;
    };
  }, []);

  if (failure) return <p className="map-missing">The map could not be drawn ({failure}).</p>;
  const shown = hovered ? regions.get(hovered) : selected ? regions.get(selected) : undefined;
  return (
    <figure className="world-map">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="group" aria-label={label} onMouseLeave={() => setHovered(null)}>
        <clipPath id={frameId}>
          <rect width={WIDTH} height={HEIGHT} />
        </clipPath>
        <rect width={WIDTH} height={HEIGHT} className="sea" />
        {!outlines && (
          <text x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle">
            Loading the map…
          </text>
        )}
        <g clipPath={`url(#${frameId})`}>
          {outlines?.map((outline, index) => {
            const region = outline.code ? regions.get(outline.code) : undefined;
            const key = `${outline.code}-${index}`;
            if (!region) return <path key={key} d={outline.d} className="land" aria-hidden="true" />;
            const common = {
              d: outline.d,
              style: region.fill ? { fill: region.fill } : undefined,
              'aria-label': region.description,
              'data-region': outline.code,
              onMouseEnter: () => setHovered(outline.code),
            };
            if (!onSelect)
              return (
                <path key={key} {...common} className="land has-figures" role="img">
                  <title>{region.description}</title>
                </path>
              );
            return (
              <path
                key={key}
                {...common}
                className={`land has-figures selectable${outline.code === selected ? ' selected' : ''}`}
                role="button"
                tabIndex={0}
                aria-pressed={outline.code === selected}
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
                <title>{region.description}</title>
              </path>
            );
          })}
        </g>
      </svg>
      <figcaption>
        <span className="map-legend" aria-hidden="true">
          {legend}
        </span>
        <span className="map-hover" aria-live="polite">
          {shown ? shown.description : hint}
        </span>
      </figcaption>
    </figure>
  );
}

/** A legend of colour steps: a swatch and the words beside it. */
export function Legend({ steps }: { steps: { colour: string; label: string }[] }) {
  return (
    <>
      {steps.map((step) => (
        <span key={step.label} className="legend-step">
          <span className="swatch" style={{ background: step.colour }} />
          {step.label}
        </span>
      ))}
    </>
  );
}

/** Fills for `values` by region: quantile classes of the sequential blues, and their legend. */
export function sequentialFills(values: ReadonlyMap<string, number>): {
  fillOf: (value: number) => string | undefined;
  legend: { colour: string; label: string }[];
} {
  const limits = limitsOf([...values.values()]);
  // Fewer classes than colours (a few regions, or equal values) take the darker end of the scale:
  // the largest value is always the darkest, never a pale blue that reads as "little".
  const offset = STEPS.length - 1 - limits.length;
  return {
    fillOf: (value) => (value > 0 ? STEPS[offset + limits.filter((limit) => value >= limit).length]! : undefined),
    legend: limits.length
      ? [0, ...limits].map((limit, step) => ({
          colour: STEPS[offset + step]!,
          label: `${step === 0 ? '1' : formatNumber(limit)}${step === limits.length ? '+' : ''}`,
        }))
      : [],
  };
}

/** The overview's map: regions coloured by the chosen measure, each a button that filters the page. */
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
  const { regions, legend } = useMemo(() => {
    const { fillOf, legend } = sequentialFills(new Map([...figures].map(([code, entry]) => [code, entry[measure]])));
    const regions = new Map<string, MapRegion>();
    for (const [code, entry] of figures)
      regions.set(code, { description: describe(entry), fill: fillOf(entry[measure]) });
    return { regions, legend };
  }, [figures, measure]);
  return (
    <WorldMap
      label={`World map coloured by ${MEASURES[measure].toLowerCase()}; regions with figures are buttons that filter the page`}
      regions={regions}
      selected={selected}
      onSelect={onSelect}
      hint="Hover over a region for its figures; click it to filter the page."
      legend={
        <>
          {MEASURES[measure]}: {legend.length === 0 ? 'none in this window' : <Legend steps={legend} />}
        </>
      }
    />
  );
}
