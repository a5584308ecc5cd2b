import { PolicyAction, PolicyMode } from './policy-version.entity';
import { RestrictionReason } from './policy-change-request.entity';

/** The parts of a policy's rules that decide whom it can lock. */
export interface RestrictingRules {
  action: PolicyAction | string;
  mode: PolicyMode | string;
  priority: number;
  /** Null: "from the moment the change applies" (never earlier than the rules it replaces). */
  effectiveFrom: Date | null;
  effectiveUntil: Date | null;
  regionCodes: readonly string[];
  /** Empty means every model. */
  productScope: readonly string[];
}

/**
 * The ways a change could lock (or hold for review) a device the rules before it did not — each
 * makes it a change request for a second person. None means the change only narrows (or touches
 * texts) and may apply at once. `before` is null for a draft becoming active. A MONITOR-mode
 * result never restricts anyone.
 */
export function restrictionReasons(
  before: RestrictingRules | null,
  after: RestrictingRules,
  parentOf: (regionCode: string) => string | null,
): RestrictionReason[] {
  if (after.mode !== PolicyMode.ENFORCE) return [];
  if (before === null) return [RestrictionReason.NEW_ENFORCING_POLICY];
  const reasons: RestrictionReason[] = [];
  if (before.mode !== PolicyMode.ENFORCE) reasons.push(RestrictionReason.MODE_TO_ENFORCE);
  if (before.action !== PolicyAction.LOCK && after.action === PolicyAction.LOCK)
    reasons.push(RestrictionReason.ACTION_TO_LOCK);
  const covered = new Set(before.regionCodes);
  if (after.regionCodes.some((code) => !covered.has(code) && !covered.has(parentOf(code) ?? '')))
    reasons.push(RestrictionReason.WIDER_REGIONS);
  const scoped = new Set(before.productScope);
  if (scoped.size > 0 && (after.productScope.length === 0 || after.productScope.some((code) => !scoped.has(code))))
    reasons.push(RestrictionReason.WIDER_PRODUCT_SCOPE);
  if (after.effectiveFrom && before.effectiveFrom && after.effectiveFrom.getTime() < before.effectiveFrom.getTime())
    reasons.push(RestrictionReason.EARLIER_EFFECTIVE_FROM);
  if (
    before.effectiveUntil !== null &&
    (after.effectiveUntil === null || after.effectiveUntil.getTime() > before.effectiveUntil.getTime())
  )
    reasons.push(RestrictionReason.LATER_EFFECTIVE_UNTIL);
  if (after.priority > before.priority) reasons.push(RestrictionReason.HIGHER_PRIORITY);
  return reasons;
}
