import { MigrationInterface, QueryRunner } from 'typeorm';
import { LeanerPresenceCounts1765820000000 } from './1765820000000-LeanerPresenceCounts';

/*
 * Issues 21 and 15: PostgreSQL's counting triggers on an attempt insert do the same work with
 * fewer statements and fewer rows touched twice. The figures they keep are the same (the tables
 * hold the same rows: test/bulk-counts.test.ts, daily-devices, policy-impact; README, "Ingest").
 *
 * - The device locks are taken once. Since migration 1765830000000 the reference check
 *   (activation_attempt_check_references) locks every device a statement names, FOR NO KEY UPDATE
 *   in id order, and it fires first: a table's statement triggers fire in name order, and
 *   "activation_attempt_check_references" sorts before "activation_attempt_key_insert",
 *   "activation_daily_counts_insert", "activation_policy_impact_insert" and "activation_rollup_insert".
 *   The daily counts and policy impact triggers then locked the same rows again (held already, so
 *   nothing was waited for, but a second read of the devices: 50 ms of a 50,000-row COPY, whose
 *   grouping of the transition table by device spilled to disk, and two statements per decision).
 *   The lock still comes before anything the statement writes (migration 1764900000000 says why).
 * - The daily counts' device days, presence rows and daily device counts are one statement: its
 *   device days are inserted where a probe finds none (the statement holds its devices' locks, and
 *   only these triggers write device days, so no other statement can add one meanwhile; an insert
 *   with `ON CONFLICT DO NOTHING` writes each row speculatively and confirms it), and the presence
 *   rows join the new days straight from that insert's RETURNING instead of an array passed
 *   between two statements. A country row is left out when one of the device's attempts that day
 *   was in the country itself (its R row stands for it, migration 1765820000000): found while the
 *   statement's rows are grouped by country, instead of an anti-join sorting them twice more.
 *   Regions are two levels (a subdivision's parent is a country), so "an attempt whose region is
 *   the country key" and "an attempt whose region is its own country" are the same attempts.
 * - The policy impact trigger returns at once when no row names a policy version (most history
 *   rows; a decision where no policy applies).
 *
 * SQLite keeps its own path (row triggers, sqlite-batch-counts.ts on the bulk path).
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

/** As in migration 1765820000000. */
const DAILY_ROLLUP = `
    INSERT INTO "activation_daily_rollup" ("dayStart", "regionKey", "outcome", "enforced", "attempts")
    SELECT date_trunc('day', a."occurredAt", 'UTC'), COALESCE(a."resolvedRegionId", 0), a."outcome", a."enforced", COUNT(*)
    FROM inserted a GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("dayStart", "regionKey", "outcome", "enforced")
    DO UPDATE SET "attempts" = "activation_daily_rollup"."attempts" + EXCLUDED."attempts";`;

/** The chains of active days relinked around the statement's new days: migration 1765820000000's statement. */
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
    ${CHAIN}
    RETURN NULL;
  END $$`;

/* Policy impact (migration 1765750000000), its line and hour as there. */
const namedLineOf = (a: string) =>
  `${a}."policyVersionId", COALESCE(${a}."resolvedRegionId", 0) AS "regionKey", ${a}."outcome", ${a}."enforced", (${a}."reasonCodes" LIKE '["DEVICE_ALREADY_LOCKED"%') AS "alreadyLocked"`;
const LINE = `"policyVersionId", "regionKey", "outcome", "enforced", "alreadyLocked"`;
const hour = (column: string) => `date_trunc('hour', ${column}, 'UTC')`;

const POLICY_IMPACT_COUNT = `
          WITH batch AS (
            SELECT ${namedLineOf('a')}, a."deviceId", MIN(a."occurredAt") AS "firstAt"
            FROM inserted a WHERE a."policyVersionId" IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6),
          firsts AS (
            SELECT b.*, p."firstAt" AS "previousFirstAt" FROM batch b
            LEFT JOIN "policy_impact_device" p USING (${LINE}, "deviceId")),
          moved AS (
            INSERT INTO "policy_impact_device" (${LINE}, "deviceId", "firstAt")
            SELECT ${LINE}, "deviceId", "firstAt" FROM firsts
            WHERE "previousFirstAt" IS NULL OR "firstAt" < "previousFirstAt" ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (${LINE}, "deviceId") DO UPDATE SET "firstAt" = EXCLUDED."firstAt"),
          changes AS (
            SELECT ${namedLineOf('a')}, ${hour('a."occurredAt"')} AS "hourStart", 1 AS "attempts", 0 AS "devices"
            FROM inserted a WHERE a."policyVersionId" IS NOT NULL
            UNION ALL
            SELECT ${LINE}, ${hour('"firstAt"')}, 0, 1 FROM firsts
            WHERE "previousFirstAt" IS NULL OR "firstAt" < "previousFirstAt"
            UNION ALL
            SELECT ${LINE}, ${hour('"previousFirstAt"')}, 0, -1 FROM firsts WHERE "firstAt" < "previousFirstAt")
          INSERT INTO "policy_impact_rollup" (${LINE}, "hourStart", "attempts", "devices")
          SELECT ${LINE}, "hourStart", SUM("attempts"), SUM("devices") FROM changes
          GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 6, 2, 3, 4, 5
          ON CONFLICT ("policyVersionId", "hourStart", "regionKey", "outcome", "enforced", "alreadyLocked")
          DO UPDATE SET "attempts" = "policy_impact_rollup"."attempts" + EXCLUDED."attempts",
                        "devices" = "policy_impact_rollup"."devices" + EXCLUDED."devices";`;

const POLICY_IMPACT = `
        CREATE OR REPLACE FUNCTION policy_impact_add() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
        BEGIN
          -- Nothing to count without a policy version; the devices are locked already (activation_attempt_check_references).
          IF NOT EXISTS (SELECT 1 FROM inserted WHERE "policyVersionId" IS NOT NULL) THEN
            RETURN NULL;
          END IF;${POLICY_IMPACT_COUNT}
          RETURN NULL;
        END $$`;

/** Migration 1765750000000's function, as it was (for down; its jit setting from 1765820000000). */
const PREVIOUS_POLICY_IMPACT = `
        CREATE OR REPLACE FUNCTION policy_impact_add() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
        BEGIN
          -- The statement's devices, in id order: see the note in the migration.
          PERFORM 1 FROM "device" WHERE "id" IN (SELECT "deviceId" FROM inserted WHERE "policyVersionId" IS NOT NULL)
            ORDER BY "id" FOR NO KEY UPDATE;${POLICY_IMPACT_COUNT}
          RETURN NULL;
        END $$`;

export class LeanerAttemptCounting1765840000000 implements MigrationInterface {
  name = 'LeanerAttemptCounting1765840000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    await queryRunner.query(DAILY_COUNTS);
    await queryRunner.query(POLICY_IMPACT);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    await queryRunner.query(PREVIOUS_POLICY_IMPACT);
    // Migration 1765820000000's function and settings, as its up leaves them (it only replaces and sets).
    await new LeanerPresenceCounts1765820000000().up(queryRunner);
  }
}
