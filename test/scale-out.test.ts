/** Two server processes on one PostgreSQL, as behind a load balancer. */
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { readDatabaseSettings } from '../src/config';
import { usingPostgres } from './support/database';
import {
  graphql,
  ServerProcess,
  startServer,
  createPartnerOver,
  processImei,
  registerDevicesOver,
} from './support/server-process';

jest.setTimeout(120_000);
const imei = processImei;
const DECIDE = `mutation ($input: DecideActivationInput!) { decideActivation(input: $input) { decision { outcome } attempt { id } userErrors { code } } }`;
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 10 } };

(usingPostgres ? describe : describe.skip)('two instances on one PostgreSQL', () => {
  let drop: () => Promise<void>;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    const database = await createTemporaryDatabase(readDatabaseSettings().url!, 'cg_scale');
    drop = database.drop;
    // Started together: one migrates and loads the reference data while the other waits its turn.
    [a, b] = await Promise.all([
      startServer({ DATABASE_URL: database.url }),
      startServer({ DATABASE_URL: database.url }),
    ]);
    await registerDevicesOver(a.url, await createPartnerOver(a.url, 'Scale'), 10);
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
    const answers = await Promise.all([a, b, a, b, a, b].map((server) => graphql(server.url, DECIDE, { input })));
    const ids = new Set(answers.map((answer) => answer.body.data.decideActivation.attempt.id));
    expect(ids.size).toBe(1);
  });

  it('agree on counts whichever answers', async () => {
    const query = `{ activationAttempts { totalCount } devices(filter: { statuses: [ACTIVE] }) { totalCount } }`;
    expect((await graphql(a.url, query)).body).toEqual((await graphql(b.url, query)).body);
  });

  it('apply a policy change made through one instance on the other within a second', async () => {
    const before = await graphql(b.url, DECIDE, { input: { imei: imei(2), signals: HAVANA } });
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
      const answer = await graphql(b.url, DECIDE, { input: { imei: imei(3), signals: HAVANA } });
      outcome = answer.body.data.decideActivation.decision.outcome;
    }
    expect(outcome).toBe('ALLOW');
    expect(Date.now() - changed).toBeLessThan(1_000);
  });
});
