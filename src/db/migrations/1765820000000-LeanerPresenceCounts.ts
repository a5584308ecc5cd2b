import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Issue 21: the distinct-device counts cost the bulk path most of its per-row work (README,
 * "Ingest"). Same figures, less written:
 *
 * - A country presence row (grouping C) is no longer written when the attempt's region is its
 *   own country (or none was resolved): the region's presence row (R, same day, key and device)
 *   stands for it. Regions are two levels, a country and its ISO 3166-2 subdivisions (the
 *   countries' key is `parentId ?? id`), so an R row whose key is a country's is a presence in that
 *   country. A device is in country c on a day when there is a C or an R row of c; only attempts
 *   resolved to a subdivision write C rows (a tenth of them in the demo markets). Rows written
 *   before stay: an old C row beside its R row counts the same.
 * - PostgreSQL: the device's day is written first, and a device and day it makes new had no
 *   presence rows (they are written together, in the statement that holds the device's row
 *   lock, and neither is ever deleted without the other), so their presence rows are inserted
 *   without a lookup; only days the device had already are looked up, one probe each. The
 *   statement's devices are locked first as before, so no other statement writes their rows
 *   meanwhile. Without a conflict arbiter an insert is a third of the work of
 *   `ON CONFLICT DO NOTHING` (speculative insertion writes and confirms each row).
 * - PostgreSQL: the counting trigger functions run without JIT. Their planner costs (a probe per
 *   row of a transition table of unknown size) pass jit_above_cost, and compiling the presence
 *   statement took 1.9 s of its 2.7 s for 50,000 rows.
 *
 * SQLite's per-row triggers follow the same rule (their names are kept: the bulk path sets them
 * aside by name, sqlite-batch-counts.ts, which counts a batch the same way).
 */

const NO_PREVIOUS_DAY = `'0001-01-01'`;
const day = (column: string) => `(${column} AT TIME ZONE 'UTC')::date`;

const COUNTING_FUNCTIONS = [
  'activation_rollup_add()',
  'activation_daily_counts_add()',
  'policy_impact_add()',
  'activation_idempotency_key_add()',
];

const DAILY_ROLLUP = `
    INSERT INTO "activation_daily_rollup" ("dayStart", "regionKey", "outcome", "enforced", "attempts")
    SELECT date_trunc('day', a."occurredAt", 'UTC'), COALESCE(a."resolvedRegionId", 0), a."outcome", a."enforced", COUNT(*)
    FROM inserted a GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("dayStart", "regionKey", "outcome", "enforced")
    DO UPDATE SET "attempts" = "activation_daily_rollup"."attempts" + EXCLUDED."attempts";`;

/** The chains of active days relinked around the statement's new days (migration 9's statement). */
const CHAIN = `
    WITH fresh AS (SELECT * FROM unnest(new_devices, new_days) AS f("deviceId", "day")),
    chain AS (
      SELECT dd."deviceId", dd."day", f."day" IS NOT NULL AS "isNew"
      FROM "activation_device_day" dd
      LEFT JOIN fresh f ON f."deviceId" = dd."deviceId" AND f."day" = dd."day"
      WHERE dd."deviceId" IN (SELECT "deviceId" FROM fresh)),
    before AS (
      SELECT "deviceId", "day", lag("day") OVER (PARTITION BY "deviceId" ORDER BY "day") AS "previousDay"
      FROM chain WHERE NOT "isNew"),
    after AS (
      SELECT "deviceId", "day", "isNew", lag("day") OVER (PARTITION BY "deviceId" ORDER BY "day") AS "previousDay"
      FROM chain),
    changes AS (
      SELECT n."day", COALESCE(n."previousDay", ${NO_PREVIOUS_DAY}) AS "previousDay", 1 AS "devices"
      FROM after n LEFT JOIN before o ON o."deviceId" = n."deviceId" AND o."day" = n."day"
      WHERE n."isNew" OR n."previousDay" IS DISTINCT FROM o."previousDay"
      UNION ALL
      SELECT o."day", COALESCE(o."previousDay", ${NO_PREVIOUS_DAY}), -1
      FROM before o JOIN after n ON n."deviceId" = o."deviceId" AND n."day" = o."day"
      WHERE n."previousDay" IS DISTINCT FROM o."previousDay")
    INSERT INTO "activation_device_day_link" ("day", "previousDay", "devices")
    SELECT "day", "previousDay", SUM("devices") FROM changes GROUP BY 1, 2 HAVING SUM("devices") <> 0 ORDER BY 1, 2
    ON CONFLICT ("day", "previousDay")
    DO UPDATE SET "devices" = "activation_device_day_link"."devices" + EXCLUDED."devices";`;

