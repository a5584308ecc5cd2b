import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { Device } from '../src/devices/device.entity';
import { openTestDatabase, TestDatabase } from './support/database';
import { seedDemo } from './support/fixtures';
import { GraphQLClient } from './support/graphql';

const PAGE_WITH_RELATIONS = `
  query Page($first: Int!) {
    devices(first: $first) {
      totalCount
      nodes {
        id
        imei
        model { code }
        partner { name }
        marketRegion { code }
        attempts(first: 5) {
          totalCount
          nodes {
            id
            occurredAt
            resolvedRegion { code parent { code } }
            policyVersion { number policy { key } }
          }
        }
      }
    }
  }
`;

describe('statements per request (no N+1)', () => {
  let database: TestDatabase;
  let client: GraphQLClient;
  beforeAll(async () => {
    database = await openTestDatabase();
    await seedDemo(database.dataSource, 150, 3000);
    client = await GraphQLClient.create(database);
  });
  afterAll(async () => {
    await client.stop();
    await database.close();
  });

  async function statementsFor(first: number) {
    const { result, statements } = await database.statements.measure(() => client.data(PAGE_WITH_RELATIONS, { first }));
    return { data: result, statements };
  }

  it('a page of 100 devices with model, partner, market region and last 5 attempts costs the same as a page of 10', async () => {
    const small = await statementsFor(10);
    const large = await statementsFor(100);
    expect(large.data.devices.nodes).toHaveLength(100);
    expect(large.statements.length).toBe(small.statements.length);
    // devices, their count, models, partners, market regions, ranked attempts, attempts by id,
    // attempt counts, resolved regions, their parents (when not cached already), policy versions, policies.
    expect(large.statements.length).toBeLessThanOrEqual(12);
  });

  it("the batched nested page equals each device's own newest five attempts", async () => {
    const { data } = await statementsFor(100);
    const repository = database.dataSource.getRepository(ActivationAttempt);
    for (const device of data.devices.nodes.slice(0, 25)) {
      const row = await database.dataSource.getRepository(Device).findOneByOrFail({ imei: device.imei });
      const expected = await repository.find({
        where: { deviceId: row.id },
        order: { occurredAt: 'DESC', id: 'DESC' },
        take: 5,
      });
      expect(device.attempts.nodes.map((attempt: { occurredAt: string }) => attempt.occurredAt)).toEqual(
        expected.map((attempt) => attempt.occurredAt.toISOString()),
      );
      expect(device.attempts.totalCount).toBe(await repository.countBy({ deviceId: row.id }));
    }
  });
});
