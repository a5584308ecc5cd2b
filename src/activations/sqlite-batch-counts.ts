import type BetterSqlite3 from 'better-sqlite3';
import { NO_PREVIOUS_DAY } from '../reports/device-day.entity';

/*
 * SQLite's attempt triggers (migrations 8, 9, 1765640000000, 1765750000000 and 1765820000000) count one row at a
 * time: for each attempt seven triggers look up and upsert the hourly and daily rollups, the
 * distinct-device tables, the device's chain of active days and policyImpact's counts, and record
 * its idempotency key. For a bulk load that is
 * most of the work. Here the load's transaction sets those triggers aside, stages the rows' few
 * counted columns in a temporary table, and before its commit counts the batch with a handful of
 * set-based statements giving the same result — the same statements PostgreSQL's per-statement
 * triggers run — then puts the triggers back. DDL is transactional in SQLite and it has one writer,
 * so no other write can happen while they are aside, and a failure rolls the drop back with the rows.
 * A trigger this file does not know (a later migration's) stays and fires per row.
 */

/** The per-row triggers whose work finish() does for a whole batch. */
const REPLACED_TRIGGERS = [
  'activation_rollup_insert',
  'activation_daily_rollup_insert',
  'activation_daily_devices_R',
  'activation_daily_devices_C',
  'activation_daily_counts_insert',
  'activation_attempt_key_insert',
  'activation_policy_impact_insert',
];

const STAGED = 'temp."bulk_staged_attempt"';
/** The batch's distinct (day, region, device), keyed: the statements below look rows up in it. */
const BATCH_PRESENCE = 'temp."bulk_batch_presence"';
const day = (column: string) => `substr(${column}, 1, 10)`;
const hour = (column: string) => `substr(${column}, 1, 13) || ':00:00.000'`;
/** A policyImpact line (policy-impact.entity.ts): version, region (0: none), outcome, enforcement, already locked. */
const IMPACT_LINE = `"policyVersionId", "regionKey", "outcome", "enforced", "alreadyLocked"`;
/** Refused because the device was locked already, read from the staged reason codes as the trigger reads them. */
const ALREADY_LOCKED = `(s."reasonCodes" LIKE '["DEVICE_ALREADY_LOCKED"%')`;

