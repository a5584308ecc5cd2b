import { createDataSource } from '../ormconfig';
import { Evaluator } from '../src/decisions/evaluator';
import { DataSource } from 'typeorm';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { GraphQLClient } from './support/graphql';
import { device } from './support/engine';

const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 10 } };

/** Two server instances on one PostgreSQL: a rule change made through one reaches the other by notification. */
(usingPostgres ? describe : describe.skip)('evaluators of several instances', () => {
  let database: TestDatabase;
  let otherInstance: DataSource;
  let other: Evaluator;
  let client: GraphQLClient;

  beforeAll(async () => {
    database = await openTestDatabase();
    otherInstance = createDataSource(database.settings.database);
    await otherInstance.initialize();
    other = new Evaluator(otherInstance);
    await other.listen();
    client = await GraphQLClient.create(database);
  });
  afterAll(async () => {
    await other.close();
    await otherInstance.destroy();
    await client.stop();
    await database.close();
  });

  it('rebuild within a second of a policy change committed elsewhere', async () => {
    expect((await other.current()).engine.decide(HAVANA, device, new Date()).outcome).toBe('LOCK');
    const policy = await client.data(`{ policy(key: "export-restricted-territories") { id } }`);
    const changed = Date.now();
    await client.data(
      `mutation ($id: ID!) { retirePolicy(input: { id: $id, reason: "lifted" }) { userErrors { message } } }`,
      {
        id: policy.policy.id,
      },
    );
    for (;;) {
      const outcome = (await other.current()).engine.decide(HAVANA, device, new Date()).outcome;
      if (outcome === 'ALLOW') break;
      if (Date.now() - changed > 1000) throw new Error('the other instance still locks a second after the change');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(Date.now() - changed).toBeLessThan(1000);
  });
});
