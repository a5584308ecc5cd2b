/**
 * Values a client sent, echoed back in error messages: graphql-js quotes a refused variable whole,
 * so a 1 MB string sent for an enum came back in the message (and again in the development stack
 * trace). Every argument of every root field is sent a 1 MB value its type refuses; every answer
 * names the variable and stays small.
 */
import {
  GraphQLInputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';
import { ECHO_LIMITS, boundEchoes } from '../src/common/errors';
import { buildAppSchema } from '../src/schema';
import { openTestDatabase, TestDatabase } from './support/database';
import { GraphQLClient } from './support/graphql';

const HUGE = 'x'.repeat(1_000_000);
/** What each argument of the walk is sent: enough to show an echo, small enough for a quick walk over ~100 arguments. */
const LARGE = 'x'.repeat(100_000);
/** A message may be its bound plus the note of how long it was. */
const MAX_MESSAGE = ECHO_LIMITS.messageCharacters + 40;

let database: TestDatabase;
let client: GraphQLClient;
beforeAll(async () => {
  database = await openTestDatabase();
  client = await GraphQLClient.create(database);
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

/** A value the type refuses, holding a megabyte where the refusal would quote it; undefined when every value fits. */
function refusedValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return refusedValue(type.ofType);
  if (isListType(type)) return [refusedValue(type.ofType)];
  if (isInputObjectType(type)) return { [LARGE]: LARGE };
  if (isEnumType(type)) return LARGE;
  if (isScalarType(type)) {
    // Strings and IDs take any string: an object is refused, and quoted with its contents.
    if (type.name === 'String' || type.name === 'ID') return { value: LARGE };
    if (type.name === 'JSON' || type.name === 'JSONObject') return undefined;
    return LARGE;
  }
  return undefined;
}

describe('values echoed in errors', () => {
  it('cuts a long quoted value to its first characters and its length, and bounds the whole message', () => {
    expect(boundEchoes('Value "short" does not exist')).toBe('Value "short" does not exist');
    const cut = boundEchoes(`Variable "$status" got invalid value "${HUGE}"; Value "${HUGE}" does not exist.`);
    expect(cut).toBe(
      `Variable "$status" got invalid value "${'x'.repeat(64)}…" (1000000 characters); Value "${'x'.repeat(64)}…" (1000000 characters) does not exist.`,
    );
    expect(boundEchoes(`{ ${HUGE}: 1 }`)).toHaveLength(
      ECHO_LIMITS.messageCharacters + ' (1000006 characters)'.length + 1,
    );
    // Escaped quotes inside a value do not end it early.
    expect(boundEchoes(`got "${'\\"'.repeat(100)}"`)).toMatch(/^got "(\\")+…" \(200 characters\)$/);
  });

  it('keeps every variable-coercion error of every root field argument small (100 KB sent to each), naming the variable', async () => {
    const schema = await buildAppSchema();
    let refusals = 0;
    for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
      for (const field of Object.values(root.getFields())) {
        const args = field.args.map((arg, index) => ({ arg, name: `v${index}`, value: refusedValue(arg.type) }));
        const refused = args.filter((entry) => entry.value !== undefined);
        if (refused.length === 0) continue;
        const definitions = args.map(({ arg, name }) => `$${name}: ${String(arg.type)}`).join(', ');
        const argumentList = args.map(({ arg, name }) => `${arg.name}: $${name}`).join(', ');
        const selection = isLeafType(getNamedType(field.type)) ? '' : '{ __typename }';
        const operation = root === schema.getMutationType() ? 'mutation' : 'query';
        const document = `${operation} (${definitions}) { ${field.name}(${argumentList}) ${selection} }`;
        const variables = Object.fromEntries(refused.map(({ name, value }) => [name, value]));
        const result = await client.execute(document, variables);
        const context = `${root.name}.${field.name}`;
        expect([context, result.errors?.length ? 'errors' : 'none']).toEqual([context, 'errors']);
        for (const error of result.errors!) {
          expect([context, error.extensions?.code]).toEqual([context, 'BAD_USER_INPUT']);
          expect(error.message).toMatch(/^Variable "\$v\d+"/);
          expect([context, error.message.length <= MAX_MESSAGE]).toEqual([context, true]);
          for (const line of (error.extensions?.stacktrace as string[] | undefined) ?? [])
            expect(line.length).toBeLessThanOrEqual(MAX_MESSAGE + 20);
        }
        // Before, each refusal quoted its 100,000 characters twice.
        expect([context, JSON.stringify(result).length < LARGE.length]).toEqual([context, true]);
        // Every refused variable is reported.
        const named = new Set(result.errors!.map((error) => /^Variable "\$(v\d+)"/.exec(error.message)?.[1]));
        expect([context, [...named].sort()]).toEqual([context, refused.map(({ name }) => name).sort()]);
        refusals += refused.length;
      }
    }
    expect(refusals).toBeGreaterThan(50);
  });

  it('keeps a literal refused by validation small too', async () => {
    const result = await client.execute(`{ devices(filter: { statuses: [${HUGE}] }) { totalCount } }`);
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(JSON.stringify(result).length).toBeLessThan(4 * MAX_MESSAGE);
  });
});