const COUNT_BATCH = [
  `INSERT INTO "activation_hourly_rollup" ("hourStart", "regionKey", "outcome", "enforced", "attempts")
   SELECT substr(s."occurredAt", 1, 13) || ':00:00.000', COALESCE(s."resolvedRegionId", 0), s."outcome", s."enforced", COUNT(*)
   FROM ${STAGED} s WHERE true GROUP BY 1, 2, 3, 4
   ON CONFLICT ("hourStart", "regionKey", "outcome", "enforced") DO UPDATE SET "attempts" = "attempts" + excluded."attempts"`,
  `INSERT INTO "activation_daily_rollup" ("dayStart", "regionKey", "outcome", "enforced", "attempts")
   SELECT ${day('s."occurredAt"')} || ' 00:00:00.000', COALESCE(s."resolvedRegionId", 0), s."outcome", s."enforced", COUNT(*)
   FROM ${STAGED} s WHERE true GROUP BY 1, 2, 3, 4
   ON CONFLICT ("dayStart", "regionKey", "outcome", "enforced") DO UPDATE SET "attempts" = "attempts" + excluded."attempts"`,
  // Distinct devices per day by region (R) and country (C), as the triggers keep them since
  // migration 1765820000000: a device is in a country on a day when there is a C row or an R row of
  // the country's own key, and a C row is written only where no R row stands for it.
  `INSERT INTO ${BATCH_PRESENCE} ("day", "regionKey", "deviceId", "countryKey")
   SELECT DISTINCT ${day('s."occurredAt"')}, COALESCE(s."resolvedRegionId", 0), s."deviceId", COALESCE(r."parentId", r."id", 0)
   FROM ${STAGED} s LEFT JOIN "region" r ON r."id" = s."resolvedRegionId"`,
  `CREATE TEMP TABLE "bulk_new_presence" AS
   SELECT 'R' AS "grouping", b."day", b."regionKey" AS "groupKey", b."deviceId" FROM ${BATCH_PRESENCE} b
   WHERE NOT EXISTS (SELECT 1 FROM "activation_group_device_day" p
     WHERE p."grouping" = 'R' AND p."day" = b."day" AND p."groupKey" = b."regionKey" AND p."deviceId" = b."deviceId")
   UNION
   SELECT 'C', b."day", b."countryKey", b."deviceId" FROM ${BATCH_PRESENCE} b
   WHERE NOT EXISTS (SELECT 1 FROM "activation_group_device_day" p
     WHERE p."grouping" IN ('C', 'R') AND p."day" = b."day" AND p."groupKey" = b."countryKey" AND p."deviceId" = b."deviceId")`,
  `INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
   SELECT n."grouping", n."day", n."groupKey", n."deviceId" FROM temp."bulk_new_presence" n
   WHERE n."grouping" = 'R' OR NOT EXISTS (SELECT 1 FROM ${BATCH_PRESENCE} b
     WHERE b."day" = n."day" AND b."regionKey" = n."groupKey" AND b."deviceId" = n."deviceId")`,
  `INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices")
   SELECT "grouping", "day", "groupKey", COUNT(*) FROM temp."bulk_new_presence" WHERE true GROUP BY 1, 2, 3
   ON CONFLICT ("grouping", "day", "groupKey") DO UPDATE SET "devices" = "devices" + excluded."devices"`,
  // Each device's chain of active days: the links before and after the batch's new days, the difference added.
  `CREATE TEMP TABLE "bulk_new_day" AS
   SELECT DISTINCT s."deviceId", ${day('s."occurredAt"')} AS "day" FROM ${STAGED} s
   WHERE NOT EXISTS (SELECT 1 FROM "activation_device_day" d WHERE d."deviceId" = s."deviceId" AND d."day" = ${day('s."occurredAt"')})`,
  `WITH chain AS (
     SELECT d."deviceId", d."day", 0 AS "isNew" FROM "activation_device_day" d
     WHERE d."deviceId" IN (SELECT "deviceId" FROM temp."bulk_new_day")
     UNION ALL SELECT "deviceId", "day", 1 FROM temp."bulk_new_day"),
   before AS (
     SELECT "deviceId", "day", lag("day") OVER (PARTITION BY "deviceId" ORDER BY "day") AS "previousDay" FROM chain WHERE "isNew" = 0),
   after AS (
     SELECT "deviceId", "day", "isNew", lag("day") OVER (PARTITION BY "deviceId" ORDER BY "day") AS "previousDay" FROM chain),
   changes AS (
     SELECT n."day", COALESCE(n."previousDay", '${NO_PREVIOUS_DAY}') AS "previousDay", 1 AS "devices"
     FROM after n LEFT JOIN before o ON o."deviceId" = n."deviceId" AND o."day" = n."day"
     WHERE n."isNew" = 1 OR n."previousDay" IS NOT o."previousDay"
     UNION ALL
     SELECT o."day", COALESCE(o."previousDay", '${NO_PREVIOUS_DAY}'), -1
     FROM before o JOIN after n ON n."deviceId" = o."deviceId" AND n."day" = o."day"
     WHERE n."previousDay" IS NOT o."previousDay")
   INSERT INTO "activation_device_day_link" ("day", "previousDay", "devices")
   SELECT "day", "previousDay", SUM("devices") FROM changes WHERE true GROUP BY 1, 2 HAVING SUM("devices") <> 0
   ON CONFLICT ("day", "previousDay") DO UPDATE SET "devices" = "devices" + excluded."devices"`,
  `INSERT INTO "activation_device_day" ("deviceId", "day") SELECT "deviceId", "day" FROM temp."bulk_new_day"`,
  `INSERT INTO "activation_idempotency_key" ("idempotencyKey", "attemptId", "occurredAt", "recordedAt")
   SELECT "idempotencyKey", "id", "occurredAt", "receivedAt" FROM ${STAGED} WHERE "idempotencyKey" IS NOT NULL`,
  // policyImpact's lines: each device's first attempt per line in the batch beside the one kept,
  // then the hours' attempts, the devices that move to an earlier hour or come new, and the firsts kept.
  `CREATE TEMP TABLE "bulk_impact_first" AS
   SELECT b.*, p."firstAt" AS "previousFirstAt" FROM (
     SELECT s."policyVersionId", COALESCE(s."resolvedRegionId", 0) AS "regionKey", s."outcome", s."enforced",
       ${ALREADY_LOCKED} AS "alreadyLocked", s."deviceId", MIN(s."occurredAt") AS "firstAt"
     FROM ${STAGED} s WHERE s."policyVersionId" IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6) b
   LEFT JOIN "policy_impact_device" p USING (${IMPACT_LINE}, "deviceId")`,
  `INSERT INTO "policy_impact_rollup" (${IMPACT_LINE}, "hourStart", "attempts", "devices")
   SELECT ${IMPACT_LINE}, "hourStart", SUM("attempts"), SUM("devices") FROM (
     SELECT s."policyVersionId", COALESCE(s."resolvedRegionId", 0) AS "regionKey", s."outcome", s."enforced", ${ALREADY_LOCKED} AS "alreadyLocked",
       ${hour('s."occurredAt"')} AS "hourStart", 1 AS "attempts", 0 AS "devices"
     FROM ${STAGED} s WHERE s."policyVersionId" IS NOT NULL
     UNION ALL
     SELECT ${IMPACT_LINE}, ${hour('"firstAt"')}, 0, 1 FROM temp."bulk_impact_first"
     WHERE "previousFirstAt" IS NULL OR "firstAt" < "previousFirstAt"
     UNION ALL
     SELECT ${IMPACT_LINE}, ${hour('"previousFirstAt"')}, 0, -1 FROM temp."bulk_impact_first" WHERE "firstAt" < "previousFirstAt")
   WHERE true GROUP BY 1, 2, 3, 4, 5, 6
   ON CONFLICT ("policyVersionId", "hourStart", "regionKey", "outcome", "enforced", "alreadyLocked")
   DO UPDATE SET "attempts" = "attempts" + excluded."attempts", "devices" = "devices" + excluded."devices"`,
  `INSERT INTO "policy_impact_device" (${IMPACT_LINE}, "deviceId", "firstAt")
   SELECT ${IMPACT_LINE}, "deviceId", "firstAt" FROM temp."bulk_impact_first"
   WHERE "previousFirstAt" IS NULL OR "firstAt" < "previousFirstAt"
   ON CONFLICT (${IMPACT_LINE}, "deviceId") DO UPDATE SET "firstAt" = excluded."firstAt"`,
  'DROP TABLE temp."bulk_new_presence"',
  'DROP TABLE temp."bulk_new_day"',
  'DROP TABLE temp."bulk_impact_first"',
  `DELETE FROM ${BATCH_PRESENCE}`,
  `DELETE FROM ${STAGED}`,
];

