import { registerEnumType } from 'type-graphql';

export enum StatsInterval {
  HOUR = 'HOUR',
  DAY = 'DAY',
  WEEK = 'WEEK',
  MONTH = 'MONTH',
}
registerEnumType(StatsInterval, {
  name: 'StatsInterval',
  description: 'Length of the time buckets of a report, in the report time zone (weeks start on Monday).',
  valuesConfig: {
    HOUR: { description: 'One bucket per hour, from the start of the hour in the time zone.' },
    DAY: { description: 'One bucket per calendar day, from local midnight.' },
    WEEK: { description: 'One bucket per week, from local midnight on Monday.' },
    MONTH: { description: 'One bucket per calendar month, from local midnight on its first day.' },
  },
});

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Making a formatter costs far more than using one: one per zone, kept. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The UTC offset of a time zone at an instant, in minutes (e.g. 60 for Berlin in winter). */
export function offsetMinutes(timeZone: string, at: number): number {
  if (timeZone === 'UTC') return 0;
  const parts = formatterOf(timeZone).formatToParts(new Date(at));
  const value = (type: string) => Number(parts.find((part) => part.type === type)!.value);
  const wall = Date.UTC(
    value('year'),
    value('month') - 1,
    value('day'),
    value('hour'),
    value('minute'),
    value('second'),
  );
  return Math.round((wall - Math.floor(at / 1000) * 1000) / 60_000);
}

/** Whether the runtime knows the IANA zone. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** A stretch of time with one UTC offset: from `from` (inclusive) to the next segment. */
export interface OffsetSegment {
  from: number;
  offsetMinutes: number;
}

/**
 * The offsets a time zone uses over [from, to): one segment per DST period. Transitions are found
 * by sampling hourly and then bisecting to the minute (no zone changes offset twice in an hour).
 */
export function offsetSegments(timeZone: string, from: number, to: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [{ from, offsetMinutes: offsetMinutes(timeZone, from) }];
  let previous = from;
  for (let at = from + HOUR_MS; at < to + HOUR_MS; at += HOUR_MS) {
    const probe = Math.min(at, to);
    const offset = offsetMinutes(timeZone, probe);
    const current = segments[segments.length - 1].offsetMinutes;
    if (offset !== current) {
      let low = previous;
      let high = probe;
      while (high - low > 60_000) {
        const middle = low + Math.max(1, Math.floor((high - low) / 120_000)) * 60_000;
        if (offsetMinutes(timeZone, middle) === current) low = middle;
        else high = middle;
      }
      segments.push({ from: high, offsetMinutes: offset });
    }
    previous = probe;
    if (probe === to) break;
  }
  return segments;
}

/** A local wall-clock time (`YYYY-MM-DDTHH:MM:SS`, as the bucket SQL returns it) as a UTC instant. */
export function localToInstant(local: string, timeZone: string): Date {
  const [date, time = '00:00:00'] = local.split('T');
  const [year, month, day] = date.split('-').map(Number);
  const [hour, minute, second] = time.split(':').map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // The offset at the instant depends on the instant: two rounds settle it (DST edges included).
  let instant = wall - offsetMinutes(timeZone, wall) * 60_000;
  instant = wall - offsetMinutes(timeZone, instant) * 60_000;
  return new Date(instant);
}

/**
 * SQL for the local bucket label of `column` (a UTC timestamp): shift it by the zone's offset
 * (a CASE over the DST segments, with their boundaries as parameters) and truncate it.
 */
export function bucketSql(
  dialect: 'postgres' | 'sqlite',
  column: string,
  interval: StatsInterval,
  segments: OffsetSegment[],
  parameter: (value: Date) => string,
): string {
  const offset =
    segments.length === 1
      ? String(segments[0].offsetMinutes)
      : `CASE ${segments
          .slice(1)
          .map(
            (segment, index) =>
              `WHEN ${column} < ${parameter(new Date(segment.from))} THEN ${segments[index].offsetMinutes}`,
          )
          .join(' ')} ELSE ${segments[segments.length - 1].offsetMinutes} END`;
  if (dialect === 'postgres') {
    const local = `((${column} AT TIME ZONE 'UTC') + (${offset}) * INTERVAL '1 minute')`;
    const unit = { HOUR: 'hour', DAY: 'day', WEEK: 'week', MONTH: 'month' }[interval];
    return `to_char(date_trunc('${unit}', ${local}), 'YYYY-MM-DD"T"HH24:MI:SS')`;
  }
  // In UTC the stored text is already local: cut it instead of parsing every row (SQLite keeps
  // 'YYYY-MM-DD HH:MM:SS.SSS').
  const utc = segments.length === 1 && segments[0].offsetMinutes === 0;
  if (utc && interval === StatsInterval.DAY) return `substr(${column}, 1, 10) || 'T00:00:00'`;
  if (utc && interval === StatsInterval.HOUR)
    return `substr(${column}, 1, 10) || 'T' || substr(${column}, 12, 2) || ':00:00'`;
  const local = utc ? column : `datetime(${column}, (${offset}) || ' minutes')`;
  switch (interval) {
    case StatsInterval.HOUR:
      return `strftime('%Y-%m-%dT%H:00:00', ${local})`;
    case StatsInterval.DAY:
      return `strftime('%Y-%m-%dT00:00:00', ${local})`;
    case StatsInterval.WEEK:
      // 'weekday 0' moves to the coming Sunday (or stays on one); six days back is that week's Monday.
      return `strftime('%Y-%m-%dT00:00:00', ${local}, 'weekday 0', '-6 days')`;
    case StatsInterval.MONTH:
      return `strftime('%Y-%m-01T00:00:00', ${local})`;
  }
}
