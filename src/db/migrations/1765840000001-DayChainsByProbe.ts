import { MigrationInterface, QueryRunner } from 'typeorm';
import { LeanerAttemptCounting1765840000000 } from './1765840000000-LeanerAttemptCounting';

/*
 * Issue 15: a decision's attempt that gives its device a new day relinked the device's chain of
 * active days (migration 1764900000000) with the statement a COPY of tens of thousands of rows
 * needs: every day of the statement's devices read, numbered twice with window functions (before
 * and after the new days) and the two compared — about thirty plan nodes run for one new day. Up to
 * PROBED_DAYS new days, PostgreSQL's daily counts trigger now looks each new day's neighbours up by
 * the device-day key instead; more take the statement as before. Same links (README, "Ingest";
 * test/bulk-counts.test.ts adds days in every order per row and per batch, test/daily-devices.test.ts
 * late reports and two transactions at once). Otherwise the function is migration 1765840000000's.
 * SQLite unchanged.
 */

const day = (column: string) => `(${column} AT TIME ZONE 'UTC')::date`;
const NO_PREVIOUS_DAY = `'0001-01-01'`;

/**
 * A probe that stays a probe: a scalar subquery with LIMIT is not pulled up into a join, so it is
 * one index lookup per row asked (a hash anti-join would read every presence row).
 */
const presenceOf = (groupings: string, dayOf: string, keyOf: string, deviceOf: string) =>
  `(SELECT 1 FROM "activation_group_device_day" p WHERE p."grouping" IN (${groupings}) AND p."day" = ${dayOf} ` +
  `AND p."groupKey" = ${keyOf} AND p."deviceId" = ${deviceOf} LIMIT 1)`;

/** As in migration 1765840000000. */
const DAILY_ROLLUP = `
    INSERT INTO "activation_daily_rollup" ("dayStart", "regionKey", "outcome", "enforced", "attempts")
    SELECT date_trunc('day', a."occurredAt", 'UTC'), COALESCE(a."resolvedRegionId", 0), a."outcome", a."enforced", COUNT(*)
    FROM inserted a GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("dayStart", "regionKey", "outcome", "enforced")
    DO UPDATE SET "attempts" = "activation_daily_rollup"."attempts" + EXCLUDED."attempts";`;

/**
 * The chains of active days relinked around the statement's new days, for a statement of many:
 * each of their devices' days read once, the links before and after compared (migration 1765820000000's statement).
 */
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

/**
 * The same for a statement of few new days (a decision's): each new day's neighbours looked up by
 * the (deviceId, day) key instead. A new day links to the day before it (new or not); the device's
 * next day, when it is not new, was linked to the last old day before it and now links to this one.
 * Every other link stays. Probes cost per new day, so a COPY's tens of thousands take the reading above.
 */
const CHAIN_BY_PROBE = `
    WITH fresh AS (SELECT * FROM unnest(new_devices, new_days) AS f("deviceId", "day")),
    around AS (
      SELECT f."deviceId", f."day",
        (SELECT max(d."day") FROM "activation_device_day" d WHERE d."deviceId" = f."deviceId" AND d."day" < f."day") AS "previousDay",
        (SELECT min(d."day") FROM "activation_device_day" d WHERE d."deviceId" = f."deviceId" AND d."day" > f."day") AS "nextDay"
      FROM fresh f),
    relinked AS (
      SELECT a."nextDay" AS "day", a."day" AS "newPreviousDay",
        (SELECT max(d."day") FROM "activation_device_day" d WHERE d."deviceId" = a."deviceId" AND d."day" < a."nextDay"
           AND NOT EXISTS (SELECT 1 FROM fresh g WHERE g."deviceId" = d."deviceId" AND g."day" = d."day")) AS "oldPreviousDay"
      FROM around a
      WHERE a."nextDay" IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM fresh g WHERE g."deviceId" = a."deviceId" AND g."day" = a."nextDay")),
    changes AS (
      SELECT "day", COALESCE("previousDay", ${NO_PREVIOUS_DAY}) AS "previousDay", 1 AS "devices" FROM around
      UNION ALL
      SELECT "day", "newPreviousDay", 1 FROM relinked
      UNION ALL
      SELECT "day", COALESCE("oldPreviousDay", ${NO_PREVIOUS_DAY}), -1 FROM relinked)
    INSERT INTO "activation_device_day_link" ("day", "previousDay", "devices")
    SELECT "day", "previousDay", SUM("devices") FROM changes GROUP BY 1, 2 HAVING SUM("devices") <> 0 ORDER BY 1, 2
    ON CONFLICT ("day", "previousDay")
    DO UPDATE SET "devices" = "activation_device_day_link"."devices" + EXCLUDED."devices";`;

