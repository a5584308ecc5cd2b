import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Issue 21: policyImpact from counts kept per policy version (src/reports/policy-impact.entity.ts)
 * instead of a pass over every attempt (2.6 s at 10^7 attempts on PostgreSQL).
 *
 * Two tables: per version, UTC hour and report line (region, outcome, enforcement, refusal of an
 * already-locked device) the attempts and the devices first seen on the line in that hour; and
 * each device's first attempt per line. A late attempt earlier than a device's first moves the
 * device from one hour to another (−1 there, +1 here).
 *
 * Kept like the other rollups: on PostgreSQL a trigger per statement over its transition table
 * (a COPY of tens of thousands of rows is counted once), named to fire after the daily counts'
 * trigger, whose first step locks the statement's devices in id order; this one takes the same
 * locks again (held already, so nothing new is waited for) so that it never reads a device's
 * first attempt while another transaction is changing it. On SQLite a trigger per row; the bulk
 * path sets it aside and counts a load per commit (sqlite-batch-counts.ts).
 *
 * The existing attempts are counted here (one pass over the table, so without the request
 * timeout on PostgreSQL).
 */

/** The report line's keys of an attempt `a` (regionKey 0: no region resolved). */
const lineOf = (a: string) =>
  `${a}."policyVersionId", COALESCE(${a}."resolvedRegionId", 0), ${a}."outcome", ${a}."enforced", ${a}."reasonCodes" LIKE '["DEVICE_ALREADY_LOCKED"%'`;
/** The same, named as the tables name them. */
const namedLineOf = (a: string) =>
  `${a}."policyVersionId", COALESCE(${a}."resolvedRegionId", 0) AS "regionKey", ${a}."outcome", ${a}."enforced", (${a}."reasonCodes" LIKE '["DEVICE_ALREADY_LOCKED"%') AS "alreadyLocked"`;
const LINE = `"policyVersionId", "regionKey", "outcome", "enforced", "alreadyLocked"`;
const DAY_MS = 86_400_000;

export class PolicyImpactRollup1765750000000 implements MigrationInterface {
  name = 'PolicyImpactRollup1765750000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const run = (sql: string) => longQuery(queryRunner, sql);
    const hour = (column: string) =>
      postgres ? `date_trunc('hour', ${column}, 'UTC')` : `substr(${column}, 1, 13) || ':00:00.000'`;
    if (postgres) await run('SET LOCAL statement_timeout = 0');
    for (const ddl of postgres
      ? [
          'CREATE TABLE "policy_impact_rollup" ("policyVersionId" integer NOT NULL, "regionKey" integer NOT NULL, "outcome" character varying(10) NOT NULL, "enforced" boolean NOT NULL, "alreadyLocked" boolean NOT NULL, "hourStart" TIMESTAMP WITH TIME ZONE NOT NULL, "attempts" integer NOT NULL, "devices" integer NOT NULL, CONSTRAINT "PK_policy_impact_rollup" PRIMARY KEY ("policyVersionId", "hourStart", "regionKey", "outcome", "enforced", "alreadyLocked"))',
          'CREATE TABLE "policy_impact_device" ("policyVersionId" integer NOT NULL, "regionKey" integer NOT NULL, "outcome" character varying(10) NOT NULL, "enforced" boolean NOT NULL, "alreadyLocked" boolean NOT NULL, "deviceId" integer NOT NULL, "firstAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_policy_impact_device" PRIMARY KEY ("policyVersionId", "regionKey", "outcome", "enforced", "alreadyLocked", "deviceId"))',
        ]
      : [
          'CREATE TABLE "policy_impact_rollup" ("policyVersionId" integer NOT NULL, "regionKey" integer NOT NULL, "outcome" varchar(10) NOT NULL, "enforced" boolean NOT NULL, "alreadyLocked" boolean NOT NULL, "hourStart" datetime NOT NULL, "attempts" integer NOT NULL, "devices" integer NOT NULL, PRIMARY KEY ("policyVersionId", "hourStart", "regionKey", "outcome", "enforced", "alreadyLocked")) WITHOUT ROWID',
          'CREATE TABLE "policy_impact_device" ("policyVersionId" integer NOT NULL, "regionKey" integer NOT NULL, "outcome" varchar(10) NOT NULL, "enforced" boolean NOT NULL, "alreadyLocked" boolean NOT NULL, "deviceId" integer NOT NULL, "firstAt" datetime NOT NULL, PRIMARY KEY ("policyVersionId", "regionKey", "outcome", "enforced", "alreadyLocked", "deviceId")) WITHOUT ROWID',
        ]) {
      await run(ddl);
    }

