import { MigrationInterface, QueryRunner } from 'typeorm';

/** Every device status change is kept with its cause; re-screening sweeps record their progress. */
export class SweepsAndStatusHistory1764600000000 implements MigrationInterface {
  name = 'SweepsAndStatusHistory1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const [id, text, timestamp] = postgres
      ? ['"id" SERIAL NOT NULL', 'character varying', 'TIMESTAMP WITH TIME ZONE']
      : ['"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL', 'varchar', 'datetime'];
    await queryRunner.query(
      `CREATE TABLE "device_status_change" (${id}, "deviceId" integer NOT NULL, "occurredAt" ${timestamp} NOT NULL, ` +
        `"fromStatus" ${text}(20) NOT NULL, "toStatus" ${text}(20) NOT NULL, "cause" ${text}(10) NOT NULL, "attemptId" integer, ` +
        `"sweepId" integer, "actor" ${text}(200) NOT NULL, "reason" ${text}(1000) NOT NULL, ` +
        (postgres ? 'CONSTRAINT "PK_b13618d1c017da2f2e74c564f1c" PRIMARY KEY ("id"), ' : '') +
        'CONSTRAINT "device_status_change_device_id_fkey" FOREIGN KEY ("deviceId") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE NO ACTION)',
    );
    await queryRunner.query('CREATE INDEX "device_status_change_sweep_idx" ON "device_status_change" ("sweepId")');
    await queryRunner.query('CREATE INDEX "device_status_change_device_idx" ON "device_status_change" ("deviceId", "id")');
    await queryRunner.query(
      `CREATE TABLE "sweep" (${id}, "policyId" integer NOT NULL, "action" ${text}(30) NOT NULL, "status" ${text}(10) NOT NULL, ` +
        `"note" text NOT NULL, "total" integer NOT NULL, "processed" integer NOT NULL, "changed" integer NOT NULL, ` +
        `"failed" integer NOT NULL, "breakdown" text NOT NULL, "cursor" integer NOT NULL, "leaseOwner" ${text}(100), ` +
        `"leaseUntil" ${timestamp}, "startedBy" ${text}(200) NOT NULL, "startedAt" ${timestamp} NOT NULL, ` +
        `"updatedAt" ${timestamp} NOT NULL, "finishedAt" ${timestamp}, ` +
        (postgres ? 'CONSTRAINT "PK_1e2e82827097e3525af9f7ac1e3" PRIMARY KEY ("id"), ' : '') +
        'CONSTRAINT "sweep_policy_id_fkey" FOREIGN KEY ("policyId") REFERENCES "policy"("id") ON DELETE RESTRICT ON UPDATE NO ACTION)',
    );
    await queryRunner.query('CREATE INDEX "sweep_status_idx" ON "sweep" ("status", "id")');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "sweep"');
    await queryRunner.query('DROP TABLE "device_status_change"');
  }
}
