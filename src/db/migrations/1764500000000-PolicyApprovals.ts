import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Policy changes that could lock devices wait for a second person (change requests); versions
 * record when and by whom they became part of their policy. Versions of policies already active
 * count as approved when they were created.
 */
export class PolicyApprovals1764500000000 implements MigrationInterface {
  name = 'PolicyApprovals1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const [id, text, timestamp] = postgres
      ? ['"id" SERIAL NOT NULL', 'character varying', 'TIMESTAMP WITH TIME ZONE']
      : ['"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL', 'varchar', 'datetime'];
    await queryRunner.query(`ALTER TABLE "policy_version" ADD "approvedAt" ${timestamp}`);
    await queryRunner.query(`ALTER TABLE "policy_version" ADD "approvedBy" ${text}(200)`);
    await queryRunner.query('ALTER TABLE "policy_version" ADD "changeRequestId" integer');
    await queryRunner.query(
      `UPDATE "policy_version" SET "approvedAt" = "createdAt", "approvedBy" = 'before approvals' ` +
        `WHERE "policyId" IN (SELECT "id" FROM "policy" WHERE "status" <> 'DRAFT')`,
    );
    await queryRunner.query(
      `CREATE TABLE "policy_change_request" (${id}, "policyId" integer NOT NULL, "kind" ${text}(10) NOT NULL, ` +
        `"baseVersionId" integer NOT NULL, "proposedRules" text NOT NULL, "reasons" text NOT NULL, "status" ${text}(12) NOT NULL, ` +
        `"note" text NOT NULL, "requestedBy" ${text}(200) NOT NULL, "requestedByKeyId" ${text}(100), "requestedAt" ${timestamp} NOT NULL, ` +
        `"decidedBy" ${text}(200), "decidedAt" ${timestamp}, "decisionComment" text, "impactAtApproval" text, "resultingVersionId" integer, ` +
        (postgres ? 'CONSTRAINT "PK_a49398cc2a2d4257e8ab08c4763" PRIMARY KEY ("id"), ' : '') +
        'CONSTRAINT "policy_change_request_policy_id_fkey" FOREIGN KEY ("policyId") REFERENCES "policy"("id") ON DELETE RESTRICT ON UPDATE NO ACTION, ' +
        'CONSTRAINT "policy_change_request_base_version_id_fkey" FOREIGN KEY ("baseVersionId") REFERENCES "policy_version"("id") ON DELETE RESTRICT ON UPDATE NO ACTION)',
    );
    await queryRunner.query('CREATE INDEX "policy_change_request_status_idx" ON "policy_change_request" ("status", "id")');
    await queryRunner.query('CREATE INDEX "policy_change_request_policy_idx" ON "policy_change_request" ("policyId", "id")');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "policy_change_request"');
    for (const column of ['changeRequestId', 'approvedBy', 'approvedAt']) {
      await queryRunner.query(`ALTER TABLE "policy_version" DROP COLUMN "${column}"`);
    }
  }
}
