import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (secrets kept only as SHA-256 digests); the audit trail records the caller's key and
 * role; attempts record when their raw signals were purged. Plain ADD COLUMN on both databases.
 */
export class ApiKeysAndPrivacy1764300000000 implements MigrationInterface {
  name = 'ApiKeysAndPrivacy1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const [id, text, timestamp] = postgres
      ? ['"id" SERIAL NOT NULL', 'character varying', 'TIMESTAMP WITH TIME ZONE']
      : ['"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL', 'varchar', 'datetime'];
    await queryRunner.query(
      `CREATE TABLE "api_key" (${id}, "name" ${text}(100) NOT NULL, "role" ${text}(20) NOT NULL, "partnerId" integer, ` +
        `"prefix" ${text}(16) NOT NULL, "secretHash" ${text}(64) NOT NULL, "createdAt" ${timestamp} NOT NULL, ` +
        `"createdBy" ${text}(200) NOT NULL, "expiresAt" ${timestamp}, "revokedAt" ${timestamp}, "lastUsedAt" ${timestamp}, ` +
        (postgres ? 'CONSTRAINT "PK_b1bd840641b8acbaad89c3d8d11" PRIMARY KEY ("id"), ' : '') +
        'CONSTRAINT "api_key_partner_id_fkey" FOREIGN KEY ("partnerId") REFERENCES "partner"("id") ON DELETE RESTRICT ON UPDATE NO ACTION)',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "api_key_secret_hash_key" ON "api_key" ("secretHash")');
    await queryRunner.query('CREATE INDEX "api_key_created_at_idx" ON "api_key" ("createdAt", "id")');
    await queryRunner.query(`ALTER TABLE "activation_attempt" ADD "signalsPurgedAt" ${timestamp}`);
    await queryRunner.query(`ALTER TABLE "audit_event" ADD "actorRole" ${text}(20)`);
    await queryRunner.query(`ALTER TABLE "audit_event" ADD "actorKeyId" ${text}(100)`);
    await queryRunner.query('CREATE INDEX "audit_event_actor_key_idx" ON "audit_event" ("actorKeyId", "occurredAt")');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "audit_event_actor_key_idx"');
    await queryRunner.query('ALTER TABLE "audit_event" DROP COLUMN "actorKeyId"');
    await queryRunner.query('ALTER TABLE "audit_event" DROP COLUMN "actorRole"');
    await queryRunner.query('ALTER TABLE "activation_attempt" DROP COLUMN "signalsPurgedAt"');
    await queryRunner.query('DROP TABLE "api_key"');
  }
}
