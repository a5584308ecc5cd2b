import { MigrationInterface, QueryRunner } from 'typeorm';

/** The old names of device status changes in the audit trail, and their names now (written out: a migration is frozen). */
const RENAMED: [string, string][] = [
  ['device.locked', 'device.lock'],
  ['device.active', 'device.activate'],
  ['device.under_review', 'device.hold'],
];

/**
 * Device status changes are audited under one set of names, `<entity>.<verb>` as every other action
 * (`device.lock`, `device.unlock`, `device.activate`, `device.hold`); decisions used to write
 * `device.locked` while unlocks wrote `device.unlock`. The stored rows are renamed so a filter by
 * action finds a change whichever path made it (the GraphQL filter still accepts the old names).
 */
export class DeviceActionNames1765610000000 implements MigrationInterface {
  name = 'DeviceActionNames1765610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [before, after] of RENAMED) {
      await queryRunner.query(`UPDATE "audit_event" SET "action" = '${after}' WHERE "action" = '${before}'`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [before, after] of RENAMED) {
      await queryRunner.query(`UPDATE "audit_event" SET "action" = '${before}' WHERE "action" = '${after}'`);
    }
  }
}