/** Migration 9's function, as it was (for down). */
const PREVIOUS_DAILY_COUNTS = `
  CREATE OR REPLACE FUNCTION activation_daily_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    new_devices integer[];
    new_days date[];
  BEGIN
    PERFORM 1 FROM "device" WHERE "id" IN (SELECT "deviceId" FROM inserted) ORDER BY "id" FOR NO KEY UPDATE;
    WITH added AS (
      INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
      SELECT DISTINCT g."grouping", ${day('a."occurredAt"')}, g."groupKey", a."deviceId"
      FROM inserted a LEFT JOIN "region" r ON r."id" = a."resolvedRegionId"
      CROSS JOIN LATERAL (VALUES ('R', COALESCE(a."resolvedRegionId", 0)), ('C', COALESCE(r."parentId", r."id", 0))) AS g("grouping", "groupKey")
      ORDER BY 1, 2, 3, 4
      ON CONFLICT DO NOTHING RETURNING "grouping", "day", "groupKey")
    INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices")
    SELECT "grouping", "day", "groupKey", COUNT(*) FROM added GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT ("grouping", "day", "groupKey")
    DO UPDATE SET "devices" = "activation_daily_devices"."devices" + EXCLUDED."devices";
    ${DAILY_ROLLUP}
    WITH added AS (
      INSERT INTO "activation_device_day" ("deviceId", "day")
      SELECT DISTINCT a."deviceId", ${day('a."occurredAt"')} FROM inserted a ORDER BY 1, 2
      ON CONFLICT DO NOTHING RETURNING "deviceId", "day")
    SELECT array_agg("deviceId"), array_agg("day") INTO new_devices, new_days FROM added;
    IF new_devices IS NULL THEN
      RETURN NULL;
    END IF;
    ${CHAIN}
    RETURN NULL;
  END $$`;


/**
 * A probe that stays a probe: a scalar subquery with LIMIT is not pulled up into a join, so it is
 * one index lookup per row asked (a hash anti-join would read every presence row).
 */
const presenceOf = (groupings: string, dayOf: string, keyOf: string, deviceOf: string) =>
  `(SELECT 1 FROM "activation_group_device_day" p WHERE p."grouping" IN (${groupings}) AND p."day" = ${dayOf} ` +
  `AND p."groupKey" = ${keyOf} AND p."deviceId" = ${deviceOf} LIMIT 1)`;

