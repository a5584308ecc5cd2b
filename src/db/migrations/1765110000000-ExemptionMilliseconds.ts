import { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS = `"id", "policyId", "deviceId", "partnerId", "reason", "grantedBy", "expiresAt", "revokedAt", "createdAt"`;
const CONSTRAINTS =
  `CONSTRAINT "exemption_partner_id_fkey" FOREIGN KEY ("partnerId") REFERENCES "partner" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION, ` +
  `CONSTRAINT "exemption_device_id_fkey" FOREIGN KEY ("deviceId") REFERENCES "device" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION, ` +
  `CONSTRAINT "exemption_policy_id_fkey" FOREIGN KEY ("policyId") REFERENCES "policy" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION`;
const INDEXES = ['"exemption_policy_idx" ON "exemption" ("policyId")', '"exemption_device_idx" ON "exemption" ("deviceId")', '"exemption_partner_idx" ON "exemption" ("partnerId")'];

/**
 * On SQLite an exemption's `createdAt` defaulted to `datetime('now')`, whole seconds: as-of reads
 * saw an exemption up to a second before it was granted. The default keeps milliseconds now
 * (SQLite cannot change a default in place, so the table is rebuilt; it is small). PostgreSQL's
 * `now()` keeps microseconds already. Rows granted before keep their whole-second instants.
 */
export class ExemptionMilliseconds1765110000000 implements MigrationInterface {
  name = 'ExemptionMilliseconds1765110000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type === 'postgres') return;
    await this.rebuild(queryRunner, `(strftime('%Y-%m-%d %H:%M:%f', 'now'))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type === 'postgres') return;
    await this.rebuild(queryRunner, `datetime('now')`);
  }

  private async rebuild(queryRunner: QueryRunner, createdAtDefault: string): Promise<void> {
    for (const index of ['exemption_policy_idx', 'exemption_device_idx', 'exemption_partner_idx'])
      await queryRunner.query(`DROP INDEX "${index}"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_exemption" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "policyId" integer NOT NULL, "deviceId" integer, "partnerId" integer, "reason" text NOT NULL, "grantedBy" varchar(200) NOT NULL, "expiresAt" datetime, "revokedAt" datetime, "createdAt" datetime NOT NULL DEFAULT (${createdAtDefault}), ${CONSTRAINTS})`,
    );
    await queryRunner.query(`INSERT INTO "temporary_exemption"(${COLUMNS}) SELECT ${COLUMNS} FROM "exemption"`);
    await queryRunner.query(`DROP TABLE "exemption"`);
    await queryRunner.query(`ALTER TABLE "temporary_exemption" RENAME TO "exemption"`);
    for (const index of INDEXES) await queryRunner.query(`CREATE INDEX ${index}`);
  }
}
