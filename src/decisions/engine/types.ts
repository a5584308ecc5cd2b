/** Plain data the engine works on; no GraphQL or ORM types cross this line. */

export type Outcome = 'ALLOW' | 'LOCK' | 'REVIEW';
/** Strongest first: a usable fix, the serving cell, the SIM's home network, the IP country. */
export type SignalSource = 'GPS' | 'CELL' | 'SIM' | 'IP';

export interface GpsSignal {
  latitude: number;
  longitude: number;
  accuracyMeters?: number | null;
  /** When the fix was taken; the attempt's occurredAt when missing. Stored signals hold it as ISO text. */
  fixedAt?: Date | string | null;
  /** Indicates the OS reported the fix as coming from a mock location provider. */
  mock?: boolean | null;
}

export interface SimSignal {
  mcc: string;
  mnc?: string | null;
}

/** The network the radio is attached to (MCC, MNC): where the phone is, within a cell's range. */
export type CellSignal = SimSignal;

export interface Signals {
  gps?: GpsSignal | null;
  cell?: CellSignal | null;
  sim?: SimSignal | null;
  ipCountry?: string | null;
}

/**
 * How a signal was read: USABLE may decide; the others may not. A GPS fix may be MOCKED (the OS
 * says a mock provider made it), STALE (taken too long before the attempt), INACCURATE, or
 * IMPOSSIBLE_TRAVEL (too far from the device's neighbouring fixes for the time between them).
 * UNRESOLVED: the signal names no known region (an unknown or ambiguous network, an unknown country).
 */
export type SignalAssessment = 'USABLE' | 'MOCKED' | 'STALE' | 'INACCURATE' | 'IMPOSSIBLE_TRAVEL' | 'UNRESOLVED';

/**
 * A usable fix of another attempt of the same device: its neighbour before or after in occurredAt
 * order. `uncertaintyMeters` is what the stored position may be off by (its accuracy radius plus
 * the rounding of stored coordinates): the travel rule never counts it as distance travelled.
 */
export interface NeighbourFix {
  latitude: number;
  longitude: number;
  /** Epoch milliseconds when the fix was taken. */
  fixedAt: number;
  uncertaintyMeters: number;
}

/** What one signal says about where the device is. */
export interface SignalReading {
  source: SignalSource;
  /** The most specific region the signal points at; null when it points at none. */
  regionCode: string | null;
  /** Indicates whether the signal may decide the region (a fix too inaccurate to trust may not). */
  usable: boolean;
  /** Machine-readable finding, e.g. GPS_IN_REGION, SIM_SUBDIVISION_NETWORK, IP_COUNTRY. */
  finding: string;
  /** Human-readable account of the finding. */
  detail: string;
  /** How the signal was read; `usable` is true exactly when this is USABLE. */
  assessment: SignalAssessment;
  /** For a fix checked against the device's neighbouring fixes: the fastest speed it implies, km/h. */
  speedKmh?: number;
}

/**
 * One version of a policy, compiled for fast lookups, with the window in which it is in force
 * (`effectiveFrom`/`effectiveUntil`); a policy has one entry per version that is ever in force.
 */
export interface CompiledPolicy {
  versionId: number;
  policyKey: string;
  versionNumber: number;
  action: 'LOCK' | 'REVIEW';
  mode: 'ENFORCE' | 'MONITOR';
  priority: number;
  effectiveFrom: number;
  effectiveUntil: number | null;
  /** Regions named by the version; a country also covers its subdivisions. */
  regionCodes: ReadonlySet<string>;
  /** Model codes the version is limited to; null means every model. */
  modelCodes: ReadonlySet<string> | null;
}

export interface CompiledExemption {
  /**
   * How reasons and explanations name the exemption: its public (global) ID, never the row number,
   * which no part of the API exposes.
   */
  reference: string;
  policyKey: string;
  deviceId: number | null;
  partnerId: number | null;
  expiresAt: number | null;
}

export interface DeviceFacts {
  deviceId: number;
  modelCode: string;
  partnerId: number;
  /** Indicates whether the device is LOCKED already: it stays locked until unlocked through an audited path. */
  locked: boolean;
  /** The policy version of the decision that locked it, when known. */
  lockedByVersionId: number | null;
  /**
   * The device's usable fixes nearest the attempt in occurredAt order (the one before and the one
   * after, within a day), read with the device. Missing: the travel rule has nothing to compare.
   */
  neighbourFixes?: readonly NeighbourFix[];
  /**
   * For replays of recorded attempts (what-if): the speed the fix implied when it was decided,
   * used when `neighbourFixes` is missing, so a replay judges the evidence as the decision did.
   */
  recordedSpeedKmh?: number | null;
}

export type PolicyFinding =
  'APPLIES' | 'NOT_YET_EFFECTIVE' | 'NO_LONGER_EFFECTIVE' | 'REGION_NOT_COVERED' | 'MODEL_NOT_IN_SCOPE' | 'EXEMPTED';

export interface PolicyConsideration {
  policy: CompiledPolicy;
  finding: PolicyFinding;
  detail: string;
  /** The exemption's public reference (see CompiledExemption.reference), when the finding is EXEMPTED. */
  exemptionReference?: string;
}

export interface Decision {
  outcome: Outcome;
  /** False when the deciding policy is in MONITOR mode: the outcome is recorded, nothing is enforced. */
  enforced: boolean;
  regionCode: string | null;
  regionSource: SignalSource | 'NONE';
  policyVersionId: number | null;
  reasonCodes: string[];
  readings: SignalReading[];
  considered: PolicyConsideration[];
}

/**
 * The version of each policy that speaks for it at an instant: the one whose window holds the
 * instant, else its latest (which then explains why it does not apply). Versions past or to come
 * are never weighed beside it.
 */
export function versionsAt(policies: readonly CompiledPolicy[], at: number): CompiledPolicy[] {
  const chosen = new Map<string, CompiledPolicy>();
  for (const policy of policies) {
    const current = chosen.get(policy.policyKey);
    if (
      !current ||
      isInForceAt(policy, at) ||
      (!isInForceAt(current, at) && policy.effectiveFrom > current.effectiveFrom)
    )
      chosen.set(policy.policyKey, policy);
  }
  return [...chosen.values()];
}

/** Whether a compiled version is in force at an instant. */
export function isInForceAt(policy: CompiledPolicy, at: number): boolean {
  return policy.effectiveFrom <= at && (policy.effectiveUntil === null || at < policy.effectiveUntil);
}
