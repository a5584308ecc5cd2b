import { MigrationInterface, QueryRunner } from 'typeorm';

/** Partner webhooks: the event outbox, endpoints, deliveries and each try of them. */
export class PartnerWebhooks1764700000000 implements MigrationInterface {
  name = 'PartnerWebhooks1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const [id, text, timestamp, now] = postgres
      ? ['"id" SERIAL NOT NULL', 'character varying', 'TIMESTAMP WITH TIME ZONE', 'now()']
      : ['"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL', 'varchar', 'datetime', "(datetime('now'))"];
    const primaryKey = (name: string) => (postgres ? `CONSTRAINT "${name}" PRIMARY KEY ("id"), ` : '');
    const foreignKey = (name: string, column: string, table: string) =>
      `CONSTRAINT "${name}" FOREIGN KEY ("${column}") REFERENCES "${table}"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`;
    await queryRunner.query(
      `CREATE TABLE "partner_event" (${id}, "partnerId" integer NOT NULL, "deviceId" integer NOT NULL, "type" ${text}(20) NOT NULL, ` +
        `"occurredAt" ${timestamp} NOT NULL, "data" text NOT NULL, "fannedOutAt" ${timestamp}, ` +
        primaryKey('PK_a1b9a6b4d552fc34ee17f99f4d9') +
        `${foreignKey('partner_event_device_id_fkey', 'deviceId', 'device')})`,
    );
    await queryRunner.query('CREATE INDEX "partner_event_partner_idx" ON "partner_event" ("partnerId", "id")');
    await queryRunner.query(
      'CREATE INDEX "partner_event_pending_idx" ON "partner_event" ("id") WHERE "fannedOutAt" IS NULL',
    );
    await queryRunner.query(
      `CREATE TABLE "webhook_endpoint" (${id}, "partnerId" integer NOT NULL, "url" ${text}(2000) NOT NULL, "eventTypes" text NOT NULL, ` +
        `"description" ${text}(200) NOT NULL, "secret" ${text}(100) NOT NULL, "createdAt" ${timestamp} NOT NULL DEFAULT ${now}, ` +
        `"createdBy" ${text}(200) NOT NULL, "disabledAt" ${timestamp}, ` +
        primaryKey('PK_6c98112122b2b8a4f3984d2efa8') +
        `${foreignKey('webhook_endpoint_partner_id_fkey', 'partnerId', 'partner')})`,
    );
    await queryRunner.query('CREATE INDEX "webhook_endpoint_partner_idx" ON "webhook_endpoint" ("partnerId", "id")');
    await queryRunner.query(
      `CREATE TABLE "webhook_delivery" (${id}, "eventId" integer NOT NULL, "endpointId" integer NOT NULL, "status" ${text}(10) NOT NULL, ` +
        `"attempts" integer NOT NULL, "nextAttemptAt" ${timestamp} NOT NULL, "deliveredAt" ${timestamp}, "redeliveryOf" integer, ` +
        primaryKey('PK_b1ae290239a778f12399db91354') +
        `${foreignKey('webhook_delivery_event_id_fkey', 'eventId', 'partner_event')}, ` +
        `${foreignKey('webhook_delivery_endpoint_id_fkey', 'endpointId', 'webhook_endpoint')})`,
    );
    await queryRunner.query('CREATE INDEX "webhook_delivery_endpoint_idx" ON "webhook_delivery" ("endpointId", "id")');
    await queryRunner.query('CREATE INDEX "webhook_delivery_due_idx" ON "webhook_delivery" ("status", "nextAttemptAt")');
    await queryRunner.query(
      `CREATE TABLE "webhook_delivery_attempt" (${id}, "deliveryId" integer NOT NULL, "attemptedAt" ${timestamp} NOT NULL, ` +
        `"statusCode" integer, "error" ${text}(500), "durationMs" integer NOT NULL, ` +
        primaryKey('PK_e6efad829bd07e78a18fd0ad5d5') +
        `${foreignKey('webhook_delivery_attempt_delivery_id_fkey', 'deliveryId', 'webhook_delivery')})`,
    );
    await queryRunner.query(
      'CREATE INDEX "webhook_delivery_attempt_delivery_idx" ON "webhook_delivery_attempt" ("deliveryId", "id")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['webhook_delivery_attempt', 'webhook_delivery', 'webhook_endpoint', 'partner_event']) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
