import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { Field, ObjectType, registerEnumType } from 'type-graphql';

/**
 * Top-level errors are for client and server faults (bad arguments, unknown IDs); business
 * failures of a mutation go to its payload's `userErrors`. Every error carries `extensions.code`.
 */
export class BadUserInputError extends GraphQLError {
  constructor(field: string, message: string) {
    super(`${field}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', field } });
  }

  /** A user error raised where a query (not a mutation) checks its input: the same check, a top-level error. */
  static of(error: UserError): BadUserInputError {
    return new BadUserInputError(fieldPathText(error.field), error.message);
  }
}

/** A field path as top-level errors name it: `input.policy.regionCodes[0]`. */
export function fieldPathText(path: readonly string[]): string {
  return path.reduce((text, part) => (/^\d+$/.test(part) ? `${text}[${part}]` : text ? `${text}.${part}` : part), '');
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
registerEnumType(UserErrorCode, {
  name: 'UserErrorCode',
  description: 'Machine-readable reason of a user error.',
  valuesConfig: {
    INVALID: { description: 'The value has the wrong form, or does not fit with another value of the input.' },
    REQUIRED: { description: 'A value the change needs is missing or empty.' },
    TOO_LONG: { description: 'A text is longer than its field allows.' },
    NOT_FOUND: { description: 'No object has this ID, key or code.' },
    TAKEN: {
      description:
        'The value is held by another object already (a name, key, code, TAC, IMEI or idempotency key used for another device).',
    },
    DUPLICATE: { description: 'The value is listed twice in the same input.' },
    INVALID_CHECKSUM: { description: "An IMEI's check digit (Luhn) does not match its other digits: mistyped." },
    INVALID_STATE: {
      description:
        'The object is not in a state that allows the change (revoked already, not LOCKED, no longer PENDING, a sweep that ended).',
    },
    TOO_MANY: { description: 'A list has more items than the field allows.' },
    FORBIDDEN: {
      description:
        "The caller may run the mutation but not on this object: an author approving or rejecting their own change request, or withdrawing another's.",
    },
    IDEMPOTENCY_CONFLICT: {
      description: "The idempotency key was first sent with a different request: the first request's decision stands.",
    },
    HASH_MISMATCH: { description: "A persisted operation's ID is not the SHA-256 hash of its body." },
    INVALID_OPERATION: { description: "A persisted operation's body is not a valid operation of this schema." },
  },
});

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

/**
 * How much of a value a client sent an error message may quote. graphql-js quotes refused values
 * whole ("Variable \"$status\" got invalid value \"…1 MB…\""), in the message and again in the
 * development stack trace; so do validation messages about literals, and some of our own.
 */
export const ECHO_LIMITS = {
  /** Characters of one quoted value kept; the rest is replaced by its length. */
  quotedCharacters: 64,
  /** Characters of a whole message (values echoed unquoted, e.g. an input object's keys). */
  messageCharacters: 1_000,
} as const;

/** A double-quoted string, escapes included (graphql-js quotes values with JSON.stringify). */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;

/** The message with every long quoted value cut to its first characters and its length, and the whole bounded. */
export function boundEchoes(message: string): string {
  const cut = message.replace(QUOTED, (quoted) =>
    quoted.length - 2 <= ECHO_LIMITS.quotedCharacters
      ? quoted
      : `"${quoted.slice(1, 1 + ECHO_LIMITS.quotedCharacters)}…" (${quoted.length - 2} characters)`,
  );
  return cut.length <= ECHO_LIMITS.messageCharacters
    ? cut
    : `${cut.slice(0, ECHO_LIMITS.messageCharacters)}… (${cut.length} characters)`;
}

/** A formatted error with the values it quotes bounded, in its message and its (development) stack trace. */
export function boundEchoesOf(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const stacktrace = formatted.extensions?.stacktrace;
  return {
    ...formatted,
    message: boundEchoes(formatted.message),
    ...(Array.isArray(stacktrace)
      ? { extensions: { ...formatted.extensions, stacktrace: stacktrace.map((line) => boundEchoes(String(line))) } }
      : {}),
  };
}
