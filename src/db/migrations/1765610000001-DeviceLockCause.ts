import { MigrationInterface, QueryRunner } from 'typeorm';

/** Device ids per UPDATE … IN (…): far below both databases' parameter limits. */
const CHUNK = 500;

/**
 * Why a device is locked becomes columns: `lockCause` (DECISION, REVIEW, SWEEP) and
 * `lockPolicyVersionId`, the policy version that caused the lock. Reports and unlock sweeps read
 * them; before, they matched the wording of `lockReason` with LIKE, so rewording a reason broke
 * both. Existing locks are filled from that wording, the last time it is read: a lockReason starting
 * `REVIEW_RESOLVED` was a person's review, `SWEEP:<id>,POLICY:<key>,VERSION:<n>,…` a sweep (its
 * version is found by policy key and number), anything else a decision (the locking attempt's
 * version; a review's too).
 */
export class DeviceLockCause1765610000001 implements MigrationInterface {
  name = 'DeviceLockCause1765610000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(`ALTER TABLE "device" ADD "lockCause" ${postgres ? 'character varying(10)' : 'varchar(10)'}`);
    await queryRunner.query(`ALTER TABLE "device" ADD "lockPolicyVersionId" integer`);
    await queryRunner.query(
      `UPDATE "device" SET "lockCause" = CASE WHEN "lockReason" LIKE 'SWEEP:%' THEN 'SWEEP' ` +
        `WHEN "lockReason" LIKE 'REVIEW_RESOLVED%' THEN 'REVIEW' ELSE 'DECISION' END, ` +
        `"lockPolicyVersionId" = (SELECT a."policyVersionId" FROM "activation_attempt" a WHERE a."id" = "device"."lockedByAttemptId") ` +
        `WHERE "status" = 'LOCKED'`,
    );
    // A sweep's lock names its policy and version in words; the attempt it names is only evidence.
    const swept: { id: number; lockReason: string }[] = await queryRunner.query(
      `SELECT "id", "lockReason" FROM "device" WHERE "lockCause" = 'SWEEP'`,
    );
    const devicesByVersion = new Map<string, number[]>();
    for (const device of swept) {
      const match = /^SWEEP:\d+,POLICY:([^,]+),VERSION:(\d+)/.exec(device.lockReason);
      const key = match ? `${match[1]}\n${match[2]}` : '';
      devicesByVersion.set(key, [...(devicesByVersion.get(key) ?? []), Number(device.id)]);
    }
    const p = (index: number) => (postgres ? `$${index}` : '?');
    for (const [key, deviceIds] of devicesByVersion) {
      const [policyKey, number] = key.split('\n');
      const [version] = key
        ? await queryRunner.query(
            `SELECT v."id" FROM "policy_version" v JOIN "policy" p ON p."id" = v."policyId" WHERE p."key" = ${p(1)} AND v."number" = ${p(2)}`,
            [policyKey, Number(number)],
          )
        : [];
      for (let start = 0; start < deviceIds.length; start += CHUNK) {
        const ids = deviceIds.slice(start, start + CHUNK);
        await queryRunner.query(
          `UPDATE "device" SET "lockPolicyVersionId" = ${p(1)} WHERE "id" IN (${ids.map((_, index) => p(index + 2)).join(', ')})`,
          [version ? Number(version.id) : null, ...ids],
        );
      }
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "device" DROP COLUMN "lockPolicyVersionId"`);
    await queryRunner.query(`ALTER TABLE "device" DROP COLUMN "lockCause"`);
  }
}
