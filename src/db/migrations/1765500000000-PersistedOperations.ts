import { MigrationInterface, QueryRunner } from 'typeorm';

/** Persisted operations: the registry of documents sent by hash, and keys restricted to them. */
export class PersistedOperations1765500000000 implements MigrationInterface {
  name = 'PersistedOperations1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const [id, text, timestamp] = postgres
      ? ['"id" SERIAL NOT NULL', 'character varying', 'TIMESTAMP WITH TIME ZONE']
      : ['"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL', 'varchar', 'datetime'];
    await queryRunner.query(
      `CREATE TABLE "persisted_operation" (${id}, "documentId" ${text}(64) NOT NULL, "body" text NOT NULL, ` +
        `"clientName" ${text}(100) NOT NULL, "createdAt" ${timestamp} NOT NULL, "createdBy" ${text}(200) NOT NULL` +
        (postgres ? ', CONSTRAINT "PK_persisted_operation" PRIMARY KEY ("id"))' : ')'),
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "persisted_operation_document_id_key" ON "persisted_operation" ("documentId")',
    );
    await queryRunner.query(
      `ALTER TABLE "api_key" ADD COLUMN "registeredOperationsOnly" boolean NOT NULL DEFAULT ${postgres ? 'false' : '(0)'}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "api_key" DROP COLUMN "registeredOperationsOnly"');
    await queryRunner.query('DROP TABLE "persisted_operation"');
  }
}
