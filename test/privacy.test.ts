/** Personal data: stored coordinate precision and the retention purge of raw signals. */
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { purgeExpiredSignals } from '../src/activations/signal-retention';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { imeiOf } from './support/imei';
import { decideActivation } from './support/decisions';

let database: TestDatabase;
let client: GraphQLClient;
const imei = (serial: number) => imeiOf(serial);
const DAY = 86_400_000;

const ATTEMPT = `query ($id: ID!) { node(id: $id) { ... on ActivationAttempt {
  signals { gps { latitude longitude accuracyMeters } sim { mcc mnc } ipCountry }
  signalsPurgedAt outcome regionSource reasonCodes resolvedRegion { code } policyVersion { number }
  explanation { signals { source regionCode finding detail } }
} } }`;

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
  const partner = await client.data(
    `mutation { createPartner(input: { name: "P", kind: CARRIER }) { partner { id } } }`,
  );
  await client.data(
    `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { userErrors { message } } }`,
    {
      input: {
        partnerId: partner.createPartner.partner.id,
        devices: [1, 2, 3].map((serial) => ({
          imei: imei(serial),
          serialNumber: `S${serial}`,
          modelCode: 'AR-5',
          marketRegionCode: 'DE',
        })),
      },
    },
  );
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

async function decide(serial: number, occurredAt: Date) {
  return decideActivation(client, {
    imei: imei(serial),
    occurredAt: occurredAt.toISOString(),
    signals: {
      gps: { latitude: 44.952123456, longitude: 34.102487654, accuracyMeters: 9 },
      sim: { mcc: '250', mnc: '32' },
      ipCountry: 'ru',
    },
  });
}

it('decides on the full fix but keeps only the configured precision', async () => {
  const decided = await decide(1, new Date());
  expect(decided.decision.outcome).toBe('LOCK');
  const { node } = await client.data(ATTEMPT, { id: decided.attempt.id });
  expect(node.signals.gps).toEqual({ latitude: 44.9521, longitude: 34.1025, accuracyMeters: 9 });
  expect(database.settings.privacy.storedCoordinateDecimals).toBe(4);
});

it('purges raw signals past the retention period and keeps the decision and its evidence', async () => {
  const now = new Date();
  const old = await decide(2, new Date(now.getTime() - 40 * DAY));
  const recent = await decide(3, new Date(now.getTime() - 10 * DAY));
  const before = await client.data(ATTEMPT, { id: old.attempt.id });

  expect(await purgeExpiredSignals(database.dataSource, 30, now)).toBe(1);
  const after = await client.data(ATTEMPT, { id: old.attempt.id });
  expect(after.node.signals).toEqual({ gps: null, sim: null, ipCountry: null });
  expect(new Date(after.node.signalsPurgedAt).getTime()).toBe(now.getTime());
  const kept = ({ signals: _signals, signalsPurgedAt: _purgedAt, ...rest }: Record<string, unknown>) => rest;
  expect(kept(after.node)).toEqual(kept(before.node));
  expect(after.node).toMatchObject({
    outcome: 'LOCK',
    resolvedRegion: { code: 'UA-43' },
    policyVersion: { number: 1 },
  });

  const untouched = await client.data(ATTEMPT, { id: recent.attempt.id });
  expect(untouched.node.signals.gps).not.toBeNull();
  expect(untouched.node.signalsPurgedAt).toBeNull();

  // Idempotent: nothing left to purge; and a zero retention purges nothing.
  expect(await purgeExpiredSignals(database.dataSource, 30, now)).toBe(0);
  expect(await purgeExpiredSignals(database.dataSource, 0, now)).toBe(0);
  const rows = await database.dataSource.getRepository(ActivationAttempt).find();
  expect(rows.filter((row) => row.signalsPurgedAt !== null)).toHaveLength(1);
});
