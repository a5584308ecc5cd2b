/**
 * Every public user error code (the UserErrorCode enum of the schema) is produced by a real
 * mutation on a real database: a code clients are told to handle is one they can meet. The table
 * is keyed by the enum, so a new code does not compile without its case here.
 */
import { createHash } from 'node:crypto';
import { UserErrorCode } from '../src/common/errors';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';
import { registerTestDevices, testImei } from './support/fixtures';

let database: TestDatabase;
let client: GraphQLClient;

interface ReportedError {
  field: string[];
  code: string;
  message: string;
}

/** Runs a mutation and answers its payload's user errors. */
async function userErrorsOf(mutation: string, inputType: string, input: object): Promise<ReportedError[]> {
  const data = await client.data(
    `mutation ($input: ${inputType}!) { ${mutation}(input: $input) { userErrors { field code message } } }`,
    { input },
  );
  return data[mutation].userErrors;
}

const decide = (input: object) => userErrorsOf('decideActivation', 'DecideActivationInput', input);
const createPolicy = (input: object) =>
  userErrorsOf('createPolicy', 'CreatePolicyInput', {
    key: 'error-codes',
    title: 'Error codes',
    description: '',
    legalBasis: 'test',
    action: 'LOCK',
    mode: 'ENFORCE',
    regionCodes: ['CU'],
    effectiveFrom: '2025-01-01T00:00:00Z',
    lockMessage: 'Locked',
    ...input,
  });
const register = (operations: { id: string; body: string }[]) =>
  userErrorsOf('registerPersistedOperations', 'RegisterPersistedOperationsInput', {
    clientName: 'error-codes',
    operations,
  });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const HAVANA = { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 } };
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 8 } };

/** For each code, a request that gets it: the field named, the message saying why. */
const producers: Record<UserErrorCode, () => Promise<ReportedError[]>> = {
  INVALID: () => decide({ imei: '35291811', signals: BERLIN }),
  REQUIRED: () =>
    userErrorsOf('resolveReview', 'ResolveReviewInput', { attemptId: 'QWN0aXZhdGlvbkF0dGVtcHQ6MQ==', note: 'why' }),
  TOO_LONG: () => userErrorsOf('createPartner', 'CreatePartnerInput', { name: 'x'.repeat(201), kind: 'CARRIER' }),
  NOT_FOUND: () => userErrorsOf('pauseSweep', 'SweepControlInput', { id: 'no-such-sweep' }),
  TAKEN: () => createPolicy({ key: 'export-restricted-territories' }),
  DUPLICATE: () => createPolicy({ regionCodes: ['CU', 'CU'] }),
  INVALID_CHECKSUM: () => {
    const valid = testImei(1);
    return decide({ imei: `${valid.slice(0, 14)}${(Number(valid[14]) + 1) % 10}`, signals: BERLIN });
  },
  INVALID_STATE: async () => {
    const { policy } = await client.data('{ policy(key: "export-restricted-territories") { id status } }');
    expect(policy.status).toBe('ACTIVE');
    return userErrorsOf('activatePolicy', 'ActivatePolicyInput', { id: policy.id });
  },
  TOO_MANY: () => createPolicy({ regionCodes: Array.from({ length: 501 }, () => 'CU') }),
  FORBIDDEN: async () => {
    expect(await createPolicy({ key: 'error-codes-forbidden' })).toEqual([]);
    const { policy } = await client.data('{ policy(key: "error-codes-forbidden") { id } }');
    const opened = await client.data(
      'mutation ($id: ID!) { activatePolicy(input: { id: $id }) { changeRequest { id } userErrors { message } } }',
      { id: policy.id },
    );
    // Its author may withdraw it, not reject it: rejecting is the second person's.
    return userErrorsOf('rejectPolicyChange', 'ClosePolicyChangeInput', {
      id: opened.activatePolicy.changeRequest.id,
      comment: 'no',
    });
  },
  IDEMPOTENCY_CONFLICT: async () => {
    const imei = testImei(2);
    expect(await decide({ imei, idempotencyKey: 'error-codes-1', signals: BERLIN })).toEqual([]);
    return decide({ imei, idempotencyKey: 'error-codes-1', signals: HAVANA });
  },
  HASH_MISMATCH: () => register([{ id: sha256('query A { viewer { role } }'), body: 'query B { viewer { role } }' }]),
  INVALID_OPERATION: () => {
    const body = 'query C { viewer { secretSauce } }';
    return register([{ id: sha256(body), body }]);
  },
};

beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
  await registerTestDevices(client, [testImei(2)]);
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

it('lists every code the schema publishes, and no other', async () => {
  const { __type } = await client.data(
    '{ __type(name: "UserErrorCode") { enumValues(includeDeprecated: true) { name } } }',
  );
  expect(__type.enumValues.map((value: { name: string }) => value.name).sort()).toEqual(Object.keys(producers).sort());
});

it.each(Object.values(UserErrorCode))('produces %s', async (code) => {
  const errors = await producers[code]();
  const produced = errors.find((error) => error.code === code);
  expect(produced).toBeDefined();
  expect(produced!.field[0]).toBe('input');
  expect(produced!.message).not.toBe('');
});

it('says TOO_LONG only when a text is over its bound, INVALID when it is under', async () => {
  expect(await userErrorsOf('createPartner', 'CreatePartnerInput', { name: '', kind: 'CARRIER' })).toEqual([
    { field: ['input', 'name'], code: 'INVALID', message: 'name must be 1 to 200 characters' },
  ]);
  expect(await userErrorsOf('createPartner', 'CreatePartnerInput', { name: 'x'.repeat(201), kind: 'CARRIER' })).toEqual(
    [{ field: ['input', 'name'], code: 'TOO_LONG', message: 'name must be 1 to 200 characters' }],
  );
  expect(await decide({ imei: testImei(3), idempotencyKey: 'k'.repeat(201), signals: BERLIN })).toEqual([
    { field: ['input', 'idempotencyKey'], code: 'TOO_LONG', message: 'idempotencyKey must be 1 to 200 characters' },
  ]);
});