/** Up to this many new days a statement's chains are relinked by probes. */
const PROBED_DAYS = 64;

const DAILY_COUNTS = `
  CREATE OR REPLACE FUNCTION activation_daily_counts_add() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
  DECLARE
    new_devices integer[];
    new_days date[];
  BEGIN
    -- The statement's devices are locked already, in id order: activation_attempt_check_references fired first.
    -- Device days, then presence by region (R) and country (C): a day new to its device has none
    -- yet; a known day is looked up. Every data-modifying part runs to its end, read or not.
    WITH days AS MATERIALIZED (
      SELECT DISTINCT a."deviceId", ${day('a."occurredAt"')} AS "day" FROM inserted a),
    added AS (
      INSERT INTO "activation_device_day" ("deviceId", "day")
      SELECT d."deviceId", d."day" FROM days d
      WHERE NOT EXISTS (SELECT 1 FROM "activation_device_day" k WHERE k."deviceId" = d."deviceId" AND k."day" = d."day")
      ORDER BY 1, 2
      RETURNING "deviceId", "day"),
    batch AS MATERIALIZED (
      SELECT b.*, f."deviceId" IS NOT NULL AS "newDay" FROM (
        SELECT DISTINCT ${day('a."occurredAt"')} AS "day", a."deviceId",
          COALESCE(a."resolvedRegionId", 0) AS "regionKey", COALESCE(r."parentId", r."id", 0) AS "countryKey"
        FROM inserted a LEFT JOIN "region" r ON r."id" = a."resolvedRegionId") b
      LEFT JOIN added f ON f."deviceId" = b."deviceId" AND f."day" = b."day"),
    new_region AS MATERIALIZED (
      SELECT b."day", b."regionKey", b."deviceId" FROM batch b
      WHERE b."newDay" OR ${presenceOf(`'R'`, 'b."day"', 'b."regionKey"', 'b."deviceId"')} IS NULL),
    countries AS (
      SELECT b."day", b."countryKey", b."deviceId", bool_or(b."newDay") AS "newDay",
        bool_or(b."regionKey" = b."countryKey") AS "inCountryItself"
      FROM batch b GROUP BY 1, 2, 3),
    new_country AS MATERIALIZED (
      SELECT c."day", c."countryKey", c."deviceId", c."inCountryItself" FROM countries c
      WHERE c."newDay" OR ${presenceOf(`'C', 'R'`, 'c."day"', 'c."countryKey"', 'c."deviceId"')} IS NULL),
    written AS (
      INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
      SELECT 'R', "day", "regionKey", "deviceId" FROM new_region
      UNION ALL
      -- A country row only where no R row of the country's own key stands for it.
      SELECT 'C', "day", "countryKey", "deviceId" FROM new_country WHERE NOT "inCountryItself"
      ORDER BY 1, 2, 3, 4),
    counted AS (
      INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices")
      SELECT 'R', "day", "regionKey", COUNT(*) FROM new_region GROUP BY 1, 2, 3
      UNION ALL
      SELECT 'C', "day", "countryKey", COUNT(*) FROM new_country GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3
      ON CONFLICT ("grouping", "day", "groupKey")
      DO UPDATE SET "devices" = "activation_daily_devices"."devices" + EXCLUDED."devices")
    SELECT array_agg("deviceId"), array_agg("day") INTO new_devices, new_days FROM added;
    ${DAILY_ROLLUP}
    IF new_devices IS NULL THEN
      RETURN NULL;
    END IF;
    -- A fresh snapshot: the chains with the days just added.
    IF cardinality(new_devices) <= ${PROBED_DAYS} THEN
      ${CHAIN_BY_PROBE}
    ELSE
      ${CHAIN}
    END IF;
    RETURN NULL;
  END $$`;

export class DayChainsByProbe1765840000001 implements MigrationInterface {
  name = 'DayChainsByProbe1765840000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    await queryRunner.query(DAILY_COUNTS);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    // Migration 1765840000000's functions, as its up leaves them (it only replaces them).
    await new LeanerAttemptCounting1765840000000().up(queryRunner);
  }
}
