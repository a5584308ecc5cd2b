import { DataSource } from 'typeorm';
import { SqlParameters } from '../db/prepared';
import { DeviceDayGrouping } from './device-day.entity';
import { reportTables } from './report-tables';
import type { ResolvedStatsFilter } from './report.service';
import { StatsGroupBy, StatsInterval } from './report.types';
import { DAY_MS, OffsetSegment } from './time-buckets';

/*
 * Distinct devices read from the per-day counts the attempt triggers keep (device-day.entity.ts)
 * instead of a pass over the attempts. They answer for whole UTC days only, and only at the levels
 * kept: per day by region or country, per day in all, and over a window of whole days in all.
 */

/** Whether the window starts and ends on UTC midnights and its buckets, if any, are UTC days. */
function onUtcDays(filter: ResolvedStatsFilter, segments: OffsetSegment[] | null): boolean {
  return (
    filter.from.getTime() % DAY_MS === 0 &&
    filter.to.getTime() % DAY_MS === 0 &&
    (segments ?? []).every((segment) => segment.offsetMinutes === 0)
  );
}

/** Only a time window: no condition that would pick some of a device's attempts and not others. */
function windowOnly(filter: ResolvedStatsFilter): boolean {
  return (
    filter.regionIds === undefined &&
    filter.outcomes === undefined &&
    filter.modelIds === undefined &&
    filter.partnerId === undefined &&
    filter.reasonFamilies === undefined
  );
}

/**
 * Whether the rows' distinct devices can be read from the kept counts: buckets of whole UTC days,
 * filtered by the window only (and by regions when rows are regions), and either daily buckets
 * grouped by region and/or country or not at all, or weeks and months with no grouping (from the
 * day chains).
 */
export function dailyDevicesAnswerRows(
  filter: ResolvedStatsFilter,
  groups: Set<StatsGroupBy>,
  interval: StatsInterval | null,
  segments: OffsetSegment[] | null,
): boolean {
  const byRegion = groups.has(StatsGroupBy.REGION);
  const shape =
    interval === StatsInterval.DAY
      ? [...groups].every((group) => group === StatsGroupBy.REGION || group === StatsGroupBy.COUNTRY)
      : (interval === StatsInterval.WEEK || interval === StatsInterval.MONTH) && groups.size === 0;
  return (
    shape &&
    onUtcDays(filter, segments) &&
    windowOnly({ ...filter, regionIds: byRegion ? undefined : filter.regionIds })
  );
}

/** Whether the totals' distinct devices can be read from the day chains: a plain window of whole UTC days. */
export function dayChainsAnswerTotals(filter: ResolvedStatsFilter): boolean {
  return onUtcDays(filter, null) && windowOnly(filter);
}

/** A row key shared with the report's own rows: UTC day bucket, region, country. */
export function dailyRowKey(bucket: unknown, regionId: unknown, countryId: unknown): string {
  return `${String(bucket)}|${regionId ?? ''}|${countryId ?? ''}`;
}

/** The first day of the UTC bucket a day (a date column) falls in (weeks start on Monday). */
function bucketStartOf(day: string, interval: StatsInterval, postgres: boolean): string {
  switch (interval) {
    case StatsInterval.WEEK:
      return postgres ? `date_trunc('week', ${day})::date` : `date(${day}, 'weekday 0', '-6 days')`;
    case StatsInterval.MONTH:
      return postgres ? `date_trunc('month', ${day})::date` : `date(${day}, 'start of month')`;
    default:
      return day;
  }
}

/**
 * Distinct devices per bucket (labels as the report writes them) and region and/or country, by
 * `dailyRowKey`: per UTC day from the presence counts, or with no grouping from the day chains —
 * a device counts in a bucket on its first active day there, the one whose previous active day
 * lies before the bucket (or before the window, for a bucket the window starts inside).
 */
