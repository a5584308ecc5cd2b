/**
 * Cursors, global IDs and filter lists are decoded against what they stand for before any SQL, on
 * every list and every argument the schema has: a value of the wrong type or beyond a column's
 * range is BAD_USER_INPUT naming the argument, never a driver error (INTERNAL_SERVER_ERROR).
 */
import {
  GraphQLArgument,
  GraphQLField,
  GraphQLInputType,
  GraphQLSchema,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { buildAppSchema } from '../src/schema';
import { openTestDatabase, TestDatabase } from './support/database';
import { seedDemo } from './support/fixtures';
import { GraphQLClient, GraphQLResult } from './support/graphql';

let database: TestDatabase;
let client: GraphQLClient;
let schema: GraphQLSchema;

beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 30, 200);
  client = await GraphQLClient.create(database);
  schema = await buildAppSchema();
});
afterAll(async () => {
  await client.stop();
  await database.close();
});

const cursor = (value: unknown, id: number) => Buffer.from(JSON.stringify([value, id])).toString('base64url');
const codes = (result: GraphQLResult) => (result.errors ?? []).map((error) => error.extensions?.code);
const selectionOf = (field: GraphQLField<unknown, unknown>) =>
  isCompositeType(getNamedType(field.type)) ? '{ __typename }' : '';

/** A value for a required argument the probe does not aim at, or undefined when it cannot make one. */
function filler(type: GraphQLInputType): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [];
  if (isEnumType(inner)) return inner.getValues()[0].value;
  if (isScalarType(inner)) return { String: 'x', Int: 1, Boolean: false, Float: 1 }[inner.name];
  return undefined;
}

/** `field(aimed: $probe, …required fillers)` as a query, or null when a required argument cannot be filled. */
function probeQuery(field: GraphQLField<unknown, unknown>, aimed: GraphQLArgument, prefix = '', suffix = '') {
  const others: string[] = [];
  for (const argument of field.args) {
    if (argument === aimed || !isNonNullType(argument.type) || argument.defaultValue !== undefined) continue;
    const value = filler(argument.type);
    if (value === undefined) return null;
    others.push(
      `${argument.name}: ${JSON.stringify(value).replace(/^"([A-Z_]+)"$/, isEnumType(getNamedType(argument.type)) ? '$1' : '"$1"')}`,
    );
  }
  return `query ($probe: ${aimed.type.toString()}) { ${prefix}${field.name}(${[`${aimed.name}: $probe`, ...others].join(', ')}) ${selectionOf(field)} ${suffix} }`;
}

/** Every connection of the schema: root ones, and those one level under a root list's nodes. */
function connections(): { label: string; query: string }[] {
  const found: { label: string; query: string }[] = [];
  const queryType = schema.getQueryType()!;
  for (const root of Object.values(queryType.getFields())) {
    const after = root.args.find((argument) => argument.name === 'after');
    if (after) {
      const query = probeQuery(root, after);
      if (query)
        found.push({ label: root.name, query: query.replace(/\{ __typename \}/, '{ pageInfo { hasNextPage } }') });
      const nodeType = getNamedType(root.type);
      const nodes = isObjectType(nodeType) ? nodeType.getFields().nodes : undefined;
      const item = nodes && getNamedType(nodes.type);
      if (!item || !isObjectType(item) || root.args.some((a) => isNonNullType(a.type) && a.name !== 'after')) continue;
      for (const child of Object.values(item.getFields())) {
        const childAfter = child.args.find((argument) => argument.name === 'after');
        const childQuery = childAfter && probeQuery(child, childAfter, '', '');
        if (!childQuery) continue;
        const inner = childQuery.replace(/^query \(\$probe: [^)]*\) \{ /, '').replace(/ \}$/, '');
        found.push({
          label: `${root.name}.nodes.${child.name}`,
          query: `query ($probe: String) { ${root.name}(first: 2) { nodes { ${inner.replace('{ __typename }', '{ pageInfo { hasNextPage } }')} } } }`,
        });
      }
    }
  }
  return found;
}