export class SqliteBatchCounts {
  private readonly triggers: { name: string; sql: string }[];
  private readonly stage: BetterSqlite3.Statement;

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    this.triggers = (
      sqlite
        .prepare(
          `SELECT "name", "sql" FROM sqlite_master WHERE "type" = 'trigger' AND "tbl_name" = 'activation_attempt'`,
        )
        .all() as { name: string; sql: string }[]
    ).filter((trigger) => REPLACED_TRIGGERS.includes(trigger.name));
    sqlite.exec(
      `CREATE TEMP TABLE IF NOT EXISTS "bulk_staged_attempt" ("id" integer NOT NULL, "deviceId" integer NOT NULL, "occurredAt" text NOT NULL, "receivedAt" text NOT NULL, "resolvedRegionId" integer, "outcome" text NOT NULL, "enforced" integer NOT NULL, "idempotencyKey" text, "policyVersionId" integer, "reasonCodes" text NOT NULL)`,
    );
    sqlite.exec(
      `CREATE TEMP TABLE IF NOT EXISTS "bulk_batch_presence" ("day" text NOT NULL, "regionKey" integer NOT NULL, "deviceId" integer NOT NULL, "countryKey" integer NOT NULL, PRIMARY KEY ("day", "regionKey", "deviceId")) WITHOUT ROWID`,
    );
    this.stage = sqlite.prepare(`INSERT INTO ${STAGED} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  /** Whether the database has all the triggers this replaces (else the rows are counted per row, as before). */
  get applies(): boolean {
    return this.triggers.length === REPLACED_TRIGGERS.length;
  }

  /** In the open transaction, before its first row: the per-row triggers stand aside. */
  begin(): void {
    for (const { name } of this.triggers) this.sqlite.exec(`DROP TRIGGER "${name}"`);
  }

  /** One inserted attempt, with the values as stored. */
  add(
    id: number | bigint,
    deviceId: number,
    occurredAt: string,
    receivedAt: string,
    resolvedRegionId: number | null,
    outcome: string,
    enforced: number,
    idempotencyKey: string | null,
    policyVersionId: number | null,
    reasonCodes: string,
  ): void {
    this.stage.run(
      id,
      deviceId,
      occurredAt,
      receivedAt,
      resolvedRegionId,
      outcome,
      enforced,
      idempotencyKey,
      policyVersionId,
      reasonCodes,
    );
  }

  /** Before the commit: the batch counted as the triggers would have counted it, and the triggers back. */
  finish(): void {
    for (const sql of COUNT_BATCH) this.sqlite.exec(sql);
    for (const { sql } of this.triggers) this.sqlite.exec(sql);
  }
}