const DAILY_COUNTS = `
  CREATE OR REPLACE FUNCTION activation_daily_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    new_devices integer[];
    new_days date[];
  BEGIN
    -- The statement's devices first, in id order (migration 9): no other statement writes their rows meanwhile.
    PERFORM 1 FROM "device" WHERE "id" IN (SELECT "deviceId" FROM inserted) ORDER BY "id" FOR NO KEY UPDATE;

    WITH added AS (
      INSERT INTO "activation_device_day" ("deviceId", "day")
      SELECT DISTINCT a."deviceId", ${day('a."occurredAt"')} FROM inserted a ORDER BY 1, 2
      ON CONFLICT DO NOTHING RETURNING "deviceId", "day")
    SELECT array_agg("deviceId"), array_agg("day") INTO new_devices, new_days FROM added;

    -- Presence by region (R) and country (C). A day new to its device has none yet; a known day is looked up.
    WITH fresh AS (SELECT * FROM unnest(new_devices, new_days) AS f("deviceId", "day")),
    batch AS MATERIALIZED (
      SELECT b.*, f."deviceId" IS NOT NULL AS "newDay" FROM (
        SELECT DISTINCT ${day('a."occurredAt"')} AS "day", a."deviceId",
          COALESCE(a."resolvedRegionId", 0) AS "regionKey", COALESCE(r."parentId", r."id", 0) AS "countryKey"
        FROM inserted a LEFT JOIN "region" r ON r."id" = a."resolvedRegionId") b
      LEFT JOIN fresh f ON f."deviceId" = b."deviceId" AND f."day" = b."day"),
    new_region AS MATERIALIZED (
      SELECT b."day", b."regionKey", b."deviceId" FROM batch b
      WHERE b."newDay" OR ${presenceOf(`'R'`, 'b."day"', 'b."regionKey"', 'b."deviceId"')} IS NULL),
    new_country AS MATERIALIZED (
      SELECT DISTINCT b."day", b."countryKey", b."deviceId" FROM batch b
      WHERE b."newDay" OR ${presenceOf(`'C', 'R'`, 'b."day"', 'b."countryKey"', 'b."deviceId"')} IS NULL),
    written AS (
      INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
      SELECT 'R', "day", "regionKey", "deviceId" FROM new_region
      UNION ALL
      -- A country row only where no R row of the country's own key stands for it.
      SELECT 'C', c."day", c."countryKey", c."deviceId" FROM new_country c
      WHERE NOT EXISTS (SELECT 1 FROM batch b WHERE b."day" = c."day" AND b."regionKey" = c."countryKey" AND b."deviceId" = c."deviceId")
      ORDER BY 1, 2, 3, 4)
    INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices")
    SELECT 'R', "day", "regionKey", COUNT(*) FROM new_region GROUP BY 1, 2, 3
    UNION ALL
    SELECT 'C', "day", "countryKey", COUNT(*) FROM new_country GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT ("grouping", "day", "groupKey")
    DO UPDATE SET "devices" = "activation_daily_devices"."devices" + EXCLUDED."devices";
    ${DAILY_ROLLUP}
    IF new_devices IS NULL THEN
      RETURN NULL;
    END IF;
    -- A fresh snapshot (the lock above was waited for): the chains as the statements that held it before left them.
    ${CHAIN}
    RETURN NULL;
  END $$`;

/* SQLite, per row (one writer: each row sees the rows before it). */
const TODAY = `substr(NEW."occurredAt", 1, 10)`;
const REGION_KEY = `COALESCE(NEW."resolvedRegionId", 0)`;
const PARENT = `(SELECT r."parentId" FROM "region" r WHERE r."id" = NEW."resolvedRegionId")`;
const sqlitePresence = (groupings: string, key: string) =>
  `EXISTS (SELECT 1 FROM "activation_group_device_day" p WHERE p."grouping" IN (${groupings}) AND p."day" = ${TODAY} ` +
  `AND p."groupKey" = ${key} AND p."deviceId" = NEW."deviceId")`;
const countDevice = (grouping: string, key: string, when = '') =>
  `INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices")
   SELECT '${grouping}', ${TODAY}, ${key}, 1 WHERE ${when || 'true'}
   ON CONFLICT ("grouping", "day", "groupKey") DO UPDATE SET "devices" = "devices" + 1;`;

