import { ActivationAttempt, DecisionOutcome } from '../activations/activation-attempt.entity';
import { partnerScopeOf } from '../auth/viewer';
import { BadUserInputError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { RequestScope, ScopeWithLoaders } from '../common/request-scope';
import type { DeviceModelLoaders } from '../device-models/device-model.loaders';
import type { RegionLoaders } from '../regions/region.loaders';
import { DataSource } from 'typeorm';
import { EntityStatements, SqlParameters, SqlTable } from '../db/prepared';
import { checkTimeRange } from '../common/filter-bounds';
import { deviceModelIds } from '../device-models/device-model.service';
import { Policy } from '../policies/policy.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { regionIdsInScope } from '../regions/region.service';
import {
  ActivationCounts,
  ActivationStats,
  ActivationStatsFilter,
  ActivationStatsRow,
  PolicyImpactRow,
  ReasonFamily,
  StatsGroupBy,
  StatsInterval,
} from './report.types';
import {
  dailyDevicesAnswerRows,
  dailyDevicesByRow,
  dailyRowKey,
  dayChainsAnswerTotals,
  devicesInWindow,
} from './daily-devices';
import { DAY_MS, HOUR_MS, OffsetSegment, bucketSql, isTimeZone, localToInstant, offsetSegments } from './time-buckets';
import { ReportTables, reportTables } from './report-tables';
import { ActivationDailyRollup, ActivationRollup } from './activation-rollup.entity';

/** A report answers in one piece; a larger one must be narrowed (or fetched as CSV). */
export const MAX_REPORT_ROWS = 10_000;
/** The longest window a report covers: time buckets cost one CASE branch per DST change. */
const MAX_WINDOW_DAYS = 3_660;

/** Parameters of a statement over attempts `a`: instants compared with `occurredAt`'s stored form. */
export class AttemptParameters extends SqlParameters<ActivationAttempt> {
  constructor(dataSource: DataSource) {
    super(new EntityStatements(dataSource, ActivationAttempt));
    this.postgres = dataSource.options.type === 'postgres';
  }
  private readonly postgres: boolean;

  /** An instant in the form `occurredAt` (and every timestamp of the reports) is stored in. */
  at(value: Date): string {
    return this.instant(value, 'occurredAt');
  }

  /**
   * Attempts after a keyset position in (occurredAt, id) order. PostgreSQL reads a row-value
   * comparison as one index range (an OR of two conditions would make it sort every page again).
   */
  after(position: { occurredAt: unknown; id: number }, attempt: SqlTable<ActivationAttempt>): string {
    const occurredAt = attempt.column('occurredAt');
    const id = attempt.column('id');
    if (this.postgres) return `(${occurredAt}, ${id}) > (${this.add(position.occurredAt)}, ${this.add(position.id)})`;
    return `(${occurredAt} > ${this.add(position.occurredAt)} OR (${occurredAt} = ${this.add(position.occurredAt)} AND ${id} > ${this.add(position.id)}))`;
  }
}

/** Which devices (and where) a report covers, beside its window: codes and IDs resolved, partner scope applied. */
export interface ResolvedScope {
  regionIds?: number[];
  modelIds?: number[];
  partnerId?: number;
}

export interface ResolvedStatsFilter extends ResolvedScope {
  from: Date;
  to: Date;
  outcomes?: DecisionOutcome[];
  reasonFamilies?: ReasonFamily[];
}

/**
 * Whether an attempt's reason codes (stored as a JSON array of strings) hold the family's code:
 * the quotes match the whole code, so GPS_STALE never matches a longer code that starts with it.
 */
const hasReasonCode = (attempt: SqlTable<ActivationAttempt>, family: ReasonFamily) =>
  `${attempt.column('reasonCodes')} LIKE '%"${family}"%'`;

/** The family of an attempt's reason codes (at most one), or NULL; the families are our enum's, never input. */
const reasonFamilySql = (attempt: SqlTable<ActivationAttempt>) =>
  `CASE ${Object.values(ReasonFamily)
    .map((family) => `WHEN ${hasReasonCode(attempt, family)} THEN '${family}'`)
    .join(' ')} END`;

/**
 * Resolves the region, model and partner conditions of a report filter (a bad one is an error
 * naming the field under `prefix`) and narrows a partner's reports to its own devices.
 */
/** Reports resolve region and model codes through the request's loaders. */
export type ReportScope = ScopeWithLoaders<RegionLoaders & DeviceModelLoaders>;

export async function resolveScope(
  context: ReportScope,
  filter: {
    regionCodes?: string[] | null;
    excludeRegionCodes?: string[] | null;
    modelCodes?: string[] | null;
    partnerId?: string | null;
  },
  prefix = 'filter',
): Promise<ResolvedScope> {
  const resolved: ResolvedScope = {};
  const regionIds = await regionIdsInScope(context, filter, prefix);
  if (regionIds) resolved.regionIds = regionIds;
  if (filter.modelCodes) resolved.modelIds = await deviceModelIds(context, filter.modelCodes, `${prefix}.modelCodes`);
  if (filter.partnerId) {
    const partnerId = rowIdOf(filter.partnerId, 'Partner');
    if (partnerId === null) throw new BadUserInputError(`${prefix}.partnerId`, 'is not a partner ID');
    resolved.partnerId = partnerId;
  }
  // A partner's figures cover its own devices only, whatever the filter says.
  const scope = partnerScopeOf(context.viewer);
  if (scope !== null)
    resolved.partnerId = resolved.partnerId === undefined || resolved.partnerId === scope ? scope : -1;
  return resolved;
}

/** Checks a report filter and resolves its codes and IDs; a bad one is an error naming the field. */
export async function resolveStatsFilter(
  context: ReportScope,
  filter: ActivationStatsFilter,
): Promise<ResolvedStatsFilter> {
  checkTimeRange('filter.to', 'from', filter.from, filter.to, MAX_WINDOW_DAYS);
  const resolved: ResolvedStatsFilter = { from: filter.from, to: filter.to, ...(await resolveScope(context, filter)) };
  if (filter.outcomes) resolved.outcomes = filter.outcomes;
  if (filter.reasonFamilies) resolved.reasonFamilies = filter.reasonFamilies;
  return resolved;
}

/**
 * The figures of ActivationCounts over the rows a statement selects: attempts, whose rows each
 * count `each` attempts (1 for an attempt, the rollup's count for a rollup row), and devices.
 */
function countsSql(
  table: { column(property: 'outcome' | 'enforced'): string },
  counted: { attempts: string; each: string; devices: string },
): string {
  const outcome = table.column('outcome');
  const enforced = table.column('enforced');
  const sum = (condition: string) => `SUM(CASE WHEN ${condition} THEN ${counted.each} ELSE 0 END)`;
  return (
    `${counted.attempts} AS "attempts", ${counted.devices} AS "devices", ` +
    `${sum(`${outcome} = '${DecisionOutcome.LOCK}' AND ${enforced}`)} AS "locks", ` +
    `${sum(`${outcome} = '${DecisionOutcome.REVIEW}' AND ${enforced}`)} AS "reviews", ` +
    `${sum(`${outcome} = '${DecisionOutcome.LOCK}' AND NOT ${enforced}`)} AS "monitorWouldLocks"`
  );
}

const attemptCountsSql = (attempt: SqlTable<ActivationAttempt>) =>
  countsSql(attempt, { attempts: 'COUNT(*)', each: '1', devices: `COUNT(DISTINCT ${attempt.column('deviceId')})` });

function countsOf(row: Record<string, unknown>): ActivationCounts {
  return {
    attempts: Number(row.attempts),
    devices: Number(row.devices),
    locks: Number(row.locks ?? 0),
    reviews: Number(row.reviews ?? 0),
    monitorWouldLocks: Number(row.monitorWouldLocks ?? 0),
  };
}

/** The WHERE conditions of a resolved filter over attempts (and devices, when it names models or a partner). */
function filterConditions(
  filter: ResolvedStatsFilter,
  parameters: AttemptParameters,
  { attempt, device }: ReportTables,
): string[] {
  const conditions = [
    `${attempt.column('occurredAt')} >= ${parameters.at(filter.from)}`,
    `${attempt.column('occurredAt')} < ${parameters.at(filter.to)}`,
  ];
  if (filter.regionIds)
    conditions.push(`${attempt.column('resolvedRegionId')} IN (${parameters.list(filter.regionIds)})`);
  if (filter.outcomes) conditions.push(`${attempt.column('outcome')} IN (${parameters.list(filter.outcomes)})`);
  if (filter.reasonFamilies) {
    const families = [...new Set(filter.reasonFamilies)].filter((family) =>
      (Object.values(ReasonFamily) as string[]).includes(family),
    );
    conditions.push(
      families.length ? `(${families.map((family) => hasReasonCode(attempt, family)).join(' OR ')})` : '1 = 0',
    );
  }
  if (filter.modelIds) conditions.push(`${device.column('modelId')} IN (${parameters.list(filter.modelIds)})`);
  if (filter.partnerId !== undefined)
    conditions.push(`${device.column('partnerId')} = ${parameters.add(filter.partnerId)}`);
  return conditions;
}

/** FROM and WHERE for the attempts a filter selects (joining devices and regions only when needed). */
function selection(
  filter: ResolvedStatsFilter,
  parameters: AttemptParameters,
  tables: ReportTables,
  joins: { device: boolean; region: boolean; version: boolean },
) {
  const { attempt, device, region, version } = tables;
  const needsDevice = joins.device || filter.modelIds !== undefined || filter.partnerId !== undefined;
  const conditions = filterConditions(filter, parameters, tables);
  return (
    `FROM ${attempt.from}` +
    (needsDevice ? ` JOIN ${device.from} ON ${device.column('id')} = ${attempt.column('deviceId')}` : '') +
    (joins.region
      ? ` LEFT JOIN ${region.from} ON ${region.column('id')} = ${attempt.column('resolvedRegionId')}`
      : '') +
    (joins.version
      ? ` LEFT JOIN ${version.from} ON ${version.column('id')} = ${attempt.column('policyVersionId')}`
      : '') +
    ` WHERE ${conditions.join(' AND ')}`
  );
}

const ROLLUP_GROUPS = new Set([StatsGroupBy.REGION, StatsGroupBy.COUNTRY, StatsGroupBy.OUTCOME]);

/** A rollup table: attempts counted per period (its start in `start`), region, outcome and enforcement. */
type Rollup = 'hourlyRollup' | 'dailyRollup';
const HOURLY: Rollup = 'hourlyRollup';
const DAILY: Rollup = 'dailyRollup';

/** The rollup's table and the column its periods start in. */
function rollupTable(tables: ReportTables, rollup: Rollup) {
  return rollup === HOURLY
    ? {
        rollup: tables.hourlyRollup as SqlTable<ActivationRollup | ActivationDailyRollup>,
        start: tables.hourlyRollup.column('hourStart'),
      }
    : {
        rollup: tables.dailyRollup as SqlTable<ActivationRollup | ActivationDailyRollup>,
        start: tables.dailyRollup.column('dayStart'),
      };
}

/**
 * The rollup that answers exactly, if any: no distinct devices asked for of it (they do not add up
 * across periods), only region, country and outcome groupings and filters, a window on whole
 * periods, and buckets that start on whole periods — days, weeks and months at UTC offset 0 for the
 * daily one, zones with whole-hour offsets for the hourly one.
 */
function rollupFor(
  resolved: ResolvedStatsFilter,
  groups: Set<StatsGroupBy>,
  interval: StatsInterval | null,
  segments: OffsetSegment[] | null,
  needsDevices: boolean,
): Rollup | null {
  const answers =
    !needsDevices &&
    [...groups].every((group) => ROLLUP_GROUPS.has(group)) &&
    resolved.modelIds === undefined &&
    resolved.partnerId === undefined &&
    resolved.reasonFamilies === undefined;
  if (!answers) return null;
  const onWhole = (period: number) => resolved.from.getTime() % period === 0 && resolved.to.getTime() % period === 0;
  if (
    interval !== StatsInterval.HOUR &&
    onWhole(DAY_MS) &&
    (segments ?? []).every((segment) => segment.offsetMinutes === 0)
  )
    return DAILY;
  const hourly =
    onWhole(HOUR_MS) &&
    (segments ?? []).every((segment) => segment.offsetMinutes % 60 === 0 && segment.from % HOUR_MS === 0);
  return hourly ? HOURLY : null;
}

/** Counts summed over rollup rows (distinct devices do not add up: 0). */
const rollupCountsSql = (rollup: SqlTable<ActivationRollup | ActivationDailyRollup>) =>
  countsSql(rollup, {
    attempts: `SUM(${rollup.column('attempts')})`,
    each: rollup.column('attempts'),
    devices: '0',
  });

/** FROM and WHERE over a rollup for a filter it answers. */
function rollupSelection(
  which: Rollup,
  filter: ResolvedStatsFilter,
  parameters: AttemptParameters,
  tables: ReportTables,
  joinRegion: boolean,
) {
  const { rollup, start } = rollupTable(tables, which);
  const { region } = tables;
  const conditions = [`${start} >= ${parameters.at(filter.from)}`, `${start} < ${parameters.at(filter.to)}`];
  if (filter.regionIds) conditions.push(`${rollup.column('regionKey')} IN (${parameters.list(filter.regionIds)})`);
  if (filter.outcomes) conditions.push(`${rollup.column('outcome')} IN (${parameters.list(filter.outcomes)})`);
  return (
    `FROM ${rollup.from}` +
    (joinRegion
      ? ` LEFT JOIN ${region.from} ON ${region.column('id')} = NULLIF(${rollup.column('regionKey')}, 0)`
      : '') +
    ` WHERE ${conditions.join(' AND ')}`
  );
}

/** Which distinct-device figures the caller shows: those not asked for may be left 0 to save a pass over the attempts. */
export interface DeviceFiguresWanted {
  rows: boolean;
  totals: boolean;
}

/**
 * The report. Counts come from the hourly rollup when it can answer; distinct devices from the
 * daily device counts when they can, else from the attempts (device figures not wanted are 0).
 */
export async function activationStats(
  context: ReportScope,
  filter: ActivationStatsFilter,
  groupBy: StatsGroupBy[],
  interval: StatsInterval | null,
  timeZone: string,
  devicesWanted: DeviceFiguresWanted = { rows: true, totals: true },
): Promise<ActivationStats> {
  if (!isTimeZone(timeZone))
    throw new BadUserInputError('timeZone', `"${timeZone}" is not an IANA time zone, e.g. "Europe/Berlin"`);
  const resolved = await resolveStatsFilter(context, filter);
  const dataSource = context.dataSource;
  const dialect = dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
  const groups = new Set(groupBy);
  const segments = interval ? offsetSegments(timeZone, resolved.from.getTime(), resolved.to.getTime()) : null;
  const rowDevicesDaily = devicesWanted.rows && dailyDevicesAnswerRows(resolved, groups, interval, segments);
  const rollup = rollupFor(resolved, groups, interval, segments, devicesWanted.rows && !rowDevicesDaily);
  const fromRollup = rollup !== null;
  const tables = reportTables(dataSource);
  const { attempt, device, region, version } = tables;
  const counted = rollup ? rollupTable(tables, rollup) : null;
  const time = counted ? counted.start : attempt.column('occurredAt');
  // Parameters are numbered in the order they appear: the bucket's come first, in the SELECT.
  const parameters = new AttemptParameters(dataSource);
  const columns: [string, string][] = [];
  if (interval && segments) {
    columns.push(['bucket', bucketSql(dialect, time, interval, segments, (value) => parameters.at(value))]);
  }
  if (groups.has(StatsGroupBy.REGION))
    columns.push([
      'regionId',
      counted ? `NULLIF(${counted.rollup.column('regionKey')}, 0)` : attempt.column('resolvedRegionId'),
    ]);
  if (groups.has(StatsGroupBy.COUNTRY))
    columns.push(['countryId', `COALESCE(${region.column('parentId')}, ${region.column('id')})`]);
  if (groups.has(StatsGroupBy.OUTCOME))
    columns.push(['outcome', counted ? counted.rollup.column('outcome') : attempt.column('outcome')]);
  if (groups.has(StatsGroupBy.MODEL)) columns.push(['modelId', device.column('modelId')]);
  if (groups.has(StatsGroupBy.PARTNER)) columns.push(['partnerId', device.column('partnerId')]);
  // The policy that decided: none for an attempt refused because its device was locked already.
  if (groups.has(StatsGroupBy.POLICY))
    columns.push([
      'policyId',
      `CASE WHEN ${alreadyLockedSql(attempt)} THEN NULL ELSE ${version.column('policyId')} END`,
    ]);
  if (groups.has(StatsGroupBy.REASON_FAMILY)) columns.push(['reasonFamily', reasonFamilySql(attempt)]);
  const select = columns.map(([alias, expression]) => `${expression} AS "${alias}"`);
  const joins = {
    device: groups.has(StatsGroupBy.MODEL) || groups.has(StatsGroupBy.PARTNER),
    region: groups.has(StatsGroupBy.COUNTRY),
    version: groups.has(StatsGroupBy.POLICY),
  };
  const selectSql = select.length ? `${select.join(', ')}, ` : '';
  const from = rollup
    ? rollupSelection(rollup, resolved, parameters, tables, joins.region)
    : selection(resolved, parameters, tables, joins);
  const groupSql = columns.length
    ? ` GROUP BY ${columns.map((_, index) => index + 1).join(', ')} ORDER BY ${columns.map((_, index) => index + 1).join(', ')}`
    : '';
  const counts = counted ? rollupCountsSql(counted.rollup) : attemptCountsSql(attempt);
  const sql = `SELECT ${selectSql}${counts} ${from}${groupSql} LIMIT ${MAX_REPORT_ROWS + 1}`;
  const rows: Record<string, unknown>[] = await dataSource.query(sql, parameters.values);
  if (rows.length > MAX_REPORT_ROWS) {
    throw new BadUserInputError(
      'groupBy',
      `the report has more than ${MAX_REPORT_ROWS} rows: narrow the filter, group by less or use a longer interval`,
    );
  }
  if (rowDevicesDaily && interval) {
    const devices = await dailyDevicesByRow(dataSource, resolved, groups, interval);
    for (const row of rows) row.devices = devices.get(dailyRowKey(row.bucket, row.regionId, row.countryId)) ?? 0;
  }
  const totalsFrom = (counts: string) => {
    const totalParameters = new AttemptParameters(dataSource);
    const sql = `SELECT ${counts} ${selection(resolved, totalParameters, tables, { device: false, region: false, version: false })}`;
    return dataSource.query(sql, totalParameters.values).then((result: Record<string, unknown>[]) => result[0]);
  };
  let totals: ActivationCounts;
  if (fromRollup) {
    // Every counted hour falls in exactly one row, and the counts add up: the totals are the rows' sum.
    totals = { attempts: 0, devices: 0, locks: 0, reviews: 0, monitorWouldLocks: 0 };
    for (const row of rows.map(countsOf)) {
      totals.attempts += row.attempts;
      totals.locks += row.locks;
      totals.reviews += row.reviews;
      totals.monitorWouldLocks += row.monitorWouldLocks;
    }
    // Distinct devices do not add up across rows.
    if (devicesWanted.totals) {
      totals.devices = dayChainsAnswerTotals(resolved)
        ? await devicesInWindow(dataSource, resolved)
        : Number((await totalsFrom(`COUNT(DISTINCT ${attempt.column('deviceId')}) AS "devices"`)).devices);
    }
  } else {
    totals = countsOf(await totalsFrom(attemptCountsSql(attempt)));
  }
  // Rows share their buckets (90 days by region: 90 buckets, thousands of rows): each converted once.
  const bucketStarts = new Map<string, Date>();
  const bucketStart = (bucket: string) =>
    bucketStarts.get(bucket) ?? bucketStarts.set(bucket, localToInstant(bucket, timeZone)).get(bucket)!;
  return {
    timeZone,
    totals,
    rows: rows.map((row) =>
      Object.assign(new ActivationStatsRow(), countsOf(row), {
        bucketStart: row.bucket ? bucketStart(String(row.bucket)) : null,
        regionId: row.regionId == null ? null : Number(row.regionId),
        countryId: row.countryId == null ? null : Number(row.countryId),
        modelId: row.modelId == null ? null : Number(row.modelId),
        partnerId: row.partnerId == null ? null : Number(row.partnerId),
        policyId: row.policyId == null ? null : Number(row.policyId),
        outcome: (row.outcome as DecisionOutcome | undefined) ?? null,
        reasonFamily: (row.reasonFamily as ReasonFamily | undefined) ?? null,
      }),
    ),
  };
}

/**
 * Whether an attempt was refused because its device was locked already (DEVICE_ALREADY_LOCKED, the
 * engine's first reason then). Such an attempt carries the version of the original lock, but that
 * version decided nothing at it: reports by policy count it apart (or not at all).
 *
 * Read from the attempt's own reason codes, not from a column: the refusal is recorded nowhere
 * else. Its outcome, enforcement and version are those of the lock it repeats, and the device's
 * lockCause says why the device is locked now — a device unlocked since, or locked again by a
 * sweep, would move its past attempts from one line to another. The attempt is never rewritten.
 */
function alreadyLockedSql(attempt: SqlTable<ActivationAttempt>): string {
  return `${attempt.column('reasonCodes')} LIKE '["DEVICE_ALREADY_LOCKED"%'`;
}

/**
 * What each version of a policy decided since it became effective (up to `to`), by outcome and
 * region; attempts of devices it had locked before, refused as locked already, on lines of their own.
 * Read from the counts kept per version (policy-impact.entity.ts); a partner's report, narrowed
 * to its own devices, from the attempts.
 */
export async function policyImpact(
  context: RequestScope,
  policyKey: string,
  to: Date | null,
): Promise<PolicyImpactRow[]> {
  const dataSource = context.dataSource;
  // Keys are at most 100 characters: a longer one (a CSV query string is not bounded by the schema) names none.
  if (policyKey.length > 100) throw new BadUserInputError('policyKey', 'a policy key has at most 100 characters');
  const policy = await dataSource.getRepository(Policy).findOneBy({ key: policyKey });
  if (!policy) throw new BadUserInputError('policyKey', `no policy has key "${policyKey}"`);
  const versions = await dataSource.getRepository(PolicyVersion).findBy({ policyId: policy.id });
  if (versions.length === 0) return [];
  const scope = partnerScopeOf(context.viewer);
  const rows =
    scope === null
      ? await policyImpactFromCounts(dataSource, versions, to)
      : await policyImpactFromAttempts(dataSource, versions, to, scope);
  return rows.map((row) =>
    Object.assign(new PolicyImpactRow(), {
      policyVersionId: Number(row.policyVersionId),
      outcome: row.outcome as DecisionOutcome,
      enforced: row.enforced === true || row.enforced === 1,
      regionId: row.regionId == null ? null : Number(row.regionId),
      alreadyLocked: row.alreadyLocked === true || Number(row.alreadyLocked) === 1,
      attempts: Number(row.attempts),
      devices: Number(row.devices),
    }),
  );
}

/**
 * The report from the kept counts. Each version's window [effectiveFrom, to) splits into whole UTC
 * hours, read from the rollup, and at most two parts of an hour at its ends, read from the
 * attempts (their count) and from the first-attempt rows (the devices first seen there). A device
 * first seen on a line before effectiveFrom (an attempt recorded under the version before it took
 * effect: an import, a clock behind) counts when it has an attempt in the window, looked up among
 * the attempts; there are normally none. Attempts of a retired month are gone, so the parts of an
 * hour inside one count none (whole hours keep their figures).
 */
async function policyImpactFromCounts(
  dataSource: DataSource,
  versions: PolicyVersion[],
  to: Date | null,
): Promise<Record<string, unknown>[]> {
  const { attempt, impactRollup: rollup, impactDevice: first } = reportTables(dataSource);
  const parameters = new AttemptParameters(dataSource);
  const at = (instant: number) => parameters.at(new Date(instant));
  const line = (table: typeof rollup | typeof first) =>
    `${table.column('policyVersionId')} AS "policyVersionId", ${table.column('regionKey')} AS "regionKey", ` +
    `${table.column('outcome')} AS "outcome", ${table.column('enforced')} AS "enforced", ${table.column('alreadyLocked')} AS "alreadyLocked"`;
  const attemptLine =
    `${attempt.column('policyVersionId')} AS "policyVersionId", COALESCE(${attempt.column('resolvedRegionId')}, 0) AS "regionKey", ` +
    `${attempt.column('outcome')} AS "outcome", ${attempt.column('enforced')} AS "enforced", ${alreadyLockedSql(attempt)} AS "alreadyLocked"`;
  const parts: string[] = [];
  for (const version of versions) {
    const from = version.effectiveFrom.getTime();
    const until = to ? to.getTime() : null;
    if (until !== null && until <= from) continue;
    const wholeFrom = Math.ceil(from / HOUR_MS) * HOUR_MS;
    const wholeUntil = until === null ? null : Math.floor(until / HOUR_MS) * HOUR_MS;
    const partial: [number, number][] = [];
    if (wholeUntil !== null && wholeUntil <= wholeFrom) partial.push([from, until!]);
    else {
      if (from < wholeFrom) partial.push([from, wholeFrom]);
      if (until !== null && wholeUntil! < until) partial.push([wholeUntil!, until]);
      parts.push(
        `SELECT ${line(rollup)}, ${rollup.column('attempts')} AS "attempts", ${rollup.column('devices')} AS "devices" ` +
          `FROM ${rollup.from} WHERE ${rollup.column('policyVersionId')} = ${parameters.add(version.id)} ` +
          `AND ${rollup.column('hourStart')} >= ${at(wholeFrom)}` +
          (wholeUntil === null ? '' : ` AND ${rollup.column('hourStart')} < ${at(wholeUntil)}`),
      );
    }
    for (const [start, end] of partial) {
      parts.push(
        `SELECT ${attemptLine}, 1 AS "attempts", 0 AS "devices" FROM ${attempt.from} ` +
          `WHERE ${attempt.column('policyVersionId')} = ${parameters.add(version.id)} ` +
          `AND ${attempt.column('occurredAt')} >= ${at(start)} AND ${attempt.column('occurredAt')} < ${at(end)}`,
      );
      parts.push(
        `SELECT ${line(first)}, 0 AS "attempts", 1 AS "devices" FROM ${first.from} ` +
          `WHERE ${first.column('policyVersionId')} = ${parameters.add(version.id)} ` +
          `AND ${first.column('firstAt')} >= ${at(start)} AND ${first.column('firstAt')} < ${at(end)}`,
      );
    }
    // Devices first seen on a line before the version took effect, with an attempt on it in the window.
    const sameLine = (['policyVersionId', 'outcome', 'enforced', 'deviceId'] as const)
      .map((property) => `${attempt.column(property)} = ${first.column(property)}`)
      .concat(
        `COALESCE(${attempt.column('resolvedRegionId')}, 0) = ${first.column('regionKey')}`,
        `${alreadyLockedSql(attempt)} = ${first.column('alreadyLocked')}`,
      );
    parts.push(
      `SELECT ${line(first)}, 0 AS "attempts", 1 AS "devices" FROM ${first.from} ` +
        `WHERE ${first.column('policyVersionId')} = ${parameters.add(version.id)} AND ${first.column('firstAt')} < ${at(from)} ` +
        `AND EXISTS (SELECT 1 FROM ${attempt.from} WHERE ${sameLine.join(' AND ')} ` +
        `AND ${attempt.column('occurredAt')} >= ${at(from)}` +
        (until === null ? '' : ` AND ${attempt.column('occurredAt')} < ${at(until)}`) +
        ')',
    );
  }
  if (parts.length === 0) return [];
  // Ordered as the attempts' report orders them: version, already locked, outcome, enforcement, region.
  return dataSource.query(
    `SELECT "policyVersionId", "outcome", "enforced", NULLIF("regionKey", 0) AS "regionId", "alreadyLocked", ` +
      `SUM("attempts") AS "attempts", SUM("devices") AS "devices" FROM (${parts.join(' UNION ALL ')}) lines ` +
      `GROUP BY "policyVersionId", "outcome", "enforced", "regionKey", "alreadyLocked" ` +
      `ORDER BY "policyVersionId", "alreadyLocked", "outcome", "enforced", NULLIF("regionKey", 0)`,
    parameters.values,
  );
}

/** The report from the attempts themselves, over a partner's devices (the kept counts are not per partner). */
async function policyImpactFromAttempts(
  dataSource: DataSource,
  versions: PolicyVersion[],
  to: Date | null,
  partnerId: number,
): Promise<Record<string, unknown>[]> {
  const parameters = new AttemptParameters(dataSource);
  // One IN list and a per-version lower bound: a plain condition the database can scan for once.
  const versionIds = parameters.list(versions.map((version) => version.id));
  const effectiveFrom = versions
    .map((version) => `WHEN ${parameters.add(version.id)} THEN ${parameters.at(version.effectiveFrom)}`)
    .join(' ');
  const { attempt, device } = reportTables(dataSource);
  const versionId = attempt.column('policyVersionId');
  const occurredAt = attempt.column('occurredAt');
  const sinceEffective = `${versionId} IN (${versionIds}) AND ${occurredAt} >= CASE ${versionId} ${effectiveFrom} END`;
  // No index narrows this (none leads with the version): SQLite walked the occurredAt or outcome
  // index instead and fetched every attempt through it, in index order (69 s at 10^6 attempts,
  // beside a 0.3 s scan of the table). NOT INDEXED makes it scan, as PostgreSQL does.
  const scanned = dataSource.options.type === 'postgres' ? attempt.from : `${attempt.from} NOT INDEXED`;
  const sql =
    `SELECT ${versionId} AS "policyVersionId", ${attempt.column('outcome')} AS "outcome", ${attempt.column('enforced')} AS "enforced", ` +
    `${attempt.column('resolvedRegionId')} AS "regionId", CASE WHEN ${alreadyLockedSql(attempt)} THEN 1 ELSE 0 END AS "alreadyLocked", ` +
    `COUNT(*) AS "attempts", COUNT(DISTINCT ${attempt.column('deviceId')}) AS "devices" FROM ${scanned}` +
    ` JOIN ${device.from} ON ${device.column('id')} = ${attempt.column('deviceId')}` +
    ` WHERE (${sinceEffective})` +
    (to ? ` AND ${occurredAt} < ${parameters.at(to)}` : '') +
    ` AND ${device.column('partnerId')} = ${parameters.add(partnerId)}` +
    ` GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 5, 2, 3, 4`;
  return dataSource.query(sql, parameters.values);
}

/** One attempt of the export, with its labels. */
export interface AttemptExportRow {
  occurredAt: Date;
  imei: string;
  model: string;
  partner: string;
  region: string | null;
  regionSource: string;
  outcome: string;
  enforced: boolean;
  policy: string | null;
  policyVersion: number | null;
  reasonCodes: string[];
}

const EXPORT_PAGE = 2_000;

/**
 * Every attempt a report filter selects, oldest first, a page at a time (keyset pages, never the
 * whole window in memory): what the attempts export writes as it reads.
 */
export async function* attemptExportPages(
  context: ReportScope,
  filter: ActivationStatsFilter,
): AsyncGenerator<AttemptExportRow[]> {
  const resolved = await resolveStatsFilter(context, filter);
  const { dataSource } = context;
  const tables = reportTables(dataSource);
  const { attempt, device, model, partner, region, version, policy } = tables;
  const select = [
    ...(['id', 'occurredAt', 'regionSource', 'outcome', 'enforced', 'reasonCodes'] as const).map(
      (property) => `${attempt.column(property)} AS "${property}"`,
    ),
    `${device.column('imei')} AS "imei"`,
    `${model.column('code')} AS "model"`,
    `${partner.column('name')} AS "partner"`,
    `${region.column('code')} AS "region"`,
    `${policy.column('key')} AS "policy"`,
    `${version.column('number')} AS "policyVersion"`,
  ].join(', ');
  const from =
    `${attempt.from} JOIN ${device.from} ON ${device.column('id')} = ${attempt.column('deviceId')} ` +
    `JOIN ${model.from} ON ${model.column('id')} = ${device.column('modelId')} ` +
    `JOIN ${partner.from} ON ${partner.column('id')} = ${device.column('partnerId')} ` +
    `LEFT JOIN ${region.from} ON ${region.column('id')} = ${attempt.column('resolvedRegionId')} ` +
    `LEFT JOIN ${version.from} ON ${version.column('id')} = ${attempt.column('policyVersionId')} ` +
    `LEFT JOIN ${policy.from} ON ${policy.column('id')} = ${version.column('policyId')}`;
  let after: { occurredAt: unknown; id: number } | null = null;
  for (;;) {
    const parameters = new AttemptParameters(dataSource);
    const conditions = filterConditions(resolved, parameters, tables);
    if (after) conditions.push(parameters.after(after, attempt));
    const rows: Record<string, unknown>[] = await dataSource.query(
      `SELECT ${select} FROM ${from} WHERE ${conditions.join(' AND ')} ` +
        `ORDER BY ${attempt.column('occurredAt')}, ${attempt.column('id')} LIMIT ${EXPORT_PAGE}`,
      parameters.values,
    );
    yield rows.map((raw) => {
      const row = attempt.statements.hydrate(raw, ['occurredAt', 'enforced', 'reasonCodes']);
      return {
        occurredAt: row.occurredAt!,
        imei: String(raw.imei),
        model: String(raw.model),
        partner: String(raw.partner),
        region: (raw.region as string | null) ?? null,
        regionSource: String(raw.regionSource),
        outcome: String(raw.outcome),
        enforced: row.enforced!,
        policy: (raw.policy as string | null) ?? null,
        policyVersion: raw.policyVersion == null ? null : Number(raw.policyVersion),
        reasonCodes: row.reasonCodes ?? [],
      };
    });
    if (rows.length < EXPORT_PAGE) return;
    const last = rows[rows.length - 1];
    after = { occurredAt: last.occurredAt, id: Number(last.id) };
  }
}
