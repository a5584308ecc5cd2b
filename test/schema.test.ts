import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLNamedType, isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType } from 'graphql';
import { buildAppSchema, printAppSchema } from '../src/schema';

describe('schema', () => {
  it('is what schema/schema.graphql says (run `npm run schema` after changing the API)', async () => {
    const committed = readFileSync(join(__dirname, '..', 'schema', 'schema.graphql'), 'utf8');
    expect(await printAppSchema()).toBe(committed);
  });

  it('describes every type, field, argument and enum value', async () => {
    const schema = await buildAppSchema();
    const undescribed: string[] = [];
    const ownTypes = Object.values(schema.getTypeMap()).filter((type: GraphQLNamedType) => !type.name.startsWith('__'));
    for (const type of ownTypes) {
      if (isScalarType(type) && ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description && !['Query', 'Mutation', 'Subscription'].includes(type.name)) undescribed.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) undescribed.push(`${type.name}.${field.name}`);
          for (const argument of 'args' in field ? field.args : []) {
            if (!argument.description) undescribed.push(`${type.name}.${field.name}(${argument.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) {
          if (!value.description?.trim()) undescribed.push(`${type.name}.${value.name}`);
        }
      }
    }
    expect(undescribed).toEqual([]);
  });

  it('gives every object type but payloads, edges and connections a global ID', async () => {
    const schema = await buildAppSchema();
    const node = schema.getType('Node');
    const implementers = schema
      .getImplementations(node as never)
      .objects.map((type) => type.name)
      .sort();
    expect(implementers).toEqual(
      [
        'ActivationAttempt',
        'ApiKey',
        'AuditEvent',
        'Device',
        'DeviceModel',
        'DeviceStatusChange',
        'Exemption',
        'Partner',
        'PartnerEvent',
        'Policy',
        'PolicyChangeRequest',
        'PolicyVersion',
        'Region',
        'Sweep',
        'WebhookDelivery',
        'WebhookDeliveryAttempt',
        'WebhookEndpoint',
      ].sort(),
    );
  });
});
