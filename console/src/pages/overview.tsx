// The overview for analysts (a partner sees its own devices): attempts and locks by region on a map,
// trends, the devices locked now, the review queue, the top regions, and a live feed of decisions.
// Everything it shows is in the URL (window, zone, bucket, measure, region), and its data comes in
// two GraphQL documents: the map's (not narrowed by the chosen region, so it stays put on a click),
// with the devices locked now by region, policy and cause in one grouping, which the locked-devices
// panel narrows to the chosen region itself (one scan of the locked devices instead of four); and the
// trend and the queue's.
import { useEffect, useMemo, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { CsvDownload, csvPath } from '../csv';
import { graphql } from '../gql';
import type { OverviewDecisionsSubscription, StatsInterval } from '../gql/graphql';
import { can } from '../roles';
import { Link, navigate, useLocation, withParams } from '../router';
import { Field, Loading, RequestError, StatusBadge, Time, age } from '../ui';
import { useViewer } from '../viewer';
import {
  DRAWN_SUBDIVISIONS,
  DRAWN_SUBDIVISION_NAMES,
  MEASURES,
  Measure,
  OverviewMap,
  RegionFigures,
  formatNumber,
  preloadWorldMap,
} from './overview-map';
import { TrendChart } from './overview-trend';

const OverviewMapQuery = graphql(`
  query OverviewMap($filter: ActivationStatsFilter!) {
    byRegion: activationStats(filter: $filter, groupBy: [REGION]) {
      rows {
        region {
          code
          name
        }
        attempts
        locks
        reviews
        monitorWouldLocks
      }
    }
    lockedNow: lockedDeviceStats(groupBy: [REGION, POLICY, CAUSE]) {
      rows {
        region {
          code
          name
        }
        policy {
          key
          title
        }
        cause
        devices
        oldestLockedAt
      }
    }
  }
`);

const OverviewDetailQuery = graphql(`
  query OverviewDetail(
    $filter: ActivationStatsFilter!
    $scope: DeviceScopeFilter!
    $interval: StatsInterval!
    $timeZone: String!
    $withQueue: Boolean!
  ) {
    trend: activationStats(filter: $filter, interval: $interval, timeZone: $timeZone) {
      timeZone
      rows {
        bucketStart
        attempts
        devices
        locks
        reviews
        monitorWouldLocks
      }
      totals {
        attempts
        devices
        locks
        reviews
        monitorWouldLocks
      }
    }
    queue: reviewQueueStats(filter: $scope) @include(if: $withQueue) {
      asOf
      totals {
        waiting
        waitingOverHour
        waitingOverDay
        waitingOverWeek
        oldestReceivedAt
      }
    }
  }
`);

const DecisionsFeed = graphql(`
  subscription OverviewDecisions {
    activationDecided {
      committedAt
      attempt {
        id
        occurredAt
        outcome
        enforced
        reasonCodes
        resolvedRegion {
          code
          name
        }
        policyVersion {
          number
          policy {
            key
          }
        }
        device {
          imei
          status
        }
      }
    }
  }
`);

// The map's outlines are fetched with this page's code, beside its GraphQL requests, not after its first render.
preloadWorldMap();

const DAY_MS = 86_400_000;
const INTERVALS: StatsInterval[] = ['DAY', 'WEEK', 'MONTH'];
const WINDOWS: Record<string, number> = { '7': 7, '30': 30, '90': 90, '365': 365 };
const FEED_LENGTH = 25;

/** A YYYY-MM-DD date's UTC midnight, or null. */
function dayStart(value: string | null): Date | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}
const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/**
 * The window: whole UTC days from `from` to `to` inclusive (whole days are read from the daily
 * counts), by default the 30 days up to today.
 */
export function windowOf(params: URLSearchParams): { from: string; to: string; fromDay: string; toDay: string } {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const last = dayStart(params.get('to')) ?? today;
  const days = WINDOWS[params.get('days') ?? ''] ?? 30;
  let first = dayStart(params.get('from')) ?? new Date(last.getTime() - (days - 1) * DAY_MS);
  if (first > last) first = last;
  return {
    from: first.toISOString(),
    to: new Date(last.getTime() + DAY_MS).toISOString(),
    fromDay: isoDay(first),
    toDay: isoDay(last),
  };
}

