import { ValidationError, validate } from 'class-validator';
import { EntityManager } from 'typeorm';
import { RequestScope } from './request-scope';
import { UserError, UserErrorCode, UserErrorsAbort, userError } from './errors';
import { announceRuleChange } from '../db/rule-notifications';
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

export interface MutationOptions {
  /**
   * Indicates the change alters what decisions depend on (a policy, an exemption, a device model,
   * a region): once it commits, every instance rebuilds its rules — this one through the scope's
   * `onRulesChanged`, the others through the PostgreSQL notification sent inside the transaction.
   */
  changesRules?: boolean;
  /**
   * Run the work without a transaction, on the data source's own manager: for a mutation that
   * writes nothing (a sweep's dry run) or that commits through its own short statements (the
   * decision store's). Its input is still checked and its user errors still reported the same way.
   */
  transaction?: false;
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
  options: MutationOptions = {},
): Promise<MutationOutcome<T>> {
  const inputErrors = await validateInput(input);
  if (inputErrors.length > 0) return { result: null, userErrors: inputErrors };
  if (options.transaction === false && options.changesRules)
    throw new Error('a change to the rules is announced inside its transaction');
  try {
    if (options.transaction === false) return { result: await work(context.dataSource.manager), userErrors: [] };
    const result = await inTransaction(context.dataSource, async (manager) => {
      const done = await work(manager);
      if (options.changesRules) await announceRuleChange(manager);
      return done;
    });
    if (options.changesRules) context.onRulesChanged?.();
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
