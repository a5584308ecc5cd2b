import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Issue 21 (a sweep of 2,000,000 devices): the audit trail's indexes on `actorKeyId` and
 * `relatedTargetId` hold only the rows that name one. A sweep's and a person's rows name no API
 * key, and only change requests and registration conflicts name a related object, yet each of a
 * sweep's audit rows added an entry to both — two of the seven index entries per row, measured
 * ≈ 8 ms of the server's ≈ 75 ms per 1,000 devices a sweep writes (PostgreSQL, 10^6). The trail
 * is read by those columns only with a value (`actorKeyId = …`, `relatedTargetId = …`), which
 * both databases know implies IS NOT NULL, so the partial indexes answer every such filter.
 */

const INDEXES = [
  { name: 'audit_event_actor_key_idx', columns: '"actorKeyId", "occurredAt"', column: '"actorKeyId"' },
  { name: 'audit_event_related_target_idx', columns: '"relatedTargetId"', column: '"relatedTargetId"' },
] as const;

export class PartialAuditKeyIndexes1765850000000 implements MigrationInterface {
  name = 'PartialAuditKeyIndexes1765850000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const index of INDEXES) {
      await queryRunner.query(`DROP INDEX "${index.name}"`);
      await queryRunner.query(
        `CREATE INDEX "${index.name}" ON "audit_event" (${index.columns}) WHERE ${index.column} IS NOT NULL`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of INDEXES) {
      await queryRunner.query(`DROP INDEX "${index.name}"`);
      await queryRunner.query(`CREATE INDEX "${index.name}" ON "audit_event" (${index.columns})`);
    }
  }
}