/** The zones the browser knows, the browser's own first. */
function timeZones(): string[] {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const all = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return [...new Set(['UTC', own, ...all])];
}

function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface RegionRow {
  region: { code: string; name: string } | null;
  attempts: number;
  locks: number;
  reviews: number;
  monitorWouldLocks: number;
}

/**
 * The figures per drawn region: a subdivision with a shape of its own keeps its rows; any other
 * subdivision counts in its country (the map has no shape for it).
 */
export function figuresByDrawnRegion(
  rows: readonly RegionRow[],
  locked: readonly { region: { code: string; name: string } | null; devices: number }[],
  drawnSubdivisions: ReadonlySet<string>,
  countryNames: ReadonlyMap<string, string>,
): Map<string, RegionFigures> {
  const figures = new Map<string, RegionFigures>();
  const entry = (region: { code: string; name: string }) => {
    const code = drawnSubdivisions.has(region.code) ? region.code : region.code.split('-')[0]!;
    let found = figures.get(code);
    if (!found) {
      const name = code === region.code ? region.name : (countryNames.get(code) ?? code);
      found = { code, name, attempts: 0, locks: 0, reviews: 0, monitorWouldLocks: 0, lockedNow: 0 };
      figures.set(code, found);
    }
    return found;
  };
  for (const row of rows) {
    if (!row.region) continue;
    const found = entry(row.region);
    found.attempts += row.attempts;
    found.locks += row.locks;
    found.reviews += row.reviews;
    found.monitorWouldLocks += row.monitorWouldLocks;
  }
  for (const row of locked) if (row.region) entry(row.region).lockedNow += row.devices;
  return figures;
}

/** The report filter of a region as the map draws it: a country without its subdivisions drawn apart. */
export function scopeOfDrawnRegion(region: string | null): { regionCodes?: string[]; excludeRegionCodes?: string[] } {
  if (!region) return {};
  const apart = [...DRAWN_SUBDIVISIONS].filter((code) => code.startsWith(`${region}-`)).sort();
  return { regionCodes: [region], ...(apart.length ? { excludeRegionCodes: apart } : {}) };
}

/** The review queue narrowed as the overview is: Ukraine's queue leaves Crimea and Sevastopol out, as its figures do. */
export function reviewQueuePath(region: string | null): string {
  const scope = scopeOfDrawnRegion(region);
  const params = new URLSearchParams();
  if (scope.regionCodes) params.set('region', scope.regionCodes[0]!);
  if (scope.excludeRegionCodes) params.set('without', scope.excludeRegionCodes.join(','));
  return params.size ? `/reviews?${params}` : '/reviews';
}

