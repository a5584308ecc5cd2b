import { IsOptional } from 'class-validator';
import { TextLength } from '../common/text-length';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ConnectionType, SortDirection, defineOrder } from '../common/connection';
import { UserError } from '../common/errors';
import { MutationPayload } from '../common/payload';
import { ApiKey } from './api-key.entity';
import { Role } from './roles';

export const ApiKeyConnection = ConnectionType(ApiKey, 'ApiKey', 'A page of API keys.');

const apiKeyOrder = defineOrder<ApiKey, 'CREATED_AT' | 'NAME'>(
  'ApiKey',
  'API keys',
  {
    CREATED_AT: { property: 'createdAt', description: 'When the key was created.', valueOf: (key) => key.createdAt },
    NAME: { property: 'name', description: 'The name given to the key.', valueOf: (key) => key.name },
  },
  'CREATED_AT',
  SortDirection.DESC,
);
export const ApiKeyOrder = apiKeyOrder.OrderInput;
export type ApiKeyOrder = InstanceType<typeof ApiKeyOrder>;
export const apiKeySort = apiKeyOrder.sortOf;

@InputType({ description: 'Narrows a list of API keys.' })
export class ApiKeyFilter {
  @Field(() => [Role], { nullable: true, description: 'Only keys with one of these roles.' })
  roles?: Role[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: only keys that are neither revoked nor expired; false: only those that are.',
  })
  active?: boolean | null;
}

@InputType({ description: 'A new API key.' })
export class CreateApiKeyInput {
  @TextLength(1, 100, 'name must be 1 to 100 characters')
  @Field({ description: 'What the key is for, e.g. `gateway-eu-1`.' })
  name: string;

  @Field(() => Role, { description: 'What the key may do.' })
  role: Role;

  @IsOptional()
  @Field(() => ID, {
    nullable: true,
    description: 'The partner a PARTNER key acts for; required for PARTNER, refused otherwise.',
  })
  partnerId?: string | null;

  @Field(() => Date, { nullable: true, description: 'When the key stops working; never when omitted.' })
  expiresAt?: Date | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Indicates that the key may only run persisted operations; by default true for GATEWAY keys in production, false otherwise.',
  })
  registeredOperationsOnly?: boolean | null;
}

@InputType({ description: 'The API key to revoke.' })
export class RevokeApiKeyInput {
  @Field(() => ID, { description: 'Global ID of the API key.' })
  id: string;
}

@ObjectType({ description: 'Result of createApiKey.' })
export class CreateApiKeyPayload {
  @Field(() => ApiKey, { nullable: true, description: 'The new key; null when there are user errors.' })
  apiKey: ApiKey | null;

  @Field(() => String, {
    nullable: true,
    description: 'The secret to send as `Authorization: Bearer <secret>`. Shown this once: it is not stored.',
  })
  secret: string | null;

  @Field(() => [UserError], {
    description: 'What was wrong with the input; empty on success. Nothing is written when any exists.',
  })
  userErrors: UserError[];
}

export const RevokeApiKeyPayload = MutationPayload(ApiKey, 'apiKey', 'revokeApiKey');

@ObjectType('Viewer', { description: 'The caller of this request, as its API key identifies it.' })
export class ViewerType {
  @Field(() => ApiKey, {
    nullable: true,
    description: 'The API key used; null for the bootstrap admin key from the environment.',
  })
  apiKey: ApiKey | null;

  @Field({ description: 'Name of the key.' })
  name: string;

  @Field(() => Role, { description: 'What the caller may do.' })
  role: Role;

  @Field(() => ID, { nullable: true, description: 'Global ID of the partner a PARTNER key acts for.' })
  partnerId: string | null;
}
