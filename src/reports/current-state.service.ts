import { OPEN_REVIEWS_INDEX, ReviewStatus } from '../activations/activation-attempt.entity';
import { BadUserInputError } from '../common/errors';
import { RequestScope } from '../common/request-scope';
import type { ReportScope } from './report.service';
import { DeviceStatus, LOCKED_DEVICES_INDEX } from '../devices/device.entity';
import {
  DeviceScopeFilter,
  LockCause,
  LockedDeviceCounts,
  LockedDevicesGroupBy,
  LockedDevicesRow,
  LockedDeviceStats,
  ReviewQueueCounts,
  ReviewQueueGroupBy,
  ReviewQueueRow,
  ReviewQueueStats,
} from './current-state.types';
import { DAY_MS, HOUR_MS } from './time-buckets';
import { AttemptParameters, MAX_REPORT_ROWS, ResolvedScope, resolveScope } from './report.service';
import { ReportTables, reportTables } from './report-tables';

/*
 * Reports on the state things are in now (locked devices, the open review queue) rather than on
 * the attempts of a window. Both are small sets read through their indexes; grouped in SQL.
 */

/** SQL per grouping: the column's expression and the row field it fills. */
interface Grouping {
  alias: 'regionId' | 'countryId' | 'policyId' | 'modelId' | 'partnerId' | 'cause';
  expression: string;
}

/** The scope's conditions over devices and where they were located (`located`: a region id column). */
function scopeConditions(
  scope: ResolvedScope,
  parameters: AttemptParameters,
  { device }: ReportTables,
  located: string,
) {
  const conditions: string[] = [];
  if (scope.regionIds) conditions.push(`${located} IN (${parameters.list(scope.regionIds)})`);
  if (scope.modelIds) conditions.push(`${device.column('modelId')} IN (${parameters.list(scope.modelIds)})`);
  if (scope.partnerId !== undefined)
    conditions.push(`${device.column('partnerId')} = ${parameters.add(scope.partnerId)}`);
  return conditions;
}

/** A region's country: its parent, or itself when it has none. */
const countryOf = ({ region }: ReportTables) => `COALESCE(${region.column('parentId')}, ${region.column('id')})`;

/** GROUP BY and ORDER BY over the first `count` columns, and the SELECT list. */
function grouped(groupings: Grouping[], counts: string) {
  const select = [...groupings.map((grouping) => `${grouping.expression} AS "${grouping.alias}"`), counts].join(', ');
  const positions = groupings.map((_, index) => index + 1).join(', ');
  return { select, groupBy: groupings.length ? ` GROUP BY ${positions} ORDER BY ${positions}` : '' };
}

async function rowsOf(context: RequestScope, sql: string, parameters: AttemptParameters, field: string) {
  const rows: Record<string, unknown>[] = await context.dataSource.query(
    `${sql} LIMIT ${MAX_REPORT_ROWS + 1}`,
    parameters.values,
  );
  // Without groupings the database answers one row even when nothing matches: a report has none then.
  const counted = rows.filter((row) => Number(row.counted) > 0);
  if (rows.length > MAX_REPORT_ROWS)
    throw new BadUserInputError(
      field,
      `the report has more than ${MAX_REPORT_ROWS} rows: narrow the filter or group by less`,
    );
  return counted;
}

const idOrNull = (value: unknown) => (value == null ? null : Number(value));
/** The earlier of two instants, either of them missing. */
const earlier = (a: Date | null, b: Date | null) => (a && (!b || a < b) ? a : b);

function groupFields(row: Record<string, unknown>) {
  return {
    regionId: idOrNull(row.regionId),
    countryId: idOrNull(row.countryId),
    policyId: idOrNull(row.policyId),
    modelId: idOrNull(row.modelId),
    partnerId: idOrNull(row.partnerId),
  };
}

