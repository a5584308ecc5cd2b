/** Two server processes on one PostgreSQL, as behind a load balancer. */
import { createDataSource } from '../ormconfig';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { Region } from '../src/regions/region.entity';
import { expectedFrom, keptTables } from './support/device-days';
import { readDatabaseSettings } from '../src/config';
import { usingPostgres } from './support/database';
import { decideActivationWith } from './support/decisions';
import {
  graphql,
  postTo,
  ServerProcess,
  startServer,
  createPartnerOver,
  processImei,
  registerDevicesOver,
} from './support/server-process';

jest.setTimeout(120_000);
const imei = processImei;
/** A decision on one instance, answered as a server process answers (status, errors, data). */
const decideOn = (server: ServerProcess, input: Record<string, unknown>) =>
  decideActivationWith(postTo(server.url), input, 'decision { outcome } attempt { id } userErrors { code }');
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 10 } };
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 10 } };

(usingPostgres ? describe : describe.skip)('two instances on one PostgreSQL', () => {
  let drop: () => Promise<void>;
  let databaseUrl: string;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    const database = await createTemporaryDatabase(readDatabaseSettings().url!, 'cg_scale');
    drop = database.drop;
    databaseUrl = database.url;
    // Started together: one migrates and loads the reference data while the other waits its turn.
    [a, b] = await Promise.all([
      startServer({ DATABASE_URL: database.url }),
      startServer({ DATABASE_URL: database.url }),
    ]);
    await registerDevicesOver(a.url, await createPartnerOver(a.url, 'Scale'), 20);
  });
  afterAll(async () => {
    a?.child.kill('SIGKILL');
    b?.child.kill('SIGKILL');
    await Promise.all([a?.exited, b?.exited]);
    await drop?.();
  });

  it('hold an idempotency key across instances: a retry on the other one gets the same attempt', async () => {
    const input = {
      imei: imei(1),
      idempotencyKey: 'across-1',
      signals: { gps: { latitude: 52.52, longitude: 13.405 } },
    };
    const answers = await Promise.all([a, b, a, b, a, b].map((server) => decideOn(server, input)));
    const ids = new Set(answers.map((answer) => answer.body.data.decideActivation.attempt.id));
    expect(ids.size).toBe(1);
  });

  it('agree on counts whichever answers', async () => {
    const query = `{ activationAttempts { totalCount } devices(filter: { statuses: [ACTIVE] }) { totalCount } }`;
    // The data, not the whole body: each instance reports its own rate-limit window in extensions.cost.
    expect((await graphql(a.url, query)).body.data).toEqual((await graphql(b.url, query)).body.data);
  });

  it('keep the report tables exact under decisions from both instances at once, late reports included', async () => {
    // 240 decisions for 10 devices, half on each instance at once, their instants spread over twelve
    // days in no order (some lock: those write the device in the same transaction).
    const now = Date.now();
    const inputs = Array.from({ length: 240 }, (_, index) => ({
      imei: imei(11 + (index % 10)),
      idempotencyKey: `spread-${index}`,
      occurredAt: new Date(now - ((index * 7) % 12) * 86_400_000 - index * 1_000).toISOString(),
      signals: index % 3 === 0 ? HAVANA : BERLIN,
    }));
    const answers = await Promise.all(inputs.map((input, index) => decideOn(index % 2 ? a : b, input)));
    expect(
      answers.filter(
        (answer) => answer.status !== 200 || answer.body.errors || answer.body.data.decideActivation.userErrors.length,
      ),
    ).toEqual([]);
    const dataSource = createDataSource({ ...readDatabaseSettings(), url: databaseUrl });
    await dataSource.initialize();
    try {
      const attempts = await dataSource.getRepository(ActivationAttempt).find();
      const regions = new Map((await dataSource.getRepository(Region).find()).map((region) => [region.id, region]));
      expect(await keptTables(dataSource)).toEqual(expectedFrom(attempts, regions));
      const [rollup] = await dataSource.query(`SELECT SUM("attempts") AS "attempts" FROM "activation_hourly_rollup"`);
      expect(Number(rollup.attempts)).toBe(attempts.length);
    } finally {
      await dataSource.destroy();
    }
  });

  it('apply a policy change made through one instance on the other within a second', async () => {
    const before = await decideOn(b, { imei: imei(2), signals: HAVANA });
    expect(before.body.data.decideActivation.decision.outcome).toBe('LOCK');
    const policy = await graphql(
      a.url,
      `
        {
          policy(key: "export-restricted-territories") {
            id
          }
        }
      `,
    );
    await graphql(
      a.url,
      `
        mutation ($id: ID!) {
          retirePolicy(input: { id: $id, reason: "lifted" }) {
            userErrors {
              message
            }
          }
        }
      `,
      {
        id: policy.body.data.policy.id,
      },
    );
    const changed = Date.now();
    let outcome = 'LOCK';
    while (outcome !== 'ALLOW' && Date.now() - changed < 5_000) {
      const answer = await decideOn(b, { imei: imei(3), signals: HAVANA });
      outcome = answer.body.data.decideActivation.decision.outcome;
    }
    expect(outcome).toBe('ALLOW');
    expect(Date.now() - changed).toBeLessThan(1_000);
  });
});
