import { ClassType, Field, ObjectType } from 'type-graphql';
import { UserError } from './errors';

/**
 * The payload of a mutation that changes one object: the object (under `fieldName`, e.g.
 * `partner`) and the user errors. Resolvers return runMutation's `{ result, userErrors }` as is.
 */
export function MutationPayload<T extends object>(nodeType: ClassType<T>, fieldName: string, mutationName: string) {
  const typeName = `${mutationName[0].toUpperCase()}${mutationName.slice(1)}Payload`;
  @ObjectType(typeName, { description: `Result of ${mutationName}.` })
  class Payload {
    @Field(() => nodeType, {
      name: fieldName,
      nullable: true,
      description: `The ${fieldName} after the change; null when there are user errors.`,
    })
    result: T | null;

    @Field(() => [UserError], {
      description: 'What was wrong with the input; empty on success. Nothing is written when any exists.',
    })
    userErrors: UserError[];
  }
  return Payload;
}