const SQLITE_TRIGGERS = [
  // The region's presence; when the region is its own country (or none), also the country's,
  // unless an attempt in one of its subdivisions put the device there already that day.
  `CREATE TRIGGER "activation_daily_devices_R" AFTER INSERT ON "activation_attempt"
   WHEN NOT ${sqlitePresence(`'R'`, REGION_KEY)}
   BEGIN
     INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
     VALUES ('R', ${TODAY}, ${REGION_KEY}, NEW."deviceId");
     ${countDevice('R', REGION_KEY)}
     ${countDevice('C', REGION_KEY, `${PARENT} IS NULL AND NOT ${sqlitePresence(`'C'`, REGION_KEY)}`)}
   END`,
  // A subdivision's country: a C row unless the device is in the country that day already (a C
  // row, or an R row of the country itself).
  `CREATE TRIGGER "activation_daily_devices_C" AFTER INSERT ON "activation_attempt"
   WHEN ${PARENT} IS NOT NULL AND NOT ${sqlitePresence(`'C', 'R'`, PARENT)}
   BEGIN
     INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
     VALUES ('C', ${TODAY}, ${PARENT}, NEW."deviceId");
     ${countDevice('C', PARENT)}
   END`,
];

/** Migration 9's SQLite triggers, as they were (for down). */
const PREVIOUS_SQLITE_TRIGGERS = (
  [
    ['R', REGION_KEY],
    ['C', `COALESCE((SELECT COALESCE(r."parentId", r."id") FROM "region" r WHERE r."id" = NEW."resolvedRegionId"), 0)`],
  ] as const
).map(
  ([grouping, key]) => `
  CREATE TRIGGER "activation_daily_devices_${grouping}" AFTER INSERT ON "activation_attempt"
  WHEN NOT EXISTS (
    SELECT 1 FROM "activation_group_device_day" p
    WHERE p."grouping" = '${grouping}' AND p."day" = ${TODAY} AND p."groupKey" = ${key} AND p."deviceId" = NEW."deviceId")
  BEGIN
    INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
    VALUES ('${grouping}', ${TODAY}, ${key}, NEW."deviceId");
    INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices")
    VALUES ('${grouping}', ${TODAY}, ${key}, 1)
    ON CONFLICT ("grouping", "day", "groupKey") DO UPDATE SET "devices" = "devices" + 1;
  END`,
);

export class LeanerPresenceCounts1765820000000 implements MigrationInterface {
  name = 'LeanerPresenceCounts1765820000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type === 'postgres') {
      await queryRunner.query(DAILY_COUNTS);
      for (const fn of COUNTING_FUNCTIONS) await queryRunner.query(`ALTER FUNCTION ${fn} SET jit = off`);
      return;
    }
    for (const grouping of ['R', 'C']) await queryRunner.query(`DROP TRIGGER "activation_daily_devices_${grouping}"`);
    for (const trigger of SQLITE_TRIGGERS) await queryRunner.query(trigger);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Country rows left out meanwhile are written back, so the old rule finds them.
    const missingCountryRows =
      `INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId") ` +
      `SELECT 'C', p."day", p."groupKey", p."deviceId" FROM "activation_group_device_day" p ` +
      `LEFT JOIN "region" r ON r."id" = p."groupKey" WHERE p."grouping" = 'R' AND r."parentId" IS NULL ` +
      `AND NOT EXISTS (SELECT 1 FROM "activation_group_device_day" c WHERE c."grouping" = 'C' AND c."day" = p."day" ` +
      `AND c."groupKey" = p."groupKey" AND c."deviceId" = p."deviceId")`;
    if (queryRunner.connection.driver.options.type === 'postgres') {
      for (const fn of COUNTING_FUNCTIONS) await queryRunner.query(`ALTER FUNCTION ${fn} RESET jit`);
      await queryRunner.query(PREVIOUS_DAILY_COUNTS);
      await queryRunner.query(missingCountryRows);
      return;
    }
    for (const grouping of ['R', 'C']) await queryRunner.query(`DROP TRIGGER "activation_daily_devices_${grouping}"`);
    for (const trigger of PREVIOUS_SQLITE_TRIGGERS) await queryRunner.query(trigger);
    await queryRunner.query(missingCountryRows);
  }
}