describe('cursors', () => {
  it('finds the lists to attack', () => {
    const labels = connections().map((connection) => connection.label);
    expect(labels.length).toBeGreaterThan(15);
    expect(labels).toEqual(expect.arrayContaining(['devices', 'activationAttempts', 'devices.nodes.attempts']));
  });

  it('refuses, on every list, a cursor whose sort value has the wrong type or whose id is beyond the column, naming the argument', async () => {
    const instant = { d: '2026-01-01T00:00:00.000Z' };
    const attacked: string[] = [];
    for (const { label, query } of connections()) {
      // Exactly one of the three kinds of value can fit a list's sort column; the others are refused.
      const byKind = await Promise.all(
        ['not-a-date', 12345, instant].map((value) => client.execute(query, { probe: cursor(value, 1) })),
      );
      // A nested list under an empty parent list is never reached: nothing to attack there.
      if (byKind.every((result) => !result.errors && !JSON.stringify(result.data).includes('pageInfo'))) continue;
      attacked.push(label);
      for (const result of byKind)
        expect([label, codes(result).filter((code) => code !== 'BAD_USER_INPUT')]).toEqual([label, []]);
      // (A list kept in memory that is empty under this parent cannot tell a sort type: ids only.)
      const refusedKinds = byKind.filter((result) => codes(result).includes('BAD_USER_INPUT')).length;
      if (!(label.includes('.') && refusedKinds === 0)) expect([label, refusedKinds]).toEqual([label, 2]);
      for (const result of byKind.filter((one) => one.errors)) {
        expect([label, result.errors![0].extensions]).toMatchObject([
          label,
          { code: 'BAD_USER_INPUT', field: 'after' },
        ]);
      }
      // Ids beyond a 32-bit integer column, whatever the value.
      for (const value of ['not-a-date', 12345, instant, 1e15]) {
        for (const id of [2_147_483_648, 1e15, 0, -1]) {
          const result = await client.execute(query, { probe: cursor(value, id) });
          expect([label, value, id, codes(result)]).toEqual([label, value, id, ['BAD_USER_INPUT']]);
        }
      }
    }
    expect(attacked.length).toBeGreaterThan(15);
  });
});

describe('global IDs', () => {
  const huge = (typeName: string) => Buffer.from(`${typeName}:999999999999999`).toString('base64url');
  const typeNames = [
    'Device',
    'Partner',
    'Policy',
    'PolicyVersion',
    'Region',
    'ActivationAttempt',
    'DeviceModel',
    'Sweep',
    'WebhookEndpoint',
    'ApiKey',
    'Exemption',
    'AuditEvent',
  ];

  it('answers every ID argument and ID filter of every query with a 15-digit number as unknown, never a fault', async () => {
    let probed = 0;
    for (const field of Object.values(schema.getQueryType()!.getFields())) {
      for (const argument of field.args) {
        const named = getNamedType(argument.type);
        const list = isListType(isNonNullType(argument.type) ? argument.type.ofType : argument.type);
        const probes: unknown[] = [];
        if (named.name === 'ID')
          probes.push(...typeNames.map((typeName) => (list ? [huge(typeName)] : huge(typeName))));
        if (isInputObjectType(named)) {
          for (const inputField of Object.values(named.getFields())) {
            if (getNamedType(inputField.type).name !== 'ID') continue;
            const listField = isListType(isNonNullType(inputField.type) ? inputField.type.ofType : inputField.type);
            probes.push(
              ...typeNames.map((typeName) => ({ [inputField.name]: listField ? [huge(typeName)] : huge(typeName) })),
            );
          }
        }
        const query = probes.length ? probeQuery(field, argument) : null;
        if (!query) continue;
        for (const probe of probes) {
          const result = await client.execute(query, { probe });
          probed += 1;
          expect([field.name, argument.name, probe, codes(result).filter((code) => code !== 'BAD_USER_INPUT')]).toEqual(
            [field.name, argument.name, probe, []],
          );
        }
      }
    }
    expect(probed).toBeGreaterThan(100);
  });
});

describe('filter lists', () => {
  it('bound each item like a single value, naming it and echoing nothing back', async () => {
    let probed = 0;
    const long = 'M'.repeat(100_000);
    for (const field of Object.values(schema.getQueryType()!.getFields())) {
      for (const argument of field.args) {
        const named = getNamedType(argument.type);
        if (!isInputObjectType(named) || !named.name.endsWith('Filter')) continue;
        for (const inputField of Object.values(named.getFields())) {
          const inner = isNonNullType(inputField.type) ? inputField.type.ofType : inputField.type;
          if (!isListType(inner) || !['String', 'ID'].includes(getNamedType(inner).name)) continue;
          const query = probeQuery(field, argument);
          if (!query) continue;
          // The filter's own required fields (a report's window) get plain values.
          const required = Object.fromEntries(
            Object.values(named.getFields())
              .filter((other) => isNonNullType(other.type) && other.defaultValue === undefined)
              .map((other) => [
                other.name,
                getNamedType(other.type).name === 'DateTime'
                  ? other.name === 'from'
                    ? '2026-01-01T00:00:00.000Z'
                    : '2026-01-02T00:00:00.000Z'
                  : filler(other.type),
              ]),
          );
          const result = await client.execute(query, { probe: { ...required, [inputField.name]: ['ok', long] } });
          probed += 1;
          expect([field.name, inputField.name, result.errors?.map((error) => error.extensions)]).toMatchObject([
            field.name,
            inputField.name,
            [{ code: 'BAD_USER_INPUT', field: `filter.${inputField.name}[1]` }],
          ]);
          expect(JSON.stringify(result.errors?.map((error) => error.message))).not.toContain('MMMMMMMMMM');
        }
      }
    }
    expect(probed).toBeGreaterThan(10);
  });
});
