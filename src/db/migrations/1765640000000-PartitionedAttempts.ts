import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Issue 21. PostgreSQL: activation_attempt becomes a table partitioned by UTC month of occurredAt
 * (see src/activations/attempt-partitions.ts), and its rows move over. SQLite keeps one table.
 *
 * Both: the idempotency keys move to a table of their own, activation_idempotency_key, kept by a
 * trigger in the statement that inserts the attempt. A unique index on a partitioned table must
 * contain the partition key, so ("idempotencyKey") could no longer be unique across months: two
 * retries of one request whose occurredAt lies on either side of a month boundary would both be
 * recorded. The key table's primary key makes the second insert fail with a unique violation, as
 * the index did, and the decision answers the retry with the original. Its trigger is named to
 * fire before the counting triggers (PostgreSQL fires a statement's triggers by name), so a
 * repeated key fails before any counting work.
 *
 * The rows move with INSERT … SELECT before the counting triggers are recreated (the rollups
 * already count them); on a large table this rewrites it once, so the statements here run without
 * the request timeout.
 */

const COLUMNS = [
  'id',
  'deviceId',
  'occurredAt',
  'receivedAt',
  'signals',
  'resolvedRegionId',
  'regionSource',
  'outcome',
  'enforced',
  'policyVersionId',
  'reasonCodes',
  'idempotencyKey',
  'explanation',
  'reviewStatus',
  'reviewedAt',
  'reviewedBy',
  'reviewNote',
  'signalsPurgedAt',
  'requestFingerprint',
  'usableFixAt',
  'fixSpeedKmh',
]
  .map((column) => `"${column}"`)
  .join(', ');

const POSTGRES_COLUMNS = `"id" integer NOT NULL DEFAULT nextval('"activation_attempt_id_seq"'::regclass), "deviceId" integer NOT NULL, "occurredAt" TIMESTAMP WITH TIME ZONE NOT NULL, "receivedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "signals" text NOT NULL, "resolvedRegionId" integer, "regionSource" character varying(10) NOT NULL, "outcome" character varying(10) NOT NULL, "enforced" boolean NOT NULL, "policyVersionId" integer, "reasonCodes" text NOT NULL, "idempotencyKey" character varying(200), "explanation" text, "reviewStatus" character varying(10), "reviewedAt" TIMESTAMP WITH TIME ZONE, "reviewedBy" character varying(200), "reviewNote" text, "signalsPurgedAt" TIMESTAMP WITH TIME ZONE, "requestFingerprint" character varying(64), "usableFixAt" TIMESTAMP WITH TIME ZONE, "fixSpeedKmh" double precision`;

const PRIMARY_KEY = 'PK_7218a24f806b39e69b2ebc71e14';

const INDEXES = [
  'CREATE INDEX "activation_attempt_device_idx" ON "activation_attempt" ("deviceId", "occurredAt", "id")',
  'CREATE INDEX "activation_attempt_occurred_at_idx" ON "activation_attempt" ("occurredAt", "id")',
  'CREATE INDEX "activation_attempt_outcome_idx" ON "activation_attempt" ("outcome", "occurredAt")',
  'CREATE INDEX "activation_attempt_region_idx" ON "activation_attempt" ("resolvedRegionId", "occurredAt")',
  'CREATE INDEX "activation_attempt_report_idx" ON "activation_attempt" ("occurredAt", "resolvedRegionId", "outcome", "enforced", "deviceId", "policyVersionId")',
  'CREATE INDEX "activation_attempt_review_idx" ON "activation_attempt" ("reviewStatus", "occurredAt")',
];
const FOREIGN_KEYS = [
  'ALTER TABLE "activation_attempt" ADD CONSTRAINT "activation_attempt_device_id_fkey" FOREIGN KEY ("deviceId") REFERENCES "device"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
  'ALTER TABLE "activation_attempt" ADD CONSTRAINT "activation_attempt_resolved_region_id_fkey" FOREIGN KEY ("resolvedRegionId") REFERENCES "region"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
  'ALTER TABLE "activation_attempt" ADD CONSTRAINT "activation_attempt_policy_version_id_fkey" FOREIGN KEY ("policyVersionId") REFERENCES "policy_version"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
];
const COUNTING_TRIGGERS = [
  'CREATE TRIGGER activation_rollup_insert AFTER INSERT ON "activation_attempt" REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION activation_rollup_add()',
  'CREATE TRIGGER activation_daily_counts_insert AFTER INSERT ON "activation_attempt" REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION activation_daily_counts_add()',
];
const DAY = 86_400_000;

/** The months a fresh or migrated database starts with: those of its rows, the previous, this and the next three. */
function monthsAround(now: Date): Date[] {
  return Array.from({ length: 5 }, (_, index) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + index - 1, 1)));
}

