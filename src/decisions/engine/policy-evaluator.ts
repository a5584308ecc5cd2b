import { RegionDirectory } from './regions';
import { CompiledExemption, CompiledPolicy, DeviceFacts, PolicyConsideration } from './types';

const ACTION_RANK = { LOCK: 2, REVIEW: 1 } as const;

export interface PolicyEvaluation {
  considered: PolicyConsideration[];
  /** The policy that decides: highest priority among those that apply; LOCK beats REVIEW at equal priority. */
  winner: CompiledPolicy | null;
  /** Exemptions that set an applicable policy aside: the policy's key and the exemption's public reference. */
  exemptions: { policyKey: string; reference: string }[];
}

/**
 * Evaluates every compiled policy for one region, instant and device, and says for each why it
 * does or does not apply. Never throws: an unknown region simply matches nothing.
 */
export function evaluatePolicies(
  policies: readonly CompiledPolicy[],
  exemptions: readonly CompiledExemption[],
  regions: RegionDirectory,
  regionCode: string,
  occurredAt: number,
  device: DeviceFacts,
): PolicyEvaluation {
  const lineage = regions.lineage(regionCode);
  const considered = policies.map((policy): PolicyConsideration => {
    if (occurredAt < policy.effectiveFrom) {
      return {
        policy,
        finding: 'NOT_YET_EFFECTIVE',
        detail: `effective from ${new Date(policy.effectiveFrom).toISOString()}`,
      };
    }
    if (policy.effectiveUntil !== null && occurredAt >= policy.effectiveUntil) {
      return {
        policy,
        finding: 'NO_LONGER_EFFECTIVE',
        detail: `effective until ${new Date(policy.effectiveUntil).toISOString()}`,
      };
    }
    const coveredBy = lineage.find((code) => policy.regionCodes.has(code));
    if (!coveredBy) return { policy, finding: 'REGION_NOT_COVERED', detail: `${regionCode} is not covered` };
    if (policy.modelCodes && !policy.modelCodes.has(device.modelCode)) {
      return { policy, finding: 'MODEL_NOT_IN_SCOPE', detail: `model ${device.modelCode} is not in the product scope` };
    }
    const exemption = exemptions.find(
      (candidate) =>
        candidate.policyKey === policy.policyKey &&
        (candidate.deviceId === device.deviceId || candidate.partnerId === device.partnerId) &&
        (candidate.expiresAt === null || occurredAt < candidate.expiresAt),
    );
    if (exemption) {
      return {
        policy,
        finding: 'EXEMPTED',
        exemptionReference: exemption.reference,
        detail: `exempt by exemption ${exemption.reference} (${exemption.deviceId !== null ? 'device' : 'partner'})`,
      };
    }
    return { policy, finding: 'APPLIES', detail: `${regionCode} is covered through ${coveredBy}` };
  });

  const applicable = considered.filter((entry) => entry.finding === 'APPLIES').map((entry) => entry.policy);
  applicable.sort(
    (a, b) =>
      b.priority - a.priority ||
      ACTION_RANK[b.action] - ACTION_RANK[a.action] ||
      a.policyKey.localeCompare(b.policyKey),
  );
  return {
    considered,
    winner: applicable[0] ?? null,
    exemptions: considered.flatMap((entry) =>
      entry.exemptionReference === undefined
        ? []
        : [{ policyKey: entry.policy.policyKey, reference: entry.exemptionReference }],
    ),
  };
}
