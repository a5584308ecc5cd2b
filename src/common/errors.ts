import { GraphQLError } from 'graphql';
import { Field, ObjectType, registerEnumType } from 'type-graphql';

/**
 * Top-level errors are for client and server faults (bad arguments, unknown IDs); business
 * failures of a mutation go to its payload's `userErrors`. Every error carries `extensions.code`.
 */
export class BadUserInputError extends GraphQLError {
  constructor(field: string, message: string) {
    super(`${field}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', field } });
  }
}

/**
 * The argument graphql-js names when it cannot coerce an argument's literal or variable value (an
 * explicit null for a non-null argument, a value of the wrong type): the client's mistake, raised
 * while the cost is estimated or while a field executes, never a fault of ours.
 */
export function coercionFailedArgument(message: string): string | undefined {
  return /^Argument "([^"]+)" (?:of non-null type|has invalid value)/.exec(message)?.[1];
}

export enum UserErrorCode {
  INVALID = 'INVALID',
  REQUIRED = 'REQUIRED',
  TOO_LONG = 'TOO_LONG',
  NOT_FOUND = 'NOT_FOUND',
  TAKEN = 'TAKEN',
  DUPLICATE = 'DUPLICATE',
  INVALID_CHECKSUM = 'INVALID_CHECKSUM',
  INVALID_STATE = 'INVALID_STATE',
  TOO_MANY = 'TOO_MANY',
  FORBIDDEN = 'FORBIDDEN',
  /** An idempotency key reused with a different request: the first request's decision stands. */
  IDEMPOTENCY_CONFLICT = 'IDEMPOTENCY_CONFLICT',
  HASH_MISMATCH = 'HASH_MISMATCH',
  INVALID_OPERATION = 'INVALID_OPERATION',
}
registerEnumType(UserErrorCode, { name: 'UserErrorCode', description: 'Machine-readable reason of a user error.' });

@ObjectType({
  description: 'A business error of a mutation: what is wrong with which input field. Nothing was written.',
})
export class UserError {
  @Field(() => [String], { description: 'Path to the input field at fault, e.g. ["input", "devices", "3", "imei"].' })
  field: string[];

  @Field({ description: 'Human-readable description of the problem.' })
  message: string;

  @Field(() => UserErrorCode, { description: 'Machine-readable reason.' })
  code: UserErrorCode;
}

export function userError(field: (string | number)[], code: UserErrorCode, message: string): UserError {
  return Object.assign(new UserError(), { field: ['input', ...field.map(String)], code, message });
}

/** Thrown inside a mutation's transaction to roll it back and report the collected user errors. */
export class UserErrorsAbort extends Error {
  constructor(readonly userErrors: UserError[]) {
    super(`${userErrors.length} user error(s)`);
  }
}
