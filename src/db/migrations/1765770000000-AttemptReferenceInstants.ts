import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 21. References to an attempt carry its occurredAt beside its id: a device's lock
 * (`lockedByAttemptOccurredAt`) and a status change's attempt (`attemptOccurredAt`). On PostgreSQL
 * the attempts' primary key is (id, occurredAt) in monthly partitions, and a lookup by id alone
 * probes every month's index (README, "Attempts looked up by id"); with the instant it probes one.
 * Existing references are filled from their attempts; one whose attempt's month was retired
 * already stays null (its lookup finds nothing either way). The updates join once over the whole
 * table, so on PostgreSQL they run without the request timeout.
 */
export class AttemptReferenceInstants1765770000000 implements MigrationInterface {
  name = 'AttemptReferenceInstants1765770000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const instant = postgres ? 'TIMESTAMP WITH TIME ZONE' : 'datetime';
    if (postgres) await queryRunner.query('SET LOCAL statement_timeout = 0');
    await queryRunner.query(`ALTER TABLE "device" ADD "lockedByAttemptOccurredAt" ${instant}`);
    await queryRunner.query(`ALTER TABLE "device_status_change" ADD "attemptOccurredAt" ${instant}`);
    if (postgres) {
      await queryRunner.query(
        `UPDATE "device" d SET "lockedByAttemptOccurredAt" = a."occurredAt" FROM "activation_attempt" a ` +
          `WHERE a."id" = d."lockedByAttemptId"`,
      );
      await queryRunner.query(
        `UPDATE "device_status_change" c SET "attemptOccurredAt" = a."occurredAt" FROM "activation_attempt" a ` +
          `WHERE a."id" = c."attemptId"`,
      );
    } else {
      await queryRunner.query(
        `UPDATE "device" SET "lockedByAttemptOccurredAt" = ` +
          `(SELECT a."occurredAt" FROM "activation_attempt" a WHERE a."id" = "device"."lockedByAttemptId") ` +
          `WHERE "lockedByAttemptId" IS NOT NULL`,
      );
      await queryRunner.query(
        `UPDATE "device_status_change" SET "attemptOccurredAt" = ` +
          `(SELECT a."occurredAt" FROM "activation_attempt" a WHERE a."id" = "device_status_change"."attemptId") ` +
          `WHERE "attemptId" IS NOT NULL`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "device_status_change" DROP COLUMN "attemptOccurredAt"`);
    await queryRunner.query(`ALTER TABLE "device" DROP COLUMN "lockedByAttemptOccurredAt"`);
  }
}