/**
 * Devices locked now, by where, why and by which policy they were locked: the device's own lock
 * columns — the region of the attempt the lock names (lockRegionId, copied when the lock was
 * written), lockCause, and the policy of lockPolicyVersionId (the version that decided, or the
 * sweep's policy). Read from the partial index over the locked devices alone; never from the
 * attempts, whose lookup by id alone probes every month on PostgreSQL.
 */
export async function lockedDeviceStats(
  context: ReportScope,
  filter: DeviceScopeFilter,
  groupBy: LockedDevicesGroupBy[],
): Promise<LockedDeviceStats> {
  const scope = await resolveScope(context, filter);
  const parameters = new AttemptParameters(context.dataSource);
  const tables = reportTables(context.dataSource);
  const { device, region, version } = tables;
  const groups = new Set(groupBy);
  const groupings: Grouping[] = [];
  if (groups.has(LockedDevicesGroupBy.REGION))
    groupings.push({ alias: 'regionId', expression: device.column('lockRegionId') });
  if (groups.has(LockedDevicesGroupBy.COUNTRY)) groupings.push({ alias: 'countryId', expression: countryOf(tables) });
  if (groups.has(LockedDevicesGroupBy.POLICY))
    groupings.push({ alias: 'policyId', expression: version.column('policyId') });
  if (groups.has(LockedDevicesGroupBy.CAUSE))
    groupings.push({ alias: 'cause', expression: device.column('lockCause') });
  if (groups.has(LockedDevicesGroupBy.MODEL))
    groupings.push({ alias: 'modelId', expression: device.column('modelId') });
  if (groups.has(LockedDevicesGroupBy.PARTNER))
    groupings.push({ alias: 'partnerId', expression: device.column('partnerId') });
  const { select, groupBy: groupSql } = grouped(
    groupings,
    `COUNT(*) AS "counted", MIN(${device.column('lockedAt')}) AS "lockedAt"`,
  );
  // The status as a literal, not a parameter: the planner matches it to the partial index's predicate.
  const conditions = [
    `${device.column('status')} = '${DeviceStatus.LOCKED}'`,
    ...scopeConditions(scope, parameters, tables, device.column('lockRegionId')),
  ];
  const sql =
    `SELECT ${select} FROM ${device.through(LOCKED_DEVICES_INDEX)}` +
    (groups.has(LockedDevicesGroupBy.COUNTRY)
      ? ` LEFT JOIN ${region.from} ON ${region.column('id')} = ${device.column('lockRegionId')}`
      : '') +
    (groups.has(LockedDevicesGroupBy.POLICY)
      ? ` LEFT JOIN ${version.from} ON ${version.column('id')} = ${device.column('lockPolicyVersionId')}`
      : '') +
    ` WHERE ${conditions.join(' AND ')}${groupSql}`;
  const rows = (await rowsOf(context, sql, parameters, 'groupBy')).map((row) =>
    Object.assign(new LockedDevicesRow(), groupFields(row), {
      cause: (row.cause as LockCause | undefined) ?? null,
      devices: Number(row.counted),
      oldestLockedAt: device.statements.hydrate(row, ['lockedAt']).lockedAt ?? null,
    }),
  );
  const totals: LockedDeviceCounts = { devices: 0, oldestLockedAt: null };
  for (const row of rows) {
    totals.devices += row.devices;
    totals.oldestLockedAt = earlier(row.oldestLockedAt, totals.oldestLockedAt);
  }
  return { rows, totals };
}