export async function dailyDevicesByRow(
  dataSource: DataSource,
  filter: ResolvedStatsFilter,
  groups: Set<StatsGroupBy>,
  interval: StatsInterval,
): Promise<Map<string, number>> {
  const postgres = dataSource.options.type === 'postgres';
  const { dayLink, dailyDevices, region } = reportTables(dataSource);
  const parameters = new SqlParameters(dayLink.statements);
  const window = (column: string) =>
    `${column} >= ${parameters.day(filter.from)} AND ${column} < ${parameters.day(filter.to)}`;
  const dayLabel = (column: string) =>
    postgres ? `to_char(${column}, 'YYYY-MM-DD"T00:00:00"')` : `${column} || 'T00:00:00'`;
  let sql: string;
  if (groups.size === 0) {
    const bucketStart = bucketStartOf(dayLink.column('day'), interval, postgres);
    // Parameters in the order they stand: the SELECT's bucket has none, the window's come first.
    const inWindow = window(dayLink.column('day'));
    const counted = `${postgres ? 'GREATEST' : 'MAX'}(${bucketStart}, ${parameters.day(filter.from)})`;
    sql =
      `SELECT ${dayLabel(bucketStart)} AS "bucket", NULL AS "regionId", NULL AS "countryId", SUM(${dayLink.column('devices')}) AS "devices" ` +
      `FROM ${dayLink.from} WHERE ${inWindow} AND ${dayLink.column('previousDay')} < ${counted} GROUP BY 1`;
  } else {
    const byRegion = groups.has(StatsGroupBy.REGION);
    const groupKey = dailyDevices.column('groupKey');
    const key = `NULLIF(${groupKey}, 0)`;
    const grouping: DeviceDayGrouping = byRegion ? 'R' : 'C';
    const conditions = [`${dailyDevices.column('grouping')} = '${grouping}'`, window(dailyDevices.column('day'))];
    if (byRegion && filter.regionIds) conditions.push(`${groupKey} IN (${parameters.list(filter.regionIds)})`);
    sql =
      `SELECT ${dayLabel(dailyDevices.column('day'))} AS "bucket", ` +
      (byRegion ? `${key} AS "regionId", ` : 'NULL AS "regionId", ') +
      (groups.has(StatsGroupBy.COUNTRY)
        ? byRegion
          ? `COALESCE(${region.column('parentId')}, ${region.column('id')}) AS "countryId", `
          : `${key} AS "countryId", `
        : 'NULL AS "countryId", ') +
      `${dailyDevices.column('devices')} AS "devices" FROM ${dailyDevices.from}` +
      (byRegion && groups.has(StatsGroupBy.COUNTRY)
        ? ` LEFT JOIN ${region.from} ON ${region.column('id')} = ${key}`
        : '') +
      ` WHERE ${conditions.join(' AND ')}`;
  }
  const rows: Record<string, unknown>[] = await dataSource.query(sql, parameters.values);
  return new Map(
    rows.map((row) => [
      dailyRowKey(
        row.bucket,
        row.regionId == null ? null : Number(row.regionId),
        row.countryId == null ? null : Number(row.countryId),
      ),
      Number(row.devices),
    ]),
  );
}

/**
 * Distinct devices with an attempt in a window of whole UTC days: each is counted once, on its
 * first active day in the window, the one whose previous active day lies before the window.
 */
export async function devicesInWindow(dataSource: DataSource, filter: ResolvedStatsFilter): Promise<number> {
  const { dayLink } = reportTables(dataSource);
  const parameters = new SqlParameters(dayLink.statements);
  const day = dayLink.column('day');
  const [row] = await dataSource.query(
    `SELECT COALESCE(SUM(${dayLink.column('devices')}), 0) AS "devices" FROM ${dayLink.from} ` +
      `WHERE ${day} >= ${parameters.day(filter.from)} AND ${day} < ${parameters.day(filter.to)} ` +
      `AND ${dayLink.column('previousDay')} < ${parameters.day(filter.from)}`,
    parameters.values,
  );
  return Number(row.devices);
}
