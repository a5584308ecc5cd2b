// The trend as lines over the buckets: attempts on their own scale (they dwarf the rest), locks,
// reviews and MONITOR would-locks on a second one. The table beside it holds the same numbers for
// a screen reader; the chart is an image with a summary.
import type { StatsInterval } from '../gql/graphql';
import { formatNumber } from './overview-map';

interface Row {
  bucketStart?: string | null;
  attempts: number;
  locks: number;
  reviews: number;
  monitorWouldLocks: number;
}

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 44, right: 44, top: 10, bottom: 24 };
const SERIES = [
  { key: 'locks', label: 'Locks', className: 'series-locks' },
  { key: 'reviews', label: 'Reviews', className: 'series-reviews' },
  { key: 'monitorWouldLocks', label: 'Would-locks', className: 'series-would' },
] as const;

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

export function TrendChart({
  rows,
  interval,
  timeZone,
}: {
  rows: readonly Row[];
  interval: StatsInterval;
  timeZone: string;
}) {
  if (rows.length === 0) return null;
  const attemptsMax = niceMax(Math.max(...rows.map((row) => row.attempts)));
  const othersMax = niceMax(Math.max(...rows.flatMap((row) => SERIES.map((series) => row[series.key]))));
  const innerWidth = WIDTH - PAD.left - PAD.right;
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const step = innerWidth / Math.max(rows.length, 1);
  const x = (index: number) => PAD.left + step * (index + 0.5);
  const y = (value: number, max: number) => PAD.top + innerHeight - (value / max) * innerHeight;
  const line = (values: number[], max: number) =>
    values.map((value, index) => `${index ? 'L' : 'M'}${x(index).toFixed(1)},${y(value, max).toFixed(1)}`).join('');
  const label = (start: string) =>
    new Intl.DateTimeFormat('en-GB', {
      ...(interval === 'MONTH' ? { month: 'short' } : { day: 'numeric', month: 'short' }),
      timeZone,
    }).format(new Date(start));
  const total = rows.reduce((sum, row) => sum + row.attempts, 0);
  const peak = rows.reduce((best, row) => (row.attempts > best.attempts ? row : best), rows[0]!);
  const every = Math.ceil(rows.length / 8);
  return (
    <figure className="trend">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Attempts per ${interval.toLowerCase()}: ${total} in ${rows.length} buckets, most on ${label(peak.bucketStart!)} (${peak.attempts}); the table below has every figure`}
      >
        {rows.map((row, index) => (
          <rect
            key={row.bucketStart}
            x={x(index) - step * 0.35}
            width={step * 0.7}
            y={y(row.attempts, attemptsMax)}
            height={PAD.top + innerHeight - y(row.attempts, attemptsMax)}
            className="series-attempts"
          />
        ))}
        {SERIES.map((series) => (
          <path
            key={series.key}
            d={line(
              rows.map((row) => row[series.key]),
              othersMax,
            )}
            className={series.className}
          />
        ))}
        <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end" className="axis">
          {formatNumber(attemptsMax)}
        </text>
        <text x={WIDTH - PAD.right + 4} y={PAD.top + 8} className="axis">
          {formatNumber(othersMax)}
        </text>
        {rows.map((row, index) =>
          index % every === 0 ? (
            <text key={row.bucketStart} x={x(index)} y={HEIGHT - 6} textAnchor="middle" className="axis">
              {label(row.bucketStart!)}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption className="legend">
        <span>
          <span className="swatch series-attempts" /> Attempts (bars, left scale)
        </span>
        {SERIES.map((series) => (
          <span key={series.key}>
            <span className={`swatch line ${series.className}`} /> {series.label} (right scale)
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
