import { DataSource } from 'typeorm';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';

/**
 * TypeORM reads neither a partitioned table's indexes (relkind 'I') nor a primary key that takes
 * in the partition key, which PostgreSQL requires (("id", "occurredAt") on the attempts, migration
 * 1765640000000): its plan would drop and recreate them. Nor does it know that the attempts'
 * three foreign keys are kept by statement triggers on PostgreSQL (migration 1765830000000): its
 * plan would add them back. Those statements are left out of the drift, and the indexes, key and
 * reference triggers are compared with the entity from the catalog instead.
 */
const PARTITIONED_ATTEMPT_STATEMENT =
  /^(DROP INDEX "public"\."activation_attempt_\w+_idx"|CREATE INDEX "activation_attempt_\w+_idx" ON "activation_attempt" |ALTER TABLE "activation_attempt" (DROP|ADD) CONSTRAINT "PK_7218a24f806b39e69b2ebc71e14"|ALTER TABLE "activation_attempt" ADD CONSTRAINT "(activation_attempt_device_id_fkey|activation_attempt_resolved_region_id_fkey|activation_attempt_policy_version_id_fkey)" FOREIGN KEY )/;

async function drift(dataSource: DataSource): Promise<string[]> {
  const queries = (await dataSource.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query);
  return usingPostgres ? queries.filter((query) => !PARTITIONED_ATTEMPT_STATEMENT.test(query)) : queries;
}

async function expectPartitionedAttempts(dataSource: DataSource): Promise<void> {
  const [{ kind, key }] = await dataSource.query(
    `SELECT c.relkind AS kind, pg_get_partkeydef(c.oid) AS key FROM pg_class c WHERE c.relname = 'activation_attempt'`,
  );
  expect({ kind, key }).toEqual({ kind: 'p', key: 'RANGE ("occurredAt")' });
  const indexes: { indexname: string; indexdef: string }[] = await dataSource.query(
    `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'activation_attempt'`,
  );
  const stored = new Map(indexes.map((index) => [index.indexname, index.indexdef.replace(/^.* USING btree /, '')]));
  for (const index of dataSource.getMetadata(ActivationAttempt).indices) {
    expect([index.name, stored.get(index.name)]).toEqual([
      index.name,
      `(${index.columns.map((column) => `"${column.databaseName}"`).join(', ')})`.replace(
        /"(id|outcome|enforced)"/g,
        '$1',
      ) +
        // A partial index's predicate as PostgreSQL prints it back (`"reviewStatus" = 'OPEN'` → `(("reviewStatus")::text = 'OPEN'::text)`).
        (index.where ? ` WHERE ${index.where.replace(/^("\w+") = ('\w+')$/, '(($1)::text = $2::text)')}` : ''),
    ]);
  }
  expect(stored.get('PK_7218a24f806b39e69b2ebc71e14')).toBe('(id, "occurredAt")');

  // The entity's foreign keys are kept by triggers: a statement's references checked at once, and
  // the referenced rows guarded (test/attempt-references.test.ts tests what they do).
  const foreignKeys = dataSource
    .getMetadata(ActivationAttempt)
    .foreignKeys.map((key) => `${key.columnNames.join()} → ${key.referencedTablePath}`)
    .sort();
  expect(foreignKeys).toEqual(['deviceId → device', 'policyVersionId → policy_version', 'resolvedRegionId → region']);
  const triggers: { table: string; name: string }[] = await dataSource.query(
    `SELECT c.relname AS "table", t.tgname AS "name" FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE t.tgname LIKE 'activation_attempt_check%' OR t.tgname LIKE 'activation_attempt_referenced%' ORDER BY 1, 2`,
  );
  expect(triggers.filter((trigger) => !trigger.table.startsWith('activation_attempt_'))).toEqual([
    { table: 'activation_attempt', name: 'activation_attempt_check_references' },
    { table: 'activation_attempt', name: 'activation_attempt_check_updated_references' },
    { table: 'device', name: 'activation_attempt_referenced_delete' },
    { table: 'device', name: 'activation_attempt_referenced_update' },
    { table: 'policy_version', name: 'activation_attempt_referenced_delete' },
    { table: 'policy_version', name: 'activation_attempt_referenced_update' },
    { table: 'region', name: 'activation_attempt_referenced_delete' },
    { table: 'region', name: 'activation_attempt_referenced_update' },
  ]);
  const [{ constraints }] = await dataSource.query(
    `SELECT COUNT(*)::int AS "constraints" FROM pg_constraint WHERE conrelid = 'activation_attempt'::regclass AND contype = 'f'`,
  );
  expect(constraints).toBe(0);
}

/** Each test migrates a database of its own, so none depends on another having run first. */
async function withEmptyDatabase(test: (dataSource: DataSource) => Promise<void>): Promise<void> {
  const database: TestDatabase = await openTestDatabase({ migrate: false });
  try {
    await test(database.dataSource);
  } finally {
    await database.close();
  }
}

describe('migrations', () => {
  it('bring an empty database exactly to the entities, and back down to nothing', () =>
    withEmptyDatabase(async (dataSource) => {
      await dataSource.runMigrations({ transaction: 'each' });
      expect(await drift(dataSource)).toEqual([]);
      if (usingPostgres) await expectPartitionedAttempts(dataSource);

      for (let step = 0; step < dataSource.migrations.length; step += 1)
        await dataSource.undoLastMigration({ transaction: 'each' });
      const runner = dataSource.createQueryRunner();
      const remaining: string[] = [];
      for (const { tableName } of dataSource.entityMetadatas)
        if (await runner.hasTable(tableName)) remaining.push(tableName);
      await runner.release();
      expect(remaining).toEqual([]);

      await dataSource.runMigrations({ transaction: 'each' });
      expect(await drift(dataSource)).toEqual([]);
    }));

  it('leave none pending once run on an empty database', () =>
    withEmptyDatabase(async (dataSource) => {
      expect(await dataSource.showMigrations()).toBe(true);
      const ran = await dataSource.runMigrations({ transaction: 'each' });
      expect(ran.map((migration) => migration.name)).toEqual(dataSource.migrations.map((migration) => migration.name));
      expect(await dataSource.showMigrations()).toBe(false);
    }));
});