    // The attempts already stored: first attempts per device and line, then the hours' attempts and first devices.
    await run(
      `INSERT INTO "policy_impact_device" (${LINE}, "deviceId", "firstAt") ` +
        `SELECT ${lineOf('a')}, a."deviceId", MIN(a."occurredAt") FROM "activation_attempt" a ` +
        `WHERE a."policyVersionId" IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6`,
    );
    await run(
      `INSERT INTO "policy_impact_rollup" (${LINE}, "hourStart", "attempts", "devices") ` +
        `SELECT ${LINE}, "hourStart", SUM("attempts"), SUM("devices") FROM (` +
        `SELECT ${namedLineOf('a')}, ${hour('a."occurredAt"')} AS "hourStart", 1 AS "attempts", 0 AS "devices" FROM "activation_attempt" a WHERE a."policyVersionId" IS NOT NULL` +
        `) counted GROUP BY 1, 2, 3, 4, 5, 6`,
    );
    await run(
      `UPDATE "policy_impact_rollup" SET "devices" = f."devices" FROM (` +
        `SELECT ${LINE}, ${hour('"firstAt"')} AS "hourStart", COUNT(*) AS "devices" FROM "policy_impact_device" GROUP BY 1, 2, 3, 4, 5, 6) f ` +
        `WHERE ${['policyVersionId', 'regionKey', 'outcome', 'enforced', 'alreadyLocked', 'hourStart']
          .map((column) => `"policy_impact_rollup"."${column}" = f."${column}"`)
          .join(' AND ')}`,
    );
    await run(
      'CREATE INDEX "policy_impact_device_first_idx" ON "policy_impact_device" ("policyVersionId", "firstAt")',
    );

    if (postgres) {
      await run(`
        CREATE FUNCTION policy_impact_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          -- The statement's devices, in id order: see the note in the migration.
          PERFORM 1 FROM "device" WHERE "id" IN (SELECT "deviceId" FROM inserted WHERE "policyVersionId" IS NOT NULL)
            ORDER BY "id" FOR NO KEY UPDATE;
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
                        "devices" = "policy_impact_rollup"."devices" + EXCLUDED."devices";
          RETURN NULL;
        END $$`);
      await run(
        'CREATE TRIGGER activation_policy_impact_insert AFTER INSERT ON "activation_attempt" REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION policy_impact_add()',
      );
      await run('ANALYZE "policy_impact_rollup"');
      await run('ANALYZE "policy_impact_device"');
    } else {
      // Per row, in order: the attempt; the device leaves the hour of a later first attempt; it
      // joins this hour when this is its first attempt on the line (now or from now on); the first attempt kept.
      const line = `"policyVersionId" = NEW."policyVersionId" AND "regionKey" = COALESCE(NEW."resolvedRegionId", 0) AND "outcome" = NEW."outcome" AND "enforced" = NEW."enforced" AND "alreadyLocked" = (NEW."reasonCodes" LIKE '["DEVICE_ALREADY_LOCKED"%')`;
      const device = `SELECT p."firstAt" FROM "policy_impact_device" p WHERE ${line.replace(/"(\w+)" = /g, 'p."$1" = ')} AND p."deviceId" = NEW."deviceId"`;
      const keys = `("policyVersionId", "hourStart", "regionKey", "outcome", "enforced", "alreadyLocked")`;
      await run(`
        CREATE TRIGGER "activation_policy_impact_insert" AFTER INSERT ON "activation_attempt"
        WHEN NEW."policyVersionId" IS NOT NULL
        BEGIN
          INSERT INTO "policy_impact_rollup" (${LINE}, "hourStart", "attempts", "devices")
          VALUES (${lineOf('NEW')}, ${hour('NEW."occurredAt"')}, 1, 0)
          ON CONFLICT ${keys} DO UPDATE SET "attempts" = "attempts" + 1;
          UPDATE "policy_impact_rollup" SET "devices" = "devices" - 1
          WHERE ${line} AND "hourStart" = (SELECT ${hour('f."firstAt"')} FROM (${device}) f WHERE f."firstAt" > NEW."occurredAt");
          UPDATE "policy_impact_rollup" SET "devices" = "devices" + 1
          WHERE ${line} AND "hourStart" = ${hour('NEW."occurredAt"')}
            AND NOT EXISTS (SELECT 1 FROM (${device}) f WHERE f."firstAt" <= NEW."occurredAt");
          INSERT INTO "policy_impact_device" (${LINE}, "deviceId", "firstAt")
          VALUES (${lineOf('NEW')}, NEW."deviceId", NEW."occurredAt")
          ON CONFLICT (${LINE}, "deviceId") DO UPDATE SET "firstAt" = excluded."firstAt" WHERE excluded."firstAt" < "firstAt";
        END`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(
      `DROP TRIGGER "activation_policy_impact_insert"${postgres ? ' ON "activation_attempt"' : ''}`,
    );
    if (postgres) await queryRunner.query('DROP FUNCTION policy_impact_add()');
    await queryRunner.query('DROP TABLE "policy_impact_device"');
    await queryRunner.query('DROP TABLE "policy_impact_rollup"');
  }
}

/**
 * A statement on the migration's connection without the pool's client-side query timeout (the
 * request timeout, seconds): counting 10^7 attempts takes minutes.
 */
async function longQuery(queryRunner: QueryRunner, sql: string) {
  const client = (queryRunner as unknown as { databaseConnection?: { query: (config: object) => Promise<unknown> } })
    .databaseConnection;
  if (!client || queryRunner.connection.driver.options.type !== 'postgres') return queryRunner.query(sql);
  return client.query({ text: sql, query_timeout: DAY_MS });
}
