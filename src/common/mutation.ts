import { ValidationError, validate } from 'class-validator';
import { EntityManager } from 'typeorm';
import { RequestScope } from './request-scope';
import { UserError, UserErrorCode, UserErrorsAbort, userError } from './errors';
import { inTransaction } from '../db/transactions';

/** class-validator's constraint names mapped to our user error codes. */
const codeByConstraint: Record<string, UserErrorCode> = {
  isNotEmpty: UserErrorCode.REQUIRED,
  isDefined: UserErrorCode.REQUIRED,
  maxLength: UserErrorCode.TOO_LONG,
  arrayMaxSize: UserErrorCode.TOO_MANY,
};

function flattenValidationErrors(errors: ValidationError[], path: string[] = []): UserError[] {
  return errors.flatMap((error) => {
    const fieldPath = [...path, error.property];
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) =>
      userError(fieldPath, codeByConstraint[constraint] ?? UserErrorCode.INVALID, message),
    );
    return [...own, ...flattenValidationErrors(error.children ?? [], fieldPath)];
  });
}

/** Checks an input object's class-validator rules; every broken rule becomes a user error naming its field. */
export async function validateInput(input: object): Promise<UserError[]> {
  return flattenValidationErrors(await validate(input, { forbidUnknownValues: false }));
}

export interface MutationOutcome<T> {
  result: T | null;
  userErrors: UserError[];
}

/**
 * The shape of every mutation: validate the input, then do the work in one transaction. A
 * `UserErrorsAbort` thrown by the work rolls everything back and becomes the payload's
 * `userErrors`; any other error is a fault and propagates as a top-level error.
 */
export async function runMutation<T>(
  context: RequestScope,
  input: object,
  work: (manager: EntityManager) => Promise<T>,
): Promise<MutationOutcome<T>> {
  const inputErrors = await validateInput(input);
  if (inputErrors.length > 0) return { result: null, userErrors: inputErrors };
  try {
    const result = await inTransaction(context.dataSource, work);
    return { result, userErrors: [] };
  } catch (error) {
    if (error instanceof UserErrorsAbort) return { result: null, userErrors: error.userErrors };
    throw error;
  }
}

/** Throws the collected user errors, if any, to abort the transaction. */
export function abortOnUserErrors(errors: UserError[]): void {
  if (errors.length > 0) throw new UserErrorsAbort(errors);
}
