import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An audit event may concern a second object besides its target (a policy change's change
 * request), so the trail finds it by either ID.
 */
export class AuditRelatedTarget1765100000000 implements MigrationInterface {
  name = 'AuditRelatedTarget1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(
      `ALTER TABLE "audit_event" ADD COLUMN "relatedTargetId" ${postgres ? 'character varying(100)' : 'varchar(100)'}`,
    );
    await queryRunner.query(`CREATE INDEX "audit_event_related_target_idx" ON "audit_event" ("relatedTargetId")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "audit_event_related_target_idx"`);
    await queryRunner.query(`ALTER TABLE "audit_event" DROP COLUMN "relatedTargetId"`);
  }
}
