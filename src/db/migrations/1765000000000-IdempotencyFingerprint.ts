import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fingerprint of the request an idempotency key was first sent with, so that a retry with the
 * same key and another request is refused (IDEMPOTENCY_CONFLICT). Attempts recorded before keep null.
 */
export class IdempotencyFingerprint1765000000000 implements MigrationInterface {
  name = 'IdempotencyFingerprint1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(
      `ALTER TABLE "activation_attempt" ADD "requestFingerprint" ${postgres ? 'character varying(64)' : 'varchar(64)'}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "activation_attempt" DROP COLUMN "requestFingerprint"');
  }
}
