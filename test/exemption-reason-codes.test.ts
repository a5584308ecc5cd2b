import { rowIdOf } from '../src/common/global-id';
import { PublicExemptionReasonCodes1765630000000 } from '../src/db/migrations/1765630000000-PublicExemptionReasonCodes';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { GraphQLClient } from './support/graphql';
import { imeiOf } from './support/imei';
import { decideActivation } from './support/decisions';

/**
 * Decisions made before reason codes named public identifiers carry `EXEMPTION:<row number>`. The
 * migration must turn such a row into exactly what a decision writes today.
 */
let database: TestDatabase;
let client: GraphQLClient;
const imei = (serial: number) => imeiOf(serial);
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 8 } };
const DECIDED = 'decision { outcome reasonCodes } attempt { id } userErrors { message }';

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

const parameter = (index: number) => (usingPostgres ? `$${index}` : '?');
const query = (sql: string, parameters: unknown[] = []) => database.dataSource.query(sql, parameters);

interface StoredCodes {
  attempt: string;
  statusChange: string | null;
}

/** What the decision of `attemptId` stored, as text, in each place that keeps its reason codes. */
async function storedCodes(attemptId: number): Promise<StoredCodes> {
  const [attempt] = await query(`SELECT "reasonCodes" FROM "activation_attempt" WHERE "id" = ${parameter(1)}`, [
    attemptId,
  ]);
  const [change] = await query(`SELECT "reason" FROM "device_status_change" WHERE "attemptId" = ${parameter(1)}`, [
    attemptId,
  ]);
  return { attempt: attempt.reasonCodes, statusChange: change?.reason ?? null };
}

/** The same rows as the code before the fix wrote them: `EXEMPTION:<row number>`, no `EXEMPT_FROM`. */
const withRowNumbers = (text: string) =>
  text
    .replace(/"EXEMPT_FROM:[^"]*",/g, '')
    .replace(/EXEMPT_FROM:[^,"]*,/g, '')
    .replace(/EXEMPTION:([A-Za-z0-9_-]+)/g, (_, id: string) => `EXEMPTION:${rowIdOf(id, 'Exemption')}`);

async function store(attemptId: number, codes: StoredCodes) {
  await query(`UPDATE "activation_attempt" SET "reasonCodes" = ${parameter(1)} WHERE "id" = ${parameter(2)}`, [
    codes.attempt,
    attemptId,
  ]);
  if (codes.statusChange !== null)
    await query(`UPDATE "device_status_change" SET "reason" = ${parameter(1)} WHERE "attemptId" = ${parameter(2)}`, [
      codes.statusChange,
      attemptId,
    ]);
}

async function migrate() {
  const runner = database.dataSource.createQueryRunner();
  try {
    await new PublicExemptionReasonCodes1765630000000().up(runner);
  } finally {
    await runner.release();
  }
}

it('rewrites the row numbers of exemptions in old decisions to what a decision says today, in every place it stored them', async () => {
  const partner = await client.data(
    `mutation { createPartner(input: { name: "Migrated Partner", kind: CARRIER }) { partner { id } } }`,
  );
  const registered = await client.data(
    `mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id imei } userErrors { message } } }`,
    {
      input: {
        partnerId: partner.createPartner.partner.id,
        devices: [1, 2, 3].map((serial) => ({
          imei: imei(serial),
          serialNumber: `MIG${serial}`,
          modelCode: 'AR-5',
          marketRegionCode: 'DE',
        })),
      },
    },
  );
  const [first, second] = registered.registerDevices.devices;
  const exemptionIds: string[] = [];
  for (const device of [first, second]) {
    const created = await client.data(
      `mutation ($input: CreateExemptionInput!) { createExemption(input: $input) { exemption { id } userErrors { message } } }`,
      { input: { policyKey: 'export-restricted-territories', deviceId: device.id, reason: 'Embassy device' } },
    );
    expect(created.createExemption.userErrors).toEqual([]);
    exemptionIds.push(created.createExemption.exemption.id);
  }

  // Two decisions with an exemption each, and one with none, as decided today.
  const decided = [];
  for (const [serial, signals] of [
    [1, HAVANA],
    [2, HAVANA],
    [3, BERLIN],
  ] as const) {
    const result = await decideActivation(client, { imei: imei(serial), signals }, DECIDED);
    expect(result.userErrors).toEqual([]);
    decided.push({
      id: result.attempt.id,
      attemptId: rowIdOf(result.attempt.id, 'ActivationAttempt')!,
      codes: result.decision.reasonCodes,
    });
  }
  expect(decided[0].codes).toEqual([
    'EXEMPT',
    'EXEMPT_FROM:export-restricted-territories',
    `EXEMPTION:${exemptionIds[0]}`,
    'REGION:CU',
    'SOURCE:GPS',
  ]);
  const today = await Promise.all(decided.map(({ attemptId }) => storedCodes(attemptId)));
  // Each exempted decision activated its device: the status history holds the codes too.
  for (const [index, exemptionId] of exemptionIds.entries()) {
    expect(today[index].statusChange).toContain(`EXEMPT_FROM:export-restricted-territories,EXEMPTION:${exemptionId}`);
  }

  // The same rows as written before the fix.
  const old = today.map((codes) => ({
    attempt: withRowNumbers(codes.attempt),
    statusChange: codes.statusChange === null ? null : withRowNumbers(codes.statusChange),
  }));
  expect(JSON.parse(old[0].attempt)).toEqual([
    'EXEMPT',
    `EXEMPTION:${rowIdOf(exemptionIds[0], 'Exemption')}`,
    'REGION:CU',
    'SOURCE:GPS',
  ]);
  expect(old[2]).toEqual(today[2]);
  for (const [index, { attemptId }] of decided.entries()) await store(attemptId, old[index]);
  expect(await storedCodes(decided[0].attemptId)).toEqual(old[0]);

  await migrate();
  for (const [index, { attemptId }] of decided.entries()) expect(await storedCodes(attemptId)).toEqual(today[index]);
  // The API reads the rewritten codes; running the migration again changes nothing.
  const read = await client.data(`query ($id: ID!) { node(id: $id) { ... on ActivationAttempt { reasonCodes } } }`, {
    id: decided[0].id,
  });
  expect(read.node.reasonCodes).toEqual(decided[0].codes);
  await migrate();
  for (const [index, { attemptId }] of decided.entries()) expect(await storedCodes(attemptId)).toEqual(today[index]);
});
