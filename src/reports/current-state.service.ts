import { ActivationAttempt, ReviewStatus } from '../activations/activation-attempt.entity';
import { BadUserInputError } from '../common/errors';
import { RequestScope } from '../common/request-scope';
import type { ReportScope } from './report.service';
import { EntityStatements } from '../db/prepared';
import { Device, DeviceStatus } from '../devices/device.entity';
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

/*
 * Reports on the state things are in now (locked devices, the open review queue) rather than on
 * the attempts of a window. Both are small sets read through their indexes; grouped in SQL.
 */

/** SQL per grouping: the column's expression and the row field it fills. */
interface Grouping {
  alias: 'regionId' | 'countryId' | 'policyId' | 'modelId' | 'partnerId' | 'cause';
  expression: string;
}

/** The scope's conditions over devices `d` and the attempt `a` that located them. */
function scopeConditions(scope: ResolvedScope, parameters: AttemptParameters): string[] {
  const conditions: string[] = [];
  if (scope.regionIds) conditions.push(`a."resolvedRegionId" IN (${parameters.list(scope.regionIds)})`);
  if (scope.modelIds) conditions.push(`d."modelId" IN (${parameters.list(scope.modelIds)})`);
  if (scope.partnerId !== undefined) conditions.push(`d."partnerId" = ${parameters.add(scope.partnerId)}`);
  return conditions;
}

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

/** A constant of ours as an SQL string literal. */
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

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
 * Devices locked now, by where, why and by which policy they were locked. The region is that of
 * the attempt the lock names; the cause and the policy are the device's own (lockCause, and the
 * policy of lockPolicyVersionId: the version that decided, or the sweep's policy).
 */
export async function lockedDeviceStats(
  context: ReportScope,
  filter: DeviceScopeFilter,
  groupBy: LockedDevicesGroupBy[],
): Promise<LockedDeviceStats> {
  const scope = await resolveScope(context, filter);
  const parameters = new AttemptParameters(context.dataSource);
  const devices = new EntityStatements(context.dataSource, Device);
  const groups = new Set(groupBy);
  const groupings: Grouping[] = [];
  if (groups.has(LockedDevicesGroupBy.REGION))
    groupings.push({ alias: 'regionId', expression: 'a."resolvedRegionId"' });
  if (groups.has(LockedDevicesGroupBy.COUNTRY))
    groupings.push({ alias: 'countryId', expression: 'COALESCE(r."parentId", r."id")' });
  if (groups.has(LockedDevicesGroupBy.POLICY)) groupings.push({ alias: 'policyId', expression: 'v."policyId"' });
  if (groups.has(LockedDevicesGroupBy.CAUSE)) groupings.push({ alias: 'cause', expression: 'd."lockCause"' });
  if (groups.has(LockedDevicesGroupBy.MODEL)) groupings.push({ alias: 'modelId', expression: 'd."modelId"' });
  if (groups.has(LockedDevicesGroupBy.PARTNER)) groupings.push({ alias: 'partnerId', expression: 'd."partnerId"' });
  const { select, groupBy: groupSql } = grouped(groupings, 'COUNT(*) AS "counted", MIN(d."lockedAt") AS "lockedAt"');
  const conditions = [`d."status" = ${literal(DeviceStatus.LOCKED)}`, ...scopeConditions(scope, parameters)];
  const sql =
    `SELECT ${select} FROM "device" d LEFT JOIN "activation_attempt" a ON a."id" = d."lockedByAttemptId"` +
    (groups.has(LockedDevicesGroupBy.COUNTRY) ? ` LEFT JOIN "region" r ON r."id" = a."resolvedRegionId"` : '') +
    (groups.has(LockedDevicesGroupBy.POLICY)
      ? ` LEFT JOIN "policy_version" v ON v."id" = d."lockPolicyVersionId"`
      : '') +
    ` WHERE ${conditions.join(' AND ')}${groupSql}`;
  const rows = (await rowsOf(context, sql, parameters, 'groupBy')).map((row) =>
    Object.assign(new LockedDevicesRow(), groupFields(row), {
      cause: (row.cause as LockCause | undefined) ?? null,
      devices: Number(row.counted),
      oldestLockedAt: devices.hydrate(row, ['lockedAt']).lockedAt ?? null,
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
  const attempts = new EntityStatements(context.dataSource, ActivationAttempt);
  const parameters = new AttemptParameters(context.dataSource);
  const groups = new Set(groupBy);
  const groupings: Grouping[] = [];
  if (groups.has(ReviewQueueGroupBy.REGION)) groupings.push({ alias: 'regionId', expression: 'a."resolvedRegionId"' });
  if (groups.has(ReviewQueueGroupBy.COUNTRY))
    groupings.push({ alias: 'countryId', expression: 'COALESCE(r."parentId", r."id")' });
  if (groups.has(ReviewQueueGroupBy.POLICY)) groupings.push({ alias: 'policyId', expression: 'v."policyId"' });
  if (groups.has(ReviewQueueGroupBy.MODEL)) groupings.push({ alias: 'modelId', expression: 'd."modelId"' });
  if (groups.has(ReviewQueueGroupBy.PARTNER)) groupings.push({ alias: 'partnerId', expression: 'd."partnerId"' });
  const waitedSince = (milliseconds: number) =>
    `SUM(CASE WHEN a."receivedAt" < ${parameters.at(new Date(now.getTime() - milliseconds))} THEN 1 ELSE 0 END)`;
  const { select, groupBy: groupSql } = grouped(
    groupings,
    `COUNT(*) AS "counted", ${waitedSince(HOUR_MS)} AS "overHour", ${waitedSince(DAY_MS)} AS "overDay", ` +
      `${waitedSince(7 * DAY_MS)} AS "overWeek", MIN(a."receivedAt") AS "receivedAt"`,
  );
  const needsDevice =
    groups.has(ReviewQueueGroupBy.MODEL) ||
    groups.has(ReviewQueueGroupBy.PARTNER) ||
    scope.modelIds !== undefined ||
    scope.partnerId !== undefined;
  const conditions = [`a."reviewStatus" = ${parameters.add(ReviewStatus.OPEN)}`, ...scopeConditions(scope, parameters)];
  const sql =
    `SELECT ${select} FROM "activation_attempt" a` +
    (needsDevice ? ` JOIN "device" d ON d."id" = a."deviceId"` : '') +
    (groups.has(ReviewQueueGroupBy.COUNTRY) ? ` LEFT JOIN "region" r ON r."id" = a."resolvedRegionId"` : '') +
    (groups.has(ReviewQueueGroupBy.POLICY) ? ` LEFT JOIN "policy_version" v ON v."id" = a."policyVersionId"` : '') +
    ` WHERE ${conditions.join(' AND ')}${groupSql}`;
  const rows = (await rowsOf(context, sql, parameters, 'groupBy')).map((row) =>
    Object.assign(new ReviewQueueRow(), groupFields(row), {
      waiting: Number(row.counted),
      waitingOverHour: Number(row.overHour ?? 0),
      waitingOverDay: Number(row.overDay ?? 0),
      waitingOverWeek: Number(row.overWeek ?? 0),
      oldestReceivedAt: attempts.hydrate(row, ['receivedAt']).receivedAt ?? null,
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
