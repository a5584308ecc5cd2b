import { UserError, UserErrorCode, userError } from '../common/errors';

/** The references a policy's rules make, as far as checking them needs. */
export interface RuleReferences {
  hasRegion(code: string): boolean;
  hasModel(code: string): boolean;
}

/** What of a policy's rules refers to other rows or bounds its window. */
export interface CheckedRules {
  /** Trimmed and upper-cased. */
  regionCodes: readonly string[];
  productScope: readonly string[];
  effectiveFrom: Date;
  effectiveUntil: Date | null;
}

/**
 * The one check of a policy's rules, for a change (createPolicy, updatePolicy, a change request)
 * and for a simulation alike: every region and model known, no region twice, a window that ends
 * after it starts. Each problem is a user error naming its field under `path` (within `input`).
 */
export function checkRules(rules: CheckedRules, known: RuleReferences, path: (string | number)[] = []): UserError[] {
  const errors: UserError[] = [];
  const seenRegions = new Set<string>();
  rules.regionCodes.forEach((code, index) => {
    if (!known.hasRegion(code))
      errors.push(userError([...path, 'regionCodes', index], UserErrorCode.NOT_FOUND, `unknown region code "${code}"`));
    else if (seenRegions.has(code))
      errors.push(userError([...path, 'regionCodes', index], UserErrorCode.DUPLICATE, `${code} is listed twice`));
    seenRegions.add(code);
  });
  rules.productScope.forEach((code, index) => {
    if (!known.hasModel(code))
      errors.push(
        userError([...path, 'productScope', index], UserErrorCode.NOT_FOUND, `no device model has code "${code}"`),
      );
  });
  if (rules.effectiveUntil && rules.effectiveUntil.getTime() <= rules.effectiveFrom.getTime()) {
    errors.push(
      userError([...path, 'effectiveUntil'], UserErrorCode.INVALID, 'effectiveUntil must be later than effectiveFrom'),
    );
  }
  return errors;
}