export function OverviewPage() {
  const location = useLocation();
  const viewer = useViewer();
  const params = location.params;
  const window = windowOf(params);
  const zoneParam = params.get('tz');
  const timeZone = zoneParam && isValidZone(zoneParam) ? zoneParam : Intl.DateTimeFormat().resolvedOptions().timeZone;
  const interval = INTERVALS.find((value) => value === params.get('interval')) ?? 'DAY';
  const measure = (Object.keys(MEASURES) as Measure[]).find((value) => value === params.get('measure')) ?? 'attempts';
  const region = params.get('region')?.toUpperCase() || null;
  const set = (changes: Record<string, string | null>) => navigate(withParams(location, changes), { replace: true });

  const mapFilter = useMemo(() => ({ from: window.from, to: window.to }), [window.from, window.to]);
  const [map, refetchMap] = useQuery({ query: OverviewMapQuery, variables: { filter: mapFilter } });
  // A region as the map draws it: Ukraine's figures leave out Crimea and Sevastopol, which are drawn
  // (and counted) as regions of their own, so the trend, the locked devices, the queue and every CSV
  // agree with the figures the map shows on hover.
  const regionScope = useMemo(() => scopeOfDrawnRegion(region), [region]);
  const withQueue = can.readReviews(viewer.role);
  const detailVariables = useMemo(
    () => ({
      filter: { from: window.from, to: window.to, ...regionScope },
      scope: regionScope,
      interval,
      timeZone,
      withQueue,
    }),
    [window.from, window.to, regionScope, interval, timeZone, withQueue],
  );
  const [detail, refetchDetail] = useQuery({ query: OverviewDetailQuery, variables: detailVariables });

  const figures = useMemo(() => {
    if (!map.data) return new Map<string, RegionFigures>();
    const names = new Map<string, string>();
    for (const row of map.data.byRegion.rows)
      if (row.region && !row.region.code.includes('-')) names.set(row.region.code, row.region.name);
    for (const row of map.data.lockedNow.rows)
      if (row.region && !row.region.code.includes('-')) names.set(row.region.code, row.region.name);
    return figuresByDrawnRegion(map.data.byRegion.rows, map.data.lockedNow.rows, DRAWN_SUBDIVISIONS, names);
  }, [map.data]);
  const locked = useMemo(
    () => (map.data ? lockedWithin(map.data.lockedNow.rows, regionScope) : null),
    [map.data, regionScope],
  );
  const selectedName = region ? (figures.get(region)?.name ?? region) : null;
  const topRegions = [...figures.values()]
    .filter((entry) => entry[measure] > 0)
    .sort((a, b) => b[measure] - a[measure] || a.code.localeCompare(b.code))
    .slice(0, 15);
  const windowCsv = { from: window.from, to: window.to };
  const scopeCsv = regionScope;

  return (
    <div className="overview">
      <h1>Overview{selectedName ? `: ${selectedName}` : ''}</h1>
      <form className="filters" aria-label="Overview filters" onSubmit={(event) => event.preventDefault()}>
        <Field label="From (UTC day)">
          {(props) => (
            <input
              {...props}
              type="date"
              value={window.fromDay}
              max={window.toDay}
              onChange={(event) => event.target.value && set({ from: event.target.value, days: null })}
            />
          )}
        </Field>
        <Field label="To (UTC day, inclusive)">
          {(props) => (
            <input
              {...props}
              type="date"
              value={window.toDay}
              min={window.fromDay}
              onChange={(event) => event.target.value && set({ to: event.target.value, days: null })}
            />
          )}
        </Field>
        <Field label="Last">
          {(props) => (
            <select
              {...props}
              value=""
              onChange={(event) => event.target.value && set({ days: event.target.value, from: null, to: null })}
            >
              <option value="">choose…</option>
              {Object.keys(WINDOWS).map((days) => (
                <option key={days} value={days}>
                  {days} days
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Buckets">
          {(props) => (
            <select {...props} value={interval} onChange={(event) => set({ interval: event.target.value })}>
              <option value="DAY">per day</option>
              <option value="WEEK">per week (from Monday)</option>
              <option value="MONTH">per month</option>
            </select>
          )}
        </Field>
        <Field label="Time zone">
          {(props) => (
            <select {...props} value={timeZone} onChange={(event) => set({ tz: event.target.value })}>
              {timeZones().map((zone) => (
                <option key={zone} value={zone}>
                  {zone}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Colour the map by">
          {(props) => (
            <select {...props} value={measure} onChange={(event) => set({ measure: event.target.value })}>
              {(Object.keys(MEASURES) as Measure[]).map((value) => (
                <option key={value} value={value}>
                  {MEASURES[value]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>

      <section aria-labelledby="map-heading" className="panel">
        <h2 id="map-heading">By region, {describeWindow(window)}</h2>
        {map.error && <RequestError error={map.error} retry={() => refetchMap({ requestPolicy: 'network-only' })} />}
        {!map.data && map.fetching && <Loading what="the map's figures" />}
        <OverviewMap
          figures={figures}
          measure={measure}
          selected={region}
          onSelect={(code) => set({ region: code === region ? null : code })}
        />
        {regionScope.excludeRegionCodes && (
          <p className="hint" role="note">
            {selectedName}&apos;s figures leave out{' '}
            {regionScope.excludeRegionCodes
              .map((code) => `${DRAWN_SUBDIVISION_NAMES.get(code) ?? code} (${code})`)
              .join(' and ')}
            : the map draws {regionScope.excludeRegionCodes.length === 1 ? 'it as a region' : 'them as regions'} of
            their own.
          </p>
        )}
        <p className="actions">
          {region && (
            <button type="button" onClick={() => set({ region: null })}>
              Show all regions
            </button>
          )}
          <CsvDownload
            href={csvPath('activation-stats', { ...windowCsv, groupBy: 'REGION' })}
            filename="activations-by-region.csv"
            label="Attempts, locks, reviews and would-locks by region"
          />
          <CsvDownload
            href={csvPath('locked-devices', { groupBy: 'REGION' })}
            filename="locked-devices-by-region.csv"
            label="Devices locked now by region"
          />
        </p>
      </section>

      {detail.error && (
        <RequestError error={detail.error} retry={() => refetchDetail({ requestPolicy: 'network-only' })} />
      )}
      {!detail.data && detail.fetching && <Loading what="the overview" />}
      {detail.data && (
        <div className="overview-grid" aria-busy={detail.fetching}>
          <section aria-labelledby="trend-heading" className="panel wide">
            <h2 id="trend-heading">
              Trend {interval === 'DAY' ? 'per day' : interval === 'WEEK' ? 'per week' : 'per month'}
              {selectedName ? ` in ${selectedName}` : ''} ({detail.data.trend.timeZone})
            </h2>
            <TrendChart rows={detail.data.trend.rows} interval={interval} timeZone={detail.data.trend.timeZone} />
            <table aria-label={`Trend${selectedName ? ` in ${selectedName}` : ''}`} className="numbers">
              <thead>
                <tr>
                  <th scope="col">{interval === 'DAY' ? 'Day' : interval === 'WEEK' ? 'Week of' : 'Month'}</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Devices</th>
                  <th scope="col">Locks</th>
                  <th scope="col">Reviews</th>
                  <th scope="col">MONITOR would-locks</th>
                </tr>
              </thead>
              <tbody>
                {detail.data.trend.rows.map((row) => (
                  <tr key={row.bucketStart}>
                    <th scope="row">{bucketLabel(row.bucketStart!, interval, detail.data!.trend.timeZone)}</th>
                    <td>{formatNumber(row.attempts)}</td>
                    <td>{formatNumber(row.devices)}</td>
                    <td>{formatNumber(row.locks)}</td>
                    <td>{formatNumber(row.reviews)}</td>
                    <td>{formatNumber(row.monitorWouldLocks)}</td>
                  </tr>
                ))}
                {detail.data.trend.rows.length === 0 && (
                  <tr>
                    <td colSpan={6}>No attempts in this window.</td>
                  </tr>
                )}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td>{formatNumber(detail.data.trend.totals.attempts)}</td>
                  <td>{formatNumber(detail.data.trend.totals.devices)}</td>
                  <td>{formatNumber(detail.data.trend.totals.locks)}</td>
                  <td>{formatNumber(detail.data.trend.totals.reviews)}</td>
                  <td>{formatNumber(detail.data.trend.totals.monitorWouldLocks)}</td>
                </tr>
              </tfoot>
            </table>
            <p className="actions">
              <CsvDownload
                href={csvPath('activation-stats', { ...windowCsv, ...scopeCsv, interval, timeZone })}
                filename={`trend-per-${interval.toLowerCase()}.csv`}
                label="Trend"
              />
            </p>
          </section>

          <section aria-labelledby="locked-heading" className="panel">
            <h2 id="locked-heading">Devices locked now{selectedName ? ` in ${selectedName}` : ''}</h2>
            {!locked ? (
              <Loading what="the locked devices" />
            ) : (
              <>
                <p className="summary">
                  <strong>{formatNumber(locked.devices)}</strong> locked
                  {locked.oldestLockedAt && (
                    <>
                      {' '}
                      · oldest lock <Time value={locked.oldestLockedAt} />
                    </>
                  )}
                </p>
                <CountTable label="Locked now by region" heading="Region" rows={locked.byRegion} />
                <CsvDownload
                  href={csvPath('locked-devices', { ...scopeCsv, groupBy: 'REGION' })}
                  filename="locked-devices-by-region.csv"
                  label="By region"
                />
                <CountTable label="Locked now by policy" heading="Policy" rows={locked.byPolicy} />
                <CsvDownload
                  href={csvPath('locked-devices', { ...scopeCsv, groupBy: 'POLICY' })}
                  filename="locked-devices-by-policy.csv"
                  label="By policy"
                />
                <CountTable label="Locked now by cause" heading="Cause" rows={locked.byCause} />
                <CsvDownload
                  href={csvPath('locked-devices', { ...scopeCsv, groupBy: 'CAUSE' })}
                  filename="locked-devices-by-cause.csv"
                  label="By cause"
                />
              </>
            )}
          </section>

          {detail.data.queue && (
            <section aria-labelledby="queue-heading" className="panel">
              <h2 id="queue-heading">Review queue{selectedName ? ` in ${selectedName}` : ''}</h2>
              <p className="summary">
                <strong>{formatNumber(detail.data.queue.totals.waiting)}</strong> open
                {detail.data.queue.totals.oldestReceivedAt && (
                  <>
                    {' '}
                    · oldest waiting <strong>{age(detail.data.queue.totals.oldestReceivedAt)}</strong>
                  </>
                )}
              </p>
              <dl className="facts">
                <dt>Waiting over an hour</dt>
                <dd>{formatNumber(detail.data.queue.totals.waitingOverHour)}</dd>
                <dt>Over a day</dt>
                <dd>{formatNumber(detail.data.queue.totals.waitingOverDay)}</dd>
                <dt>Over a week</dt>
                <dd>{formatNumber(detail.data.queue.totals.waitingOverWeek)}</dd>
              </dl>
              <p className="actions">
                <Link to={reviewQueuePath(region)}>Open the queue</Link>
                <CsvDownload
                  href={csvPath('review-queue', { ...scopeCsv, groupBy: 'REGION' })}
                  filename="review-queue-by-region.csv"
                  label="Queue by region"
                />
              </p>
            </section>
          )}

          <section aria-labelledby="top-heading" className="panel wide">
            <h2 id="top-heading">Top regions by {MEASURES[measure].toLowerCase()}</h2>
            <table aria-label="Top regions" className="numbers">
              <thead>
                <tr>
                  <th scope="col">Region</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Locks</th>
                  <th scope="col">Reviews</th>
                  <th scope="col">Would-locks</th>
                  <th scope="col">Locked now</th>
                </tr>
              </thead>
              <tbody>
                {topRegions.map((entry) => (
                  <tr key={entry.code} className={entry.code === region ? 'selected' : ''}>
                    <th scope="row">
                      <button
                        type="button"
                        className="link"
                        aria-pressed={entry.code === region}
                        onClick={() => set({ region: entry.code === region ? null : entry.code })}
                      >
                        {entry.name} ({entry.code})
                      </button>
                    </th>
                    <td>{formatNumber(entry.attempts)}</td>
                    <td>{formatNumber(entry.locks)}</td>
                    <td>{formatNumber(entry.reviews)}</td>
                    <td>{formatNumber(entry.monitorWouldLocks)}</td>
                    <td>{formatNumber(entry.lockedNow)}</td>
                  </tr>
                ))}
                {topRegions.length === 0 && (
                  <tr>
                    <td colSpan={6}>No region has any in this window.</td>
                  </tr>
                )}
              </tbody>
            </table>
            <CsvDownload
              href={csvPath('activation-stats', { ...windowCsv, groupBy: 'COUNTRY' })}
              filename="activations-by-country.csv"
              label="By country"
            />
          </section>

          <LiveFeed />
        </div>
      )}
    </div>
  );
}

interface LockedRow {
  region?: { code: string; name: string } | null;
  policy?: { key: string; title: string } | null;
  cause?: string | null;
  devices: number;
  oldestLockedAt?: string | null;
}
interface CountRow {
  key: string;
  label: string;
  devices: number;
  since: string | null | undefined;
}

/** Whether a region code is within a report filter's regionCodes less its excludeRegionCodes (as the server reads them). */
export function withinScope(code: string, scope: { regionCodes?: string[]; excludeRegionCodes?: string[] }): boolean {
  const under = (region: string) => code === region || code.startsWith(`${region}-`);
  if (!scope.regionCodes) return true;
  return scope.regionCodes.some(under) && !(scope.excludeRegionCodes ?? []).some(under);
}

/**
 * The devices locked now within the chosen region, by region, policy and cause, from the rows
 * grouped by all three (each locked device is in exactly one row): what three lockedDeviceStats
 * with the region's filter would say.
 */
export function lockedWithin(
  rows: readonly LockedRow[],
  scope: { regionCodes?: string[]; excludeRegionCodes?: string[] },
): { devices: number; oldestLockedAt: string | null; byRegion: CountRow[]; byPolicy: CountRow[]; byCause: CountRow[] } {
  const kept = rows.filter((row) => (scope.regionCodes ? !!row.region && withinScope(row.region.code, scope) : true));
  const earliest = (a: string | null | undefined, b: string | null | undefined) =>
    !a ? (b ?? null) : !b ? a : new Date(a) <= new Date(b) ? a : b;
  const by = (keyOf: (row: LockedRow) => { key: string; label: string }) => {
    const groups = new Map<string, CountRow>();
    for (const row of kept) {
      const { key, label } = keyOf(row);
      const group = groups.get(key) ?? { key, label, devices: 0, since: null };
      group.devices += row.devices;
      group.since = earliest(group.since, row.oldestLockedAt);
      groups.set(key, group);
    }
    return [...groups.values()].sort((a, b) => b.devices - a.devices || a.label.localeCompare(b.label));
  };
  return {
    devices: kept.reduce((sum, row) => sum + row.devices, 0),
    oldestLockedAt: kept.reduce<string | null>((oldest, row) => earliest(oldest, row.oldestLockedAt), null),
    byRegion: by((row) => ({
      key: row.region?.code ?? '—',
      label: row.region ? `${row.region.name} (${row.region.code})` : 'No region resolved',
    })),
    byPolicy: by((row) => ({ key: row.policy?.key ?? '—', label: row.policy ? row.policy.title : 'No policy' })),
    byCause: by((row) => ({
      key: row.cause ?? '—',
      label: row.cause ? (CAUSES[row.cause] ?? row.cause) : 'Unknown',
    })),
  };
}

const CAUSES: Record<string, string> = {
  DECISION: 'An enforced decision',
  REVIEW: 'A person, on review',
  SWEEP: 'A re-screening sweep',
};

function describeWindow(window: { fromDay: string; toDay: string }) {
  return window.fromDay === window.toDay ? window.fromDay : `${window.fromDay} to ${window.toDay} (UTC days)`;
}

export function bucketLabel(start: string, interval: StatsInterval, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions =
    interval === 'MONTH' ? { month: 'short', year: 'numeric' } : { day: 'numeric', month: 'short', year: 'numeric' };
  return new Intl.DateTimeFormat('en-GB', { ...options, timeZone }).format(new Date(start));
}

function CountTable({ label, heading, rows }: { label: string; heading: string; rows: CountRow[] }) {
  return (
    <table aria-label={label} className="numbers">
      <thead>
        <tr>
          <th scope="col">{heading}</th>
          <th scope="col">Devices</th>
          <th scope="col">Oldest lock</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <th scope="row">{row.label}</th>
            <td>{formatNumber(row.devices)}</td>
            <td>{row.since ? `${age(row.since)} ago` : '—'}</td>
          </tr>
        ))}
        {rows.length === 0 && (
          <tr>
            <td colSpan={3}>None.</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

type Decision = OverviewDecisionsSubscription['activationDecided'];

/** Decisions as they are committed (at most once: after a reconnect, the attempts list has the rest). */
function LiveFeed() {
  const [{ data: events = [], error }] = useSubscription(
    { query: DecisionsFeed },
    (previous: Decision[] = [], event: OverviewDecisionsSubscription) =>
      [event.activationDecided, ...previous].slice(0, FEED_LENGTH),
  );
  const [, tick] = useState(0);
  // Ages ("2 min") move on without events.
  useEffect(() => {
    const timer = setInterval(() => tick((value) => value + 1), 30_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <section aria-labelledby="feed-heading" className="panel">
      <h2 id="feed-heading">Live decisions</h2>
      {error && (
        <p role="alert" className="request-error">
          The live feed stopped ({error.message}); it reconnects by itself.
        </p>
      )}
      <ol className="feed" aria-label="Decisions, newest first" aria-live="polite">
        {events.map((event) => (
          <li key={event.attempt.id}>
            <StatusBadge status={event.attempt.enforced ? event.attempt.outcome : `${event.attempt.outcome} monitor`} />{' '}
            <Link to={`/devices/${event.attempt.device.imei}`}>{event.attempt.device.imei}</Link>
            {' in '}
            {event.attempt.resolvedRegion ? event.attempt.resolvedRegion.code : 'no region'}
            {event.attempt.policyVersion &&
              ` · ${event.attempt.policyVersion.policy.key} v${event.attempt.policyVersion.number}`}{' '}
            · <Time value={event.committedAt} />
          </li>
        ))}
      </ol>
      {events.length === 0 && <p className="hint">Waiting for decisions… New ones appear here as they are made.</p>}
    </section>
  );
}
