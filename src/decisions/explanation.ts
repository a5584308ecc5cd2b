import { RegionSource, StoredExplanation } from '../activations/activation-attempt.entity';
import { ReviewReason, SignalAssessment as ClientAssessment } from './decision.types';
import { Decision } from './engine/types';

export function toStoredExplanation(decision: Decision): StoredExplanation {
  return {
    signals: decision.readings.map(({ source, regionCode, usable, finding, detail, assessment }) => ({
      source,
      regionCode,
      usable,
      finding,
      detail,
      assessment,
    })),
    policies: decision.considered.map((entry) => ({
      policyVersionId: entry.policy.versionId,
      policyKey: entry.policy.policyKey,
      finding: entry.finding,
      detail: entry.detail,
    })),
  };
}

/** Which reason code says that a signal of this source disagreed with the one that decided. */
const DISAGREEMENT_OF_SOURCE: Record<string, string> = { CELL: 'CELL_DISAGREES', SIM: 'SIGNALS_DISAGREE' };

/**
 * The stored evidence in the shape of the GraphQL DecisionExplanation: every signal with how it
 * was read and whether it decided (the first usable reading of the decision's region source).
 */
export function explanationForClients(
  stored: StoredExplanation | null,
  decision: { regionSource: string; reasonCodes: readonly string[] },
) {
  const explanation = stored ?? { signals: [], policies: [] };
  const decidingIndex = explanation.signals.findIndex(
    (signal) => signal.usable && signal.source === decision.regionSource,
  );
  return {
    signals: explanation.signals.map((signal, index) => {
      // Attempts decided before assessments were stored: what their findings say.
      const read = (signal.assessment ??
        (signal.usable
          ? 'USABLE'
          : signal.finding === 'GPS_INACCURATE'
            ? 'INACCURATE'
            : 'UNRESOLVED')) as ClientAssessment;
      const disagreed = signal.usable && decision.reasonCodes[0] === DISAGREEMENT_OF_SOURCE[signal.source];
      return {
        ...signal,
        source: signal.source as RegionSource,
        assessment: disagreed ? ClientAssessment.DISAGREES : read,
        decided: index === decidingIndex,
      };
    }),
    policies: explanation.policies.map((policy) => ({ ...policy, applies: policy.finding === 'APPLIES' })),
  };
}

/**
 * Why a review was opened: the reason code the REVIEW rests on (the first of the decision's), or
 * POLICY_REVIEW when a REVIEW policy applied; null for an attempt that opened no review.
 */
export function reviewReasonOf(attempt: { reviewStatus: string | null; reasonCodes: readonly string[] }) {
  if (attempt.reviewStatus === null) return null;
  const [first] = attempt.reasonCodes;
  if (first === 'POLICY_APPLIES') return ReviewReason.POLICY_REVIEW;
  return (Object.values(ReviewReason) as string[]).includes(first) ? (first as ReviewReason) : null;
}
