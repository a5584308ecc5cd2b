import { MigrationInterface, QueryRunner } from 'typeorm';

const NO_PREVIOUS_DAY = `'0001-01-01'`;

/**
 * Counts per UTC day, kept exact by triggers in the transaction of the attempts they count: the
 * hourly rollup's counts per day (activation_daily_rollup), and distinct devices per day by region
 * and by country and over any window of whole days (see device-day.entity.ts).
 *
 * Each device's active days form a chain counted by (day, previous day). A day inserted into the
 * middle of a chain (an attempt reported late) relinks the next one. On PostgreSQL concurrent
 * statements could each read a chain without the other's new day, so a statement locks its
 * attempts' devices (their rows, FOR NO KEY UPDATE: attempts' foreign-key checks still pass)
 * before anything else, in id order. Before anything else, because a decision that locks a device
 * updates the device row later in its transaction: had the lock been taken after these triggers'
 * counter rows, that update and another statement's trigger could wait for each other (a test
 * with two instances deadlocked that way). The group presence rows need no lock, as a second
 * insert of the same key waits for the first and then counts nothing.
 */
export class DailyCounts1764900000000 implements MigrationInterface {
  name = 'DailyCounts1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const day = (column: string) => (postgres ? `(${column} AT TIME ZONE 'UTC')::date` : `substr(${column}, 1, 10)`);
    for (const ddl of postgres
      ? [
          'CREATE TABLE "activation_device_day" ("deviceId" integer NOT NULL, "day" date NOT NULL, CONSTRAINT "PK_50f4b13750b9d21ee0e1afe9f38" PRIMARY KEY ("deviceId", "day"))',
          'CREATE TABLE "activation_device_day_link" ("day" date NOT NULL, "previousDay" date NOT NULL, "devices" integer NOT NULL, CONSTRAINT "PK_ba1168f27d53a1ba73e4318879c" PRIMARY KEY ("day", "previousDay"))',
          'CREATE TABLE "activation_group_device_day" ("grouping" character varying(1) NOT NULL, "day" date NOT NULL, "groupKey" integer NOT NULL, "deviceId" integer NOT NULL, CONSTRAINT "PK_075d7367db47eee589f5ade563b" PRIMARY KEY ("grouping", "day", "groupKey", "deviceId"))',
          'CREATE TABLE "activation_daily_devices" ("grouping" character varying(1) NOT NULL, "day" date NOT NULL, "groupKey" integer NOT NULL, "devices" integer NOT NULL, CONSTRAINT "PK_2b3970b86ad7c0a5e36d8ef0d7a" PRIMARY KEY ("grouping", "day", "groupKey"))',
          'CREATE TABLE "activation_daily_rollup" ("dayStart" TIMESTAMP WITH TIME ZONE NOT NULL, "regionKey" integer NOT NULL, "outcome" character varying(10) NOT NULL, "enforced" boolean NOT NULL, "attempts" integer NOT NULL, CONSTRAINT "PK_0f45da4bd602f807489106dfef5" PRIMARY KEY ("dayStart", "regionKey", "outcome", "enforced"))',
        ]
      : [
          'CREATE TABLE "activation_device_day" ("deviceId" integer NOT NULL, "day" date NOT NULL, PRIMARY KEY ("deviceId", "day")) WITHOUT ROWID',
          'CREATE TABLE "activation_device_day_link" ("day" date NOT NULL, "previousDay" date NOT NULL, "devices" integer NOT NULL, PRIMARY KEY ("day", "previousDay")) WITHOUT ROWID',
          'CREATE TABLE "activation_group_device_day" ("grouping" varchar(1) NOT NULL, "day" date NOT NULL, "groupKey" integer NOT NULL, "deviceId" integer NOT NULL, PRIMARY KEY ("grouping", "day", "groupKey", "deviceId")) WITHOUT ROWID',
          'CREATE TABLE "activation_daily_devices" ("grouping" varchar(1) NOT NULL, "day" date NOT NULL, "groupKey" integer NOT NULL, "devices" integer NOT NULL, PRIMARY KEY ("grouping", "day", "groupKey")) WITHOUT ROWID',
          'CREATE TABLE "activation_daily_rollup" ("dayStart" datetime NOT NULL, "regionKey" integer NOT NULL, "outcome" varchar(10) NOT NULL, "enforced" boolean NOT NULL, "attempts" integer NOT NULL, PRIMARY KEY ("dayStart", "regionKey", "outcome", "enforced")) WITHOUT ROWID',
        ]) {
      await queryRunner.query(ddl);
    }

