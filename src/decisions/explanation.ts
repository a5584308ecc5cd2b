import { RegionSource, StoredExplanation } from '../activations/activation-attempt.entity';
import { Decision } from './engine/types';

export function toStoredExplanation(decision: Decision): StoredExplanation {
  return {
    signals: decision.readings.map(({ source, regionCode, usable, finding, detail }) => ({
      source,
      regionCode,
      usable,
      finding,
      detail,
    })),
    policies: decision.considered.map((entry) => ({
      policyVersionId: entry.policy.versionId,
      policyKey: entry.policy.policyKey,
      finding: entry.finding,
      detail: entry.detail,
    })),
  };
}

/** The stored evidence in the shape of the GraphQL DecisionExplanation. */
export function explanationForClients(stored: StoredExplanation | null) {
  const explanation = stored ?? { signals: [], policies: [] };
  return {
    signals: explanation.signals.map((signal) => ({ ...signal, source: signal.source as RegionSource })),
    policies: explanation.policies.map((policy) => ({ ...policy, applies: policy.finding === 'APPLIES' })),
  };
}
