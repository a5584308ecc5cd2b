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

  it("pages one device's attempts with a keyset LIMIT, one statement a page, never numbering all its attempts", async () => {
    const busiest: { deviceId: number }[] = await database.dataSource
      .getRepository(ActivationAttempt)
      .createQueryBuilder('a')
      .select('a.deviceId', 'deviceId')
      .groupBy('a.deviceId')
      .orderBy('COUNT(*)', 'DESC')
      .limit(1)
      .getRawMany();
    const deviceId = Number(busiest[0].deviceId);
    const device = await database.dataSource.getRepository(Device).findOneByOrFail({ id: deviceId });
    const expected = await database.dataSource.getRepository(ActivationAttempt).find({
      where: { deviceId },
      order: { occurredAt: 'DESC', id: 'DESC' },
    });
    expect(expected.length).toBeGreaterThan(6);
    const PAGE = `query ($imei: String!, $after: String) {
      device(imei: $imei) { attempts(first: 3, after: $after) { nodes { occurredAt } pageInfo { hasNextPage endCursor } } }
    }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { result, statements } = await database.statements.measure(() =>
        client.data(PAGE, { imei: device.imei, after }),
      );
      const pageStatements = statements.filter((sql) => /activation_attempt/.test(sql));
      // The device itself is one statement, its page of attempts one more: no numbered pass over all of them.
      expect(pageStatements).toHaveLength(1);
      expect(pageStatements[0]).not.toMatch(/ROW_NUMBER/i);
      expect(pageStatements[0]).toMatch(/LIMIT/i);
      const attempts = result.device.attempts;
      seen.push(...attempts.nodes.map((node: { occurredAt: string }) => node.occurredAt));
      if (!attempts.pageInfo.hasNextPage) break;
      after = attempts.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected.map((attempt) => attempt.occurredAt.toISOString()));
  });
});
