import { MigrationInterface, QueryRunner } from 'typeorm';

/** A covering index for the reports, so a window of attempts is read without the wide rows. */
export class ReportIndex1764400000000 implements MigrationInterface {
  name = 'ReportIndex1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX "activation_attempt_report_idx" ON "activation_attempt" ("occurredAt", "resolvedRegionId", "outcome", "enforced", "deviceId", "policyVersionId")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "activation_attempt_report_idx"');
  }
}