/** The open review queue now: how many wait, how long, where and for which policy. */
export async function reviewQueueStats(
  context: ReportScope,
  filter: DeviceScopeFilter,
  groupBy: ReviewQueueGroupBy[],
  now = new Date(),
): Promise<ReviewQueueStats> {
  const scope = await resolveScope(context, filter);
  const parameters = new AttemptParameters(context.dataSource);
  const tables = reportTables(context.dataSource);
  const { attempt, device, region, version } = tables;
  const groups = new Set(groupBy);
  const groupings: Grouping[] = [];
  if (groups.has(ReviewQueueGroupBy.REGION))
    groupings.push({ alias: 'regionId', expression: attempt.column('resolvedRegionId') });
  if (groups.has(ReviewQueueGroupBy.COUNTRY)) groupings.push({ alias: 'countryId', expression: countryOf(tables) });
  if (groups.has(ReviewQueueGroupBy.POLICY))
    groupings.push({ alias: 'policyId', expression: version.column('policyId') });
  if (groups.has(ReviewQueueGroupBy.MODEL)) groupings.push({ alias: 'modelId', expression: device.column('modelId') });
  if (groups.has(ReviewQueueGroupBy.PARTNER))
    groupings.push({ alias: 'partnerId', expression: device.column('partnerId') });
  const receivedAt = attempt.column('receivedAt');
  const waitedSince = (milliseconds: number) =>
    `SUM(CASE WHEN ${receivedAt} < ${parameters.at(new Date(now.getTime() - milliseconds))} THEN 1 ELSE 0 END)`;
  const { select, groupBy: groupSql } = grouped(
    groupings,
    `COUNT(*) AS "counted", ${waitedSince(HOUR_MS)} AS "overHour", ${waitedSince(DAY_MS)} AS "overDay", ` +
      `${waitedSince(7 * DAY_MS)} AS "overWeek", MIN(${receivedAt}) AS "receivedAt"`,
  );
  const needsDevice =
    groups.has(ReviewQueueGroupBy.MODEL) ||
    groups.has(ReviewQueueGroupBy.PARTNER) ||
    scope.modelIds !== undefined ||
    scope.partnerId !== undefined;
  const conditions = [
    // A literal, as above: the open reviews' partial index answers it.
    `${attempt.column('reviewStatus')} = '${ReviewStatus.OPEN}'`,
    ...scopeConditions(scope, parameters, tables, attempt.column('resolvedRegionId')),
  ];
  // SQLite, planning without statistics, took the (reviewStatus, occurredAt) index and read each
  // open review's row (27,619 of them at 8 × 10^6 attempts: 0.22 s of processor time, 0.03 s
  // through the partial index, which holds every column read here).
  const sql =
    `SELECT ${select} FROM ${attempt.through(OPEN_REVIEWS_INDEX)}` +
    (needsDevice ? ` JOIN ${device.from} ON ${device.column('id')} = ${attempt.column('deviceId')}` : '') +
    (groups.has(ReviewQueueGroupBy.COUNTRY)
      ? ` LEFT JOIN ${region.from} ON ${region.column('id')} = ${attempt.column('resolvedRegionId')}`
      : '') +
    (groups.has(ReviewQueueGroupBy.POLICY)
      ? ` LEFT JOIN ${version.from} ON ${version.column('id')} = ${attempt.column('policyVersionId')}`
      : '') +
    ` WHERE ${conditions.join(' AND ')}${groupSql}`;
  const rows = (await rowsOf(context, sql, parameters, 'groupBy')).map((row) =>
    Object.assign(new ReviewQueueRow(), groupFields(row), {
      waiting: Number(row.counted),
      waitingOverHour: Number(row.overHour ?? 0),
      waitingOverDay: Number(row.overDay ?? 0),
      waitingOverWeek: Number(row.overWeek ?? 0),
      oldestReceivedAt: attempt.statements.hydrate(row, ['receivedAt']).receivedAt ?? null,
    }),
  );
  const totals: ReviewQueueCounts = {
    waiting: 0,
    waitingOverHour: 0,
    waitingOverDay: 0,
    waitingOverWeek: 0,
    oldestReceivedAt: null,
  };
  for (const row of rows) {
    totals.waiting += row.waiting;
    totals.waitingOverHour += row.waitingOverHour;
    totals.waitingOverDay += row.waitingOverDay;
    totals.waitingOverWeek += row.waitingOverWeek;
    totals.oldestReceivedAt = earlier(row.oldestReceivedAt, totals.oldestReceivedAt);
  }
  return { asOf: now, rows, totals };
}
