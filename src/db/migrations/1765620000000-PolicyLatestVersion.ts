import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `policy.currentVersionId` named the newest version, approved or not, while GraphQL's
 * `currentVersion` is the one in force: the column now says what it holds.
 */
export class PolicyLatestVersion1765620000000 implements MigrationInterface {
  name = 'PolicyLatestVersion1765620000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "policy" RENAME COLUMN "currentVersionId" TO "latestVersionId"');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "policy" RENAME COLUMN "latestVersionId" TO "currentVersionId"');
  }
}
