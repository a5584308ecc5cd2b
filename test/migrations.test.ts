import { openTestDatabase, TestDatabase } from './support/database';

describe('migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase({ migrate: false });
  });
  afterAll(() => database.close());

  it('bring an empty database exactly to the entities, and back down to nothing', async () => {
    const { dataSource } = database;
    await dataSource.runMigrations({ transaction: 'each' });
    const drift = await dataSource.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((query) => query.query)).toEqual([]);

    for (let step = 0; step < dataSource.migrations.length; step += 1)
      await dataSource.undoLastMigration({ transaction: 'each' });
    const runner = dataSource.createQueryRunner();
    const remaining: string[] = [];
    for (const { tableName } of dataSource.entityMetadatas)
      if (await runner.hasTable(tableName)) remaining.push(tableName);
    await runner.release();
    expect(remaining).toEqual([]);

    await dataSource.runMigrations({ transaction: 'each' });
    expect((await dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });

  it('have no pending migration after running', async () => {
    expect(await database.dataSource.showMigrations()).toBe(false);
  });
});