    // The attempts already stored.
    await queryRunner.query(
      `INSERT INTO "activation_device_day" ("deviceId", "day") SELECT DISTINCT a."deviceId", ${day('a."occurredAt"')} FROM "activation_attempt" a`,
    );
    await queryRunner.query(
      `INSERT INTO "activation_device_day_link" ("day", "previousDay", "devices") ` +
        `SELECT "day", COALESCE("previousDay", ${NO_PREVIOUS_DAY}), COUNT(*) FROM (` +
        `SELECT "day", lag("day") OVER (PARTITION BY "deviceId" ORDER BY "day") AS "previousDay" FROM "activation_device_day") chain GROUP BY 1, 2`,
    );
    await queryRunner.query(
      `INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId") ` +
        `SELECT DISTINCT 'R', ${day('a."occurredAt"')}, COALESCE(a."resolvedRegionId", 0), a."deviceId" FROM "activation_attempt" a ` +
        `UNION SELECT DISTINCT 'C', ${day('a."occurredAt"')}, COALESCE(r."parentId", r."id", 0), a."deviceId" FROM "activation_attempt" a LEFT JOIN "region" r ON r."id" = a."resolvedRegionId"`,
    );
    await queryRunner.query(
      `INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices") ` +
        `SELECT "grouping", "day", "groupKey", COUNT(*) FROM "activation_group_device_day" GROUP BY 1, 2, 3`,
    );
    const dayStart = (column: string) =>
      postgres ? `date_trunc('day', ${column}, 'UTC')` : `substr(${column}, 1, 10) || ' 00:00:00.000'`;
    await queryRunner.query(
      `INSERT INTO "activation_daily_rollup" ("dayStart", "regionKey", "outcome", "enforced", "attempts") ` +
        `SELECT ${dayStart('a."occurredAt"')}, COALESCE(a."resolvedRegionId", 0), a."outcome", a."enforced", COUNT(*) FROM "activation_attempt" a GROUP BY 1, 2, 3, 4`,
    );

