import { DecisionOutcome, RegionSource } from '../src/activations/activation-attempt.entity';
import { ingestAttempts } from '../src/activations/attempt-ingest';
import { AuditEvent } from '../src/audit/audit-event.entity';
import { Partner, PartnerKind } from '../src/partners/partner.entity';
import { openTestDatabase, rollBackMigrations, TestDatabase } from './support/database';
import { testImei } from './support/fixtures';
import { GraphQLClient } from './support/graphql';
import { In } from 'typeorm';

/** The migrations this file tests, and every one after them, are undone first: rows are made as they stood before. */
const FIRST_TESTED = 'DeviceActionNames1765610000000';

describe('lockCause and device action names, filled for existing rows', () => {
  let database: TestDatabase;
  let versionId: number;
  const deviceIds: Record<string, number> = {};

  beforeAll(async () => {
    // Migrated and loaded with reference data through today's entities, then rolled back: later migrations
    // (a renamed policy column, for one) carry the reference data back to the schema as it stood.
    database = await openTestDatabase();
    const { dataSource } = database;
    await rollBackMigrations(dataSource, FIRST_TESTED);

    const [version] = await dataSource.query(
      `SELECT v."id" FROM "policy_version" v JOIN "policy" p ON p."id" = v."policyId" WHERE p."key" = 'export-restricted-territories' AND v."number" = 1`,
    );
    versionId = Number(version.id);
    const partner = await dataSource.getRepository(Partner).save({
      name: 'Migration Partner',
      kind: PartnerKind.CARRIER,
      contactEmail: 'm@example.com',
    });
    const [model] = await dataSource.query(`SELECT "id" FROM "device_model" WHERE "code" = 'AR-5'`);
    const [region] = await dataSource.query(`SELECT "id" FROM "region" WHERE "code" = 'DE'`);
    const names = ['decision', 'review', 'sweep', 'active'];
    const p = (index: number) => (dataSource.options.type === 'postgres' ? `$${index}` : '?');
    for (const [index, name] of names.entries()) {
      await dataSource.query(
        `INSERT INTO "device" ("imei", "serialNumber", "modelId", "marketRegionId", "partnerId", "status") VALUES (${[1, 2, 3, 4, 5, 6].map(p).join(', ')})`,
        [testImei(index + 1), `MIG${index}`, model.id, region.id, partner.id, name === 'active' ? 'ACTIVE' : 'LOCKED'],
      );
      const [row] = await dataSource.query(`SELECT "id" FROM "device" WHERE "imei" = ${p(1)}`, [testImei(index + 1)]);
      deviceIds[name] = Number(row.id);
    }
    // The attempts the locks name: a decision's and a review's decided by the policy, the sweep's evidence an ALLOW.
    const attempt = (name: string, outcome: DecisionOutcome, policyVersionId: number | null, id: number) => ({
      id,
      deviceId: deviceIds[name],
      occurredAt: new Date('2026-10-01T10:00:00Z'),
      receivedAt: new Date('2026-10-01T10:00:01Z'),
      signals: {},
      signalsPurgedAt: null,
      resolvedRegionId: null,
      regionSource: RegionSource.GPS,
      outcome,
      enforced: true,
      policyVersionId,
      reasonCodes: [],
      reviewStatus: null,
      idempotencyKey: null,
    });
    await ingestAttempts(
      dataSource,
      [
        [
          attempt('decision', DecisionOutcome.LOCK, versionId, 901),
          attempt('review', DecisionOutcome.REVIEW, versionId, 902),
          attempt('sweep', DecisionOutcome.ALLOW, null, 903),
        ],
      ],
      { explicitIds: true },
    );
    const lock = async (name: string, reason: string, attemptId: number) =>
      dataSource.query(
        `UPDATE "device" SET "lockReason" = ${p(1)}, "lockedByAttemptId" = ${p(2)}, "lockedAt" = ${p(3)} WHERE "id" = ${p(4)}`,
        [
          reason,
          attemptId,
          dataSource.options.type === 'postgres' ? new Date() : '2026-10-01 10:00:01.000',
          deviceIds[name],
        ],
      );
    await lock('decision', 'REGION:CU,SOURCE:GPS,POLICY:export-restricted-territories,VERSION:1,POLICY_APPLIES', 901);
    await lock('review', 'REVIEW_RESOLVED: receipt from Havana', 902);
    await lock('sweep', 'SWEEP:7,POLICY:export-restricted-territories,VERSION:1,REGION:CU', 903);
    // Status changes audited under the names used before.
    for (const action of ['device.locked', 'device.active', 'device.under_review', 'device.unlock', 'policy.update']) {
      await dataSource.getRepository(AuditEvent).insert({
        occurredAt: new Date(),
        actor: 'migration test',
        actorRole: null,
        actorKeyId: null,
        action,
        targetType: 'Device',
        targetId: 'RGV2aWNlOjE=',
        relatedTargetId: null,
        before: null,
        after: null,
        requestId: null,
      });
    }

    await dataSource.runMigrations({ transaction: 'each' });
  }, 120_000);
  afterAll(() => database.close());

  it('records each lock with its cause and the policy version that caused it, read from the old reason text', async () => {
    const rows: { id: number; lockCause: string | null; lockPolicyVersionId: number | null }[] =
      await database.dataSource.query('SELECT "id", "lockCause", "lockPolicyVersionId" FROM "device" ORDER BY "id"');
    const byName = Object.fromEntries(
      Object.entries(deviceIds).map(([name, id]) => {
        const row = rows.find((candidate) => Number(candidate.id) === id)!;
        return [name, [row.lockCause, row.lockPolicyVersionId === null ? null : Number(row.lockPolicyVersionId)]];
      }),
    );
    expect(byName).toEqual({
      decision: ['DECISION', versionId],
      review: ['REVIEW', versionId],
      // Not the evidence attempt's (none): the version the sweep's reason names.
      sweep: ['SWEEP', versionId],
      active: [null, null],
    });
  });

  it('renames device status changes in the audit trail to the one set of names', async () => {
    const actions = (
      await database.dataSource
        .getRepository(AuditEvent)
        .find({ where: { actor: 'migration test' }, order: { id: 'ASC' } })
    ).map((event) => event.action);
    expect(actions).toEqual(['device.lock', 'device.activate', 'device.hold', 'device.unlock', 'policy.update']);
  });

  it('finds a row stored under a former name by the name it has now, and reads a former name a client sends as the current one', async () => {
    const client = await GraphQLClient.create(database);
    try {
      const found = async (actions: string[]) =>
        (
          await client.data(
            `query ($actions: [String!]) { auditEvents(first: 10, filter: { actor: "migration test", actions: $actions }) { nodes { action } } }`,
            { actions },
          )
        ).auditEvents.nodes.map((node: { action: string }) => node.action);
      expect(await found(['device.lock'])).toEqual(['device.lock']);
      expect(await found(['device.hold', 'device.activate'])).toEqual(['device.hold', 'device.activate']);
      expect(await found(['device.locked'])).toEqual(['device.lock']);
      expect(await found(['device.under_review'])).toEqual(['device.hold']);
      // No row keeps a former name: only today's names are stored.
      expect(
        await database.dataSource
          .getRepository(AuditEvent)
          .countBy({ action: In(['device.locked', 'device.active', 'device.under_review']) }),
      ).toBe(0);
      // A name that is a property of every object is no former name.
      expect(await found(['constructor'])).toEqual([]);
    } finally {
      await client.stop();
    }
  });
});
