import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hourly counts of attempts for the reports, kept by a trigger so that they change in the same
 * transaction as the attempts, whatever inserts them (decisions, the seed generator). PostgreSQL
 * counts per statement (a multi-row insert is one upsert per hour and region, in key order so that
 * concurrent statements lock rows in the same order); SQLite per row.
 */
export class ActivationRollup1764800000000 implements MigrationInterface {
  name = 'ActivationRollup1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const hour = postgres ? `date_trunc('hour', a."occurredAt", 'UTC')` : `substr(a."occurredAt", 1, 13) || ':00:00.000'`;
    await queryRunner.query(
      postgres
        ? 'CREATE TABLE "activation_hourly_rollup" ("hourStart" TIMESTAMP WITH TIME ZONE NOT NULL, "regionKey" integer NOT NULL, "outcome" character varying(10) NOT NULL, "enforced" boolean NOT NULL, "attempts" integer NOT NULL, CONSTRAINT "PK_837d42528587ffed18e92eac382" PRIMARY KEY ("hourStart", "regionKey", "outcome", "enforced"))'
        : 'CREATE TABLE "activation_hourly_rollup" ("hourStart" datetime NOT NULL, "regionKey" integer NOT NULL, "outcome" varchar(10) NOT NULL, "enforced" boolean NOT NULL, "attempts" integer NOT NULL, PRIMARY KEY ("hourStart", "regionKey", "outcome", "enforced"))',
    );
    await queryRunner.query(
      `INSERT INTO "activation_hourly_rollup" ("hourStart", "regionKey", "outcome", "enforced", "attempts") ` +
        `SELECT ${hour}, COALESCE(a."resolvedRegionId", 0), a."outcome", a."enforced", COUNT(*) FROM "activation_attempt" a GROUP BY 1, 2, 3, 4`,
    );
    if (postgres) {
      await queryRunner.query(`
        CREATE FUNCTION activation_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO "activation_hourly_rollup" ("hourStart", "regionKey", "outcome", "enforced", "attempts")
          SELECT date_trunc('hour', a."occurredAt", 'UTC'), COALESCE(a."resolvedRegionId", 0), a."outcome", a."enforced", COUNT(*)
          FROM inserted a GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
          ON CONFLICT ("hourStart", "regionKey", "outcome", "enforced")
          DO UPDATE SET "attempts" = "activation_hourly_rollup"."attempts" + EXCLUDED."attempts";
          RETURN NULL;
        END $$`);
      await queryRunner.query(
        'CREATE TRIGGER activation_rollup_insert AFTER INSERT ON "activation_attempt" REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION activation_rollup_add()',
      );
    } else {
      await queryRunner.query(`
        CREATE TRIGGER "activation_rollup_insert" AFTER INSERT ON "activation_attempt" BEGIN
          INSERT INTO "activation_hourly_rollup" ("hourStart", "regionKey", "outcome", "enforced", "attempts")
          VALUES (substr(NEW."occurredAt", 1, 13) || ':00:00.000', COALESCE(NEW."resolvedRegionId", 0), NEW."outcome", NEW."enforced", 1)
          ON CONFLICT ("hourStart", "regionKey", "outcome", "enforced") DO UPDATE SET "attempts" = "attempts" + 1;
        END`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(`DROP TRIGGER "activation_rollup_insert"${postgres ? ' ON "activation_attempt"' : ''}`);
    if (postgres) await queryRunner.query('DROP FUNCTION activation_rollup_add()');
    await queryRunner.query('DROP TABLE "activation_hourly_rollup"');
  }
}
