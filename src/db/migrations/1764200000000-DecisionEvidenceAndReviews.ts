import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Decisions keep their evidence, and REVIEW decisions get a review state. Plain ADD COLUMN on both
 * databases (TypeORM's generated SQLite form would copy the whole attempts table).
 */
export class DecisionEvidenceAndReviews1764200000000 implements MigrationInterface {
  name = 'DecisionEvidenceAndReviews1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const columns = postgres
      ? ['"explanation" text', '"reviewStatus" character varying(10)', '"reviewedAt" TIMESTAMP WITH TIME ZONE', '"reviewedBy" character varying(200)', '"reviewNote" text']
      : ['"explanation" text', '"reviewStatus" varchar(10)', '"reviewedAt" datetime', '"reviewedBy" varchar(200)', '"reviewNote" text'];
    for (const column of columns) await queryRunner.query(`ALTER TABLE "activation_attempt" ADD ${column}`);
    await queryRunner.query('CREATE INDEX "activation_attempt_review_idx" ON "activation_attempt" ("reviewStatus", "occurredAt")');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "activation_attempt_review_idx"');
    for (const column of ['reviewNote', 'reviewedBy', 'reviewedAt', 'reviewStatus', 'explanation']) {
      await queryRunner.query(`ALTER TABLE "activation_attempt" DROP COLUMN "${column}"`);
    }
  }
}
