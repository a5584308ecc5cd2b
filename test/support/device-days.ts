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

const HOUR_MS = 3_600_000;
/** An instant as an ISO string, whichever form the driver read it in (a Date, or SQLite's UTC text). */
const isoOf = (value: unknown) =>
  value instanceof Date ? value.toISOString() : new Date(`${String(value).replace(' ', 'T')}Z`).toISOString();

/**
 * policyImpact's kept tables (migration 1765750000000) as the raw attempts say they must be: per
 * version, UTC hour and line the attempts and the devices first seen on the line in that hour; each
 * device's first attempt per line.
 */
export function expectedImpact(attempts: ActivationAttempt[]) {
  const rollup = new Map<string, { attempts: number; devices: number }>();
  const firsts = new Map<string, Date>();
  const hourOf = (instant: Date) => new Date(Math.floor(instant.getTime() / HOUR_MS) * HOUR_MS).toISOString();
  const lineOf = (attempt: ActivationAttempt) =>
    `${attempt.policyVersionId}|${attempt.resolvedRegionId ?? 0}|${attempt.outcome}|${attempt.enforced}|${attempt.reasonCodes[0] === 'DEVICE_ALREADY_LOCKED'}`;
  const counted = (line: string, hour: string) => {
    const [version, ...rest] = line.split('|');
    const key = [version, hour, ...rest].join('|');
    return rollup.get(key) ?? rollup.set(key, { attempts: 0, devices: 0 }).get(key)!;
  };
  for (const attempt of attempts) {
    if (attempt.policyVersionId === null) continue;
    const line = lineOf(attempt);
    counted(line, hourOf(attempt.occurredAt)).attempts += 1;
    const device = `${line}|${attempt.deviceId}`;
    const first = firsts.get(device);
    if (!first || attempt.occurredAt < first) firsts.set(device, attempt.occurredAt);
  }
  for (const [device, first] of firsts) counted(device.split('|').slice(0, 5).join('|'), hourOf(first)).devices += 1;
  return {
    rollup: new Map([...rollup].map(([key, value]) => [key, `${value.attempts}/${value.devices}`])),
    firsts: new Map([...firsts].map(([key, value]) => [key, value.toISOString()])),
  };
}

/** policyImpact's kept tables, read back in the form `expectedImpact` gives. */
export async function impactTables(dataSource: DataSource) {
  const flag = (value: unknown) => value === true || value === 1;
  const rollup: Record<string, unknown>[] = await dataSource.query('SELECT * FROM "policy_impact_rollup"');
  const firsts: Record<string, unknown>[] = await dataSource.query('SELECT * FROM "policy_impact_device"');
  const line = (row: Record<string, unknown>) =>
    `${row.regionKey}|${row.outcome}|${flag(row.enforced)}|${flag(row.alreadyLocked)}`;
  return {
    rollup: new Map(
      rollup.map((row) => [
        `${row.policyVersionId}|${isoOf(row.hourStart)}|${line(row)}`,
        `${Number(row.attempts)}/${Number(row.devices)}`,
      ]),
    ),
    firsts: new Map(firsts.map((row) => [`${row.policyVersionId}|${line(row)}|${row.deviceId}`, isoOf(row.firstAt)])),
  };
}