function partitionName(month: Date): string {
  return `activation_attempt_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

export class PartitionedAttempts1765640000000 implements MigrationInterface {
  name = 'PartitionedAttempts1765640000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    if (!postgres) return this.upSqlite(queryRunner);
    const run = (sql: string, parameters?: unknown[]) => longQuery(queryRunner, sql, parameters);
    await run('SET LOCAL statement_timeout = 0');
    await run(
      'CREATE TABLE "activation_idempotency_key" ("idempotencyKey" character varying(200) NOT NULL, "attemptId" integer NOT NULL, "occurredAt" TIMESTAMP WITH TIME ZONE NOT NULL, "recordedAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_activation_idempotency_key" PRIMARY KEY ("idempotencyKey"))',
    );
    await run(
      'INSERT INTO "activation_idempotency_key" ("idempotencyKey", "attemptId", "occurredAt", "recordedAt") ' +
        'SELECT "idempotencyKey", "id", "occurredAt", "receivedAt" FROM "activation_attempt" WHERE "idempotencyKey" IS NOT NULL',
    );
    await run('CREATE INDEX "activation_idempotency_key_recorded_idx" ON "activation_idempotency_key" ("recordedAt")');

    // The old table steps aside: its names (indexes are named per schema) are freed first.
    await run('DROP TRIGGER activation_rollup_insert ON "activation_attempt"');
    await run('DROP TRIGGER activation_daily_counts_insert ON "activation_attempt"');
    await run('ALTER TABLE "activation_attempt" RENAME TO "activation_attempt_unpartitioned"');
    for (const constraint of [
      'activation_attempt_device_id_fkey',
      'activation_attempt_resolved_region_id_fkey',
      'activation_attempt_policy_version_id_fkey',
      PRIMARY_KEY,
    ]) {
      await run(`ALTER TABLE "activation_attempt_unpartitioned" DROP CONSTRAINT "${constraint}"`);
    }
    for (const index of [
      'activation_attempt_device_idx',
      'activation_attempt_idempotency_key',
      'activation_attempt_occurred_at_idx',
      'activation_attempt_outcome_idx',
      'activation_attempt_region_idx',
      'activation_attempt_report_idx',
      'activation_attempt_review_idx',
    ]) {
      await run(`DROP INDEX "${index}"`);
    }

    // The partition key is part of every unique constraint of a partitioned table.
    await run(
      `CREATE TABLE "activation_attempt" (${POSTGRES_COLUMNS}, CONSTRAINT "${PRIMARY_KEY}" PRIMARY KEY ("id", "occurredAt")) PARTITION BY RANGE ("occurredAt")`,
    );
    await run('ALTER SEQUENCE "activation_attempt_id_seq" OWNED BY "activation_attempt"."id"');
    await run('CREATE TABLE "activation_attempt_default" PARTITION OF "activation_attempt" DEFAULT');
    const stored: { month: Date }[] = await run(
      `SELECT DISTINCT date_trunc('month', "occurredAt", 'UTC') AS month FROM "activation_attempt_unpartitioned"`,
    );
    const months = new Map<number, Date>();
    for (const month of [...stored.map((row) => new Date(row.month)), ...monthsAround(new Date())])
      months.set(month.getTime(), month);
    for (const month of months.values()) {
      const until = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
      await run(
        `CREATE TABLE "${partitionName(month)}" PARTITION OF "activation_attempt" FOR VALUES FROM ('${month.toISOString()}') TO ('${until.toISOString()}')`,
      );
    }
    // Before the counting triggers exist: the rollups already count these rows.
    await run(
      `INSERT INTO "activation_attempt" (${COLUMNS}) SELECT ${COLUMNS} FROM "activation_attempt_unpartitioned"`,
    );
    await run('DROP TABLE "activation_attempt_unpartitioned"');
    for (const statement of [...INDEXES, ...FOREIGN_KEYS, ...COUNTING_TRIGGERS]) await run(statement);
    await run(`
      CREATE FUNCTION activation_idempotency_key_add() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO "activation_idempotency_key" ("idempotencyKey", "attemptId", "occurredAt", "recordedAt")
        SELECT a."idempotencyKey", a."id", a."occurredAt", a."receivedAt" FROM inserted a
        WHERE a."idempotencyKey" IS NOT NULL ORDER BY 1;
        RETURN NULL;
      END $$`);
    await run(
      'CREATE TRIGGER activation_attempt_key_insert AFTER INSERT ON "activation_attempt" REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION activation_idempotency_key_add()',
    );
    await run('ANALYZE "activation_attempt"');
  }

  private async upSqlite(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "activation_idempotency_key" ("idempotencyKey" varchar(200) PRIMARY KEY NOT NULL, "attemptId" integer NOT NULL, "occurredAt" datetime NOT NULL, "recordedAt" datetime NOT NULL)',
    );
    await queryRunner.query(
      'INSERT INTO "activation_idempotency_key" ("idempotencyKey", "attemptId", "occurredAt", "recordedAt") ' +
        'SELECT "idempotencyKey", "id", "occurredAt", "receivedAt" FROM "activation_attempt" WHERE "idempotencyKey" IS NOT NULL',
    );
    await queryRunner.query(
      'CREATE INDEX "activation_idempotency_key_recorded_idx" ON "activation_idempotency_key" ("recordedAt")',
    );
    await queryRunner.query('DROP INDEX "activation_attempt_idempotency_key"');
    await queryRunner.query(`
      CREATE TRIGGER "activation_attempt_key_insert" AFTER INSERT ON "activation_attempt"
      WHEN NEW."idempotencyKey" IS NOT NULL
      BEGIN
        INSERT INTO "activation_idempotency_key" ("idempotencyKey", "attemptId", "occurredAt", "recordedAt")
        VALUES (NEW."idempotencyKey", NEW."id", NEW."occurredAt", NEW."receivedAt");
      END`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    if (!postgres) {
      await queryRunner.query('DROP TRIGGER "activation_attempt_key_insert"');
      await queryRunner.query(
        'CREATE UNIQUE INDEX "activation_attempt_idempotency_key" ON "activation_attempt" ("idempotencyKey")',
      );
      await queryRunner.query('DROP TABLE "activation_idempotency_key"');
      return;
    }
    const run = (sql: string) => longQuery(queryRunner, sql);
    await run('SET LOCAL statement_timeout = 0');
    await run('ALTER TABLE "activation_attempt" RENAME TO "activation_attempt_partitioned"');
    for (const constraint of [
      'activation_attempt_device_id_fkey',
      'activation_attempt_resolved_region_id_fkey',
      'activation_attempt_policy_version_id_fkey',
      PRIMARY_KEY,
    ]) {
      await run(`ALTER TABLE "activation_attempt_partitioned" DROP CONSTRAINT "${constraint}"`);
    }
    for (const index of INDEXES) await run(`DROP INDEX "${/"(activation_attempt_\w+_idx)"/.exec(index)![1]}"`);
    await run(`CREATE TABLE "activation_attempt" (${POSTGRES_COLUMNS}, CONSTRAINT "${PRIMARY_KEY}" PRIMARY KEY ("id"))`);
    await run('ALTER SEQUENCE "activation_attempt_id_seq" OWNED BY "activation_attempt"."id"');
    await run(`INSERT INTO "activation_attempt" (${COLUMNS}) SELECT ${COLUMNS} FROM "activation_attempt_partitioned"`);
    await run('DROP TABLE "activation_attempt_partitioned"');
    await run('DROP FUNCTION activation_idempotency_key_add()');
    for (const statement of [...INDEXES, ...FOREIGN_KEYS, ...COUNTING_TRIGGERS]) await run(statement);
    await run(
      'CREATE UNIQUE INDEX "activation_attempt_idempotency_key" ON "activation_attempt" ("idempotencyKey")',
    );
    await run('DROP TABLE "activation_idempotency_key"');
  }
}

/**
 * A statement on the migration's connection without the pool's client-side query timeout (the
 * request timeout, seconds): moving a table of millions of rows takes minutes.
 */
async function longQuery(queryRunner: QueryRunner, sql: string, parameters: unknown[] = []) {
  const client = (queryRunner as unknown as { databaseConnection: { query: (config: object) => Promise<{ rows: never[] }> } })
    .databaseConnection;
  if (!client) return queryRunner.query(sql, parameters);
  const result = await client.query({ text: sql, values: parameters, query_timeout: DAY });
  return result.rows;
}
