/**
 * The distinct-device tables the attempt triggers keep (migration 9), read back, and what the raw
 * attempts say they must hold: for tests that prove one equals the other.
 */
import { DataSource } from 'typeorm';
import { ActivationAttempt } from '../../src/activations/activation-attempt.entity';
import { Region } from '../../src/regions/region.entity';
import { NO_PREVIOUS_DAY } from '../../src/reports/device-day.entity';

const utcDay = (instant: Date) => instant.toISOString().slice(0, 10);

/** The kept tables (and the daily rollup) as the raw attempts say they must be. */
export function expectedFrom(attempts: ActivationAttempt[], regions: Map<number, Region>) {
  const countryOf = (regionId: number | null) =>
    regionId === null ? 0 : (regions.get(regionId)!.parentId ?? regionId);
  const presence = new Set<string>();
  const daily = new Map<string, number>();
  const daysOfDevice = new Map<number, Set<string>>();
  const rollup = new Map<string, number>();
  for (const attempt of attempts) {
    const day = utcDay(attempt.occurredAt);
    const counted = `${day}|${attempt.resolvedRegionId ?? 0}|${attempt.outcome}|${attempt.enforced}`;
    rollup.set(counted, (rollup.get(counted) ?? 0) + 1);
    for (const [grouping, key] of [
      ['R', attempt.resolvedRegionId ?? 0],
      ['C', countryOf(attempt.resolvedRegionId)],
    ] as const) {
      const present = `${grouping}|${day}|${key}|${attempt.deviceId}`;
      if (presence.has(present)) continue;
      presence.add(present);
      daily.set(`${grouping}|${day}|${key}`, (daily.get(`${grouping}|${day}|${key}`) ?? 0) + 1);
    }
    daysOfDevice.set(attempt.deviceId, (daysOfDevice.get(attempt.deviceId) ?? new Set()).add(day));
  }
  const links = new Map<string, number>();
  for (const days of daysOfDevice.values()) {
    const sorted = [...days].sort();
    sorted.forEach((day, index) => {
      const key = `${day}|${index === 0 ? NO_PREVIOUS_DAY : sorted[index - 1]}`;
      links.set(key, (links.get(key) ?? 0) + 1);
    });
  }
  return {
    daily,
    links,
    deviceDays: [...daysOfDevice.values()].reduce((sum, days) => sum + days.size, 0),
    rollup,
  };
}

export async function keptTables(dataSource: DataSource) {
  const postgres = dataSource.options.type === 'postgres';
  const text = (column: string) => (postgres ? `to_char(${column}, 'YYYY-MM-DD')` : column);
  const query = (sql: string) => dataSource.query(sql) as Promise<Record<string, unknown>[]>;
  const daily = await query(
    `SELECT "grouping", ${text('"day"')} AS "day", "groupKey", "devices" FROM "activation_daily_devices"`,
  );
  const links = await query(
    `SELECT ${text('"day"')} AS "day", ${text('"previousDay"')} AS "previousDay", "devices" FROM "activation_device_day_link" WHERE "devices" <> 0`,
  );
  const [deviceDays] = await query(`SELECT COUNT(*) AS "count" FROM "activation_device_day"`);
  const rollup = await query(
    `SELECT ${postgres ? `to_char("dayStart" AT TIME ZONE 'UTC', 'YYYY-MM-DD')` : 'substr("dayStart", 1, 10)'} AS "day", "regionKey", "outcome", "enforced", "attempts" FROM "activation_daily_rollup"`,
  );
  return {
    daily: new Map(daily.map((row) => [`${row.grouping}|${row.day}|${row.groupKey}`, Number(row.devices)])),
    links: new Map(links.map((row) => [`${row.day}|${row.previousDay}`, Number(row.devices)])),
    deviceDays: Number(deviceDays.count),
    rollup: new Map(
      rollup.map((row) => [
        `${row.day}|${row.regionKey}|${row.outcome}|${row.enforced === true || row.enforced === 1}`,
        Number(row.attempts),
      ]),
    ),
  };
}
