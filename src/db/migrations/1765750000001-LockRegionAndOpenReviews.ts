import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Issue 21: the current-state reports at 2,000,000 devices and 10^7 attempts.
 *
 * lockedDeviceStats joined each locked device to the attempt that locked it, by id alone: on
 * PostgreSQL that is one probe per month partition per device (or a hash of every attempt; 8.4 s
 * measured). The lock's region now lives on the device (`lockRegionId`, written by the device
 * lifecycle with the other lock columns, filled here from the evidence attempt), and a partial
 * index over the locked devices holds every column the report reads.
 *
 * reviewQueueStats read each open review's row through the (reviewStatus, occurredAt) index: one
 * heap page per open review (0.8 s for ~34,000). A partial index over the open reviews holds
 * what the report reads. Both indexes are small: a few percent of their tables.
 */
const DAY_MS = 86_400_000;

export class LockRegionAndOpenReviews1765750000001 implements MigrationInterface {
  name = 'LockRegionAndOpenReviews1765750000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const run = (sql: string) => longQuery(queryRunner, sql);
    if (postgres) await run('SET LOCAL statement_timeout = 0');
    await run('ALTER TABLE "device" ADD "lockRegionId" integer');
    // The evidence attempt's region, for every device that names one (only locked devices do).
    await run(
      postgres
        ? 'UPDATE "device" d SET "lockRegionId" = a."resolvedRegionId" FROM "activation_attempt" a ' +
            'WHERE a."id" = d."lockedByAttemptId" AND a."resolvedRegionId" IS NOT NULL'
        : 'UPDATE "device" SET "lockRegionId" = (SELECT a."resolvedRegionId" FROM "activation_attempt" a WHERE a."id" = "device"."lockedByAttemptId") ' +
            'WHERE "lockedByAttemptId" IS NOT NULL',
    );
    await run(
      `CREATE INDEX "device_locked_idx" ON "device" ("lockRegionId", "lockCause", "lockPolicyVersionId", "modelId", "partnerId", "lockedAt") WHERE "status" = 'LOCKED'`,
    );
    // On PostgreSQL made on every month's partition, and on each month attached later.
    await run(
      `CREATE INDEX "activation_attempt_open_review_idx" ON "activation_attempt" ("receivedAt", "resolvedRegionId", "policyVersionId", "deviceId") WHERE "reviewStatus" = 'OPEN'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "activation_attempt_open_review_idx"');
    await queryRunner.query('DROP INDEX "device_locked_idx"');
    await queryRunner.query('ALTER TABLE "device" DROP COLUMN "lockRegionId"');
  }
}

/** A statement without the pool's client-side query timeout (the request timeout): the update reads every attempt. */
async function longQuery(queryRunner: QueryRunner, sql: string) {
  const client = (queryRunner as unknown as { databaseConnection?: { query: (config: object) => Promise<unknown> } })
    .databaseConnection;
  if (!client || queryRunner.connection.driver.options.type !== 'postgres') return queryRunner.query(sql);
  return client.query({ text: sql, query_timeout: DAY_MS });
}
