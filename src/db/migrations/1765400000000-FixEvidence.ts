import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the travel rule needs of earlier attempts: when an attempt's fix was taken if it was usable
 * evidence (so the next decision finds the device's neighbouring fixes with the device, through
 * the device's (deviceId, occurredAt) index), and the speed the fix implied when it was decided
 * (so a what-if replays the rule as it was). Plain ADD COLUMN on both databases; old attempts keep
 * nulls and decide as before.
 */
export class FixEvidence1765400000000 implements MigrationInterface {
  name = 'FixEvidence1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const timestamp = postgres ? 'TIMESTAMP WITH TIME ZONE' : 'datetime';
    await queryRunner.query(`ALTER TABLE "activation_attempt" ADD "usableFixAt" ${timestamp}`);
    await queryRunner.query('ALTER TABLE "activation_attempt" ADD "fixSpeedKmh" double precision');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "activation_attempt" DROP COLUMN "fixSpeedKmh"');
    await queryRunner.query('ALTER TABLE "activation_attempt" DROP COLUMN "usableFixAt"');
  }
}