    if (postgres) {
      await queryRunner.query(`
        CREATE FUNCTION activation_daily_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          new_devices integer[];
          new_days date[];
        BEGIN
          -- The statement's devices first, in id order: see the note above.
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

          INSERT INTO "activation_daily_rollup" ("dayStart", "regionKey", "outcome", "enforced", "attempts")
          SELECT ${dayStart('a."occurredAt"')}, COALESCE(a."resolvedRegionId", 0), a."outcome", a."enforced", COUNT(*)
          FROM inserted a GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
          ON CONFLICT ("dayStart", "regionKey", "outcome", "enforced")
          DO UPDATE SET "attempts" = "activation_daily_rollup"."attempts" + EXCLUDED."attempts";

          WITH added AS (
            INSERT INTO "activation_device_day" ("deviceId", "day")
            SELECT DISTINCT a."deviceId", ${day('a."occurredAt"')} FROM inserted a ORDER BY 1, 2
            ON CONFLICT DO NOTHING RETURNING "deviceId", "day")
          SELECT array_agg("deviceId"), array_agg("day") INTO new_devices, new_days FROM added;
          IF new_devices IS NULL THEN
            RETURN NULL;
          END IF;
          -- A fresh snapshot (the lock above was waited for): the chains as the statements that held it before left them.
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
          DO UPDATE SET "devices" = "activation_device_day_link"."devices" + EXCLUDED."devices";
          RETURN NULL;
        END $$`);
      await queryRunner.query(
        'CREATE TRIGGER activation_daily_counts_insert AFTER INSERT ON "activation_attempt" REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION activation_daily_counts_add()',
      );
    } else {
      // One writer at a time: each row reads what the rows before it left. A trigger per level, each
      // firing only when the attempt is its device's first there that day.
      const today = `substr(NEW."occurredAt", 1, 10)`;
      for (const [grouping, key] of [
        ['R', `COALESCE(NEW."resolvedRegionId", 0)`],
        ['C', `COALESCE((SELECT COALESCE(r."parentId", r."id") FROM "region" r WHERE r."id" = NEW."resolvedRegionId"), 0)`],
      ]) {
        await queryRunner.query(`
          CREATE TRIGGER "activation_daily_devices_${grouping}" AFTER INSERT ON "activation_attempt"
          WHEN NOT EXISTS (
            SELECT 1 FROM "activation_group_device_day" p
            WHERE p."grouping" = '${grouping}' AND p."day" = ${today} AND p."groupKey" = ${key} AND p."deviceId" = NEW."deviceId")
          BEGIN
            INSERT INTO "activation_group_device_day" ("grouping", "day", "groupKey", "deviceId")
            VALUES ('${grouping}', ${today}, ${key}, NEW."deviceId");
            INSERT INTO "activation_daily_devices" ("grouping", "day", "groupKey", "devices")
            VALUES ('${grouping}', ${today}, ${key}, 1)
            ON CONFLICT ("grouping", "day", "groupKey") DO UPDATE SET "devices" = "devices" + 1;
          END`);
      }
      await queryRunner.query(`
        CREATE TRIGGER "activation_daily_rollup_insert" AFTER INSERT ON "activation_attempt" BEGIN
          INSERT INTO "activation_daily_rollup" ("dayStart", "regionKey", "outcome", "enforced", "attempts")
          VALUES (${dayStart('NEW."occurredAt"')}, COALESCE(NEW."resolvedRegionId", 0), NEW."outcome", NEW."enforced", 1)
          ON CONFLICT ("dayStart", "regionKey", "outcome", "enforced") DO UPDATE SET "attempts" = "attempts" + 1;
        END`);
      const nextDay = `(SELECT MIN(d."day") FROM "activation_device_day" d WHERE d."deviceId" = NEW."deviceId" AND d."day" > ${today})`;
      const previousDay = `COALESCE((SELECT MAX(d."day") FROM "activation_device_day" d WHERE d."deviceId" = NEW."deviceId" AND d."day" < ${today}), ${NO_PREVIOUS_DAY})`;
      await queryRunner.query(`
        CREATE TRIGGER "activation_daily_counts_insert" AFTER INSERT ON "activation_attempt"
        WHEN NOT EXISTS (SELECT 1 FROM "activation_device_day" d WHERE d."deviceId" = NEW."deviceId" AND d."day" = ${today})
        BEGIN
          INSERT INTO "activation_device_day_link" ("day", "previousDay", "devices")
          SELECT ${nextDay}, ${today}, 1 WHERE ${nextDay} IS NOT NULL
          ON CONFLICT ("day", "previousDay") DO UPDATE SET "devices" = "devices" + 1;
          UPDATE "activation_device_day_link" SET "devices" = "devices" - 1
          WHERE "day" = ${nextDay} AND "previousDay" = ${previousDay};
          INSERT INTO "activation_device_day_link" ("day", "previousDay", "devices")
          VALUES (${today}, ${previousDay}, 1)
          ON CONFLICT ("day", "previousDay") DO UPDATE SET "devices" = "devices" + 1;
          INSERT INTO "activation_device_day" ("deviceId", "day") VALUES (NEW."deviceId", ${today});
        END`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(`DROP TRIGGER "activation_daily_counts_insert"${postgres ? ' ON "activation_attempt"' : ''}`);
    if (postgres) await queryRunner.query('DROP FUNCTION activation_daily_counts_add()');
    else {
      for (const grouping of ['R', 'C']) await queryRunner.query(`DROP TRIGGER "activation_daily_devices_${grouping}"`);
      await queryRunner.query('DROP TRIGGER "activation_daily_rollup_insert"');
    }
    for (const table of [
      'activation_daily_rollup',
      'activation_daily_devices',
      'activation_group_device_day',
      'activation_device_day_link',
      'activation_device_day',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
