import { DataSource } from 'typeorm';
import { EntityStatements, SqlParameters } from '../db/prepared';
import { ActivationDeviceDayLink } from './device-day.entity';
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

/** The first day of the UTC bucket a chain link's day `l."day"` falls in (weeks start on Monday). */
function chainBucketStart(interval: StatsInterval, postgres: boolean): string {
  switch (interval) {
    case StatsInterval.WEEK:
      return postgres ? `date_trunc('week', l."day")::date` : `date(l."day", 'weekday 0', '-6 days')`;
    case StatsInterval.MONTH:
      return postgres ? `date_trunc('month', l."day")::date` : `date(l."day", 'start of month')`;
    default:
      return 'l."day"';
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
  const parameters = new SqlParameters(new EntityStatements(dataSource, ActivationDeviceDayLink));
  const window = (column: string) =>
    `${column} >= ${parameters.day(filter.from)} AND ${column} < ${parameters.day(filter.to)}`;
  const dayLabel = (column: string) =>
    postgres ? `to_char(${column}, 'YYYY-MM-DD"T00:00:00"')` : `${column} || 'T00:00:00'`;
  let sql: string;
  if (groups.size === 0) {
    const bucketStart = chainBucketStart(interval, postgres);
    // Parameters in the order they stand: the SELECT's bucket has none, the window's come first.
    const inWindow = window('l."day"');
    const counted = `${postgres ? 'GREATEST' : 'MAX'}(${bucketStart}, ${parameters.day(filter.from)})`;
    sql =
      `SELECT ${dayLabel(bucketStart)} AS "bucket", NULL AS "regionId", NULL AS "countryId", SUM(l."devices") AS "devices" ` +
      `FROM "activation_device_day_link" l WHERE ${inWindow} AND l."previousDay" < ${counted} GROUP BY 1`;
  } else {
    const byRegion = groups.has(StatsGroupBy.REGION);
    const key = 'NULLIF(c."groupKey", 0)';
    const conditions = [`c."grouping" = '${byRegion ? 'R' : 'C'}'`, window('c."day"')];
    if (byRegion && filter.regionIds) conditions.push(`c."groupKey" IN (${parameters.list(filter.regionIds)})`);
    sql =
      `SELECT ${dayLabel('c."day"')} AS "bucket", ` +
      (byRegion ? `${key} AS "regionId", ` : 'NULL AS "regionId", ') +
      (groups.has(StatsGroupBy.COUNTRY)
        ? byRegion
          ? 'COALESCE(r."parentId", r."id") AS "countryId", '
          : `${key} AS "countryId", `
        : 'NULL AS "countryId", ') +
      `c."devices" AS "devices" FROM "activation_daily_devices" c` +
      (byRegion && groups.has(StatsGroupBy.COUNTRY) ? ` LEFT JOIN "region" r ON r."id" = ${key}` : '') +
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
  const parameters = new SqlParameters(new EntityStatements(dataSource, ActivationDeviceDayLink));
  const [row] = await dataSource.query(
    `SELECT COALESCE(SUM(l."devices"), 0) AS "devices" FROM "activation_device_day_link" l ` +
      `WHERE l."day" >= ${parameters.day(filter.from)} AND l."day" < ${parameters.day(filter.to)} ` +
      `AND l."previousDay" < ${parameters.day(filter.from)}`,
    parameters.values,
  );
  return Number(row.devices);
}
