import { ArrayMaxSize, ArrayMinSize, ValidateNested } from 'class-validator';
import { TextLength } from '../common/text-length';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { UserError } from '../common/errors';

/** Most operations one manifest may hold: a client's build produces tens to hundreds. */
export const MAX_MANIFEST_OPERATIONS = 1_000;

@InputType({ description: 'One operation of a client build manifest.' })
export class PersistedOperationInput {
  @Field({
    description:
      'The id clients will send: the lowercase hex SHA-256 of `body` (Apollo persisted-query `sha256Hash`, GraphQL Code Generator persisted document hash with `hashAlgorithm: sha256`).',
  })
  id: string;

  @TextLength(1, 100_000, 'body must be 1 to 100000 characters')
  @Field({ description: 'The GraphQL document, exactly as the client sends its hash of it.' })
  body: string;
}

@InputType({ description: 'A client build manifest of operations to register, all or nothing.' })
export class RegisterPersistedOperationsInput {
  @TextLength(1, 100, 'clientName must be 1 to 100 characters')
  @Field({ description: 'The client the manifest comes from, e.g. `activation-gateway`.' })
  clientName: string;

  @ArrayMinSize(1, { message: 'operations must hold at least one operation' })
  @ArrayMaxSize(MAX_MANIFEST_OPERATIONS, {
    message: `operations may hold at most ${MAX_MANIFEST_OPERATIONS} operations`,
  })
  @ValidateNested({ each: true })
  @Field(() => [PersistedOperationInput], {
    description: `The manifest's operations (1 to ${MAX_MANIFEST_OPERATIONS}).`,
  })
  operations: PersistedOperationInput[];
}

@ObjectType({ description: 'Result of registerPersistedOperations.' })
export class RegisterPersistedOperationsPayload {
  @Field(() => Int, {
    nullable: true,
    description: 'Operations registered by this call; null when there are user errors.',
  })
  registeredCount: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'Operations of the manifest that were registered already (a hash names one document, so they are the same).',
  })
  alreadyRegisteredCount: number | null;

  @Field(() => [UserError], {
    description: 'What was wrong with the manifest; empty on success. Nothing is registered when any exists.',
  })
  userErrors: UserError[];
}
