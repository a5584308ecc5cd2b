/**
 * The decision engine: given an activation's signals, the device and the instant, which region is
 * the device in, does a policy forbid activation there, and must the device be locked. Plain
 * TypeScript with no GraphQL or ORM inside, so it is tested and benchmarked alone.
 *
 * Terminology
 * - region: a territory by ISO code, a country (`CU`) or a subdivision (`UA-43`); a subdivision's
 *   parent is its country, and a policy on a country covers its subdivisions.
 * - signal: one piece of location evidence an attempt carries: a GPS fix, the SIM's network
 *   (MCC and MNC), or the country of the client's IP address as the gateway looked it up.
 * - reading: what one signal says: a region, or none, and whether it may be trusted (usable).
 * - policy: a rule set with a stable key; version: one immutable snapshot of its rules. Only the
 *   current version of each ACTIVE policy is compiled into the engine.
 * - attempt: one activation of one device at one instant (occurredAt, which may lie in the past).
 * - decision: ALLOW, LOCK or REVIEW, with the region, the deciding version and reason codes.
 * - lock: an enforced LOCK; the device stays locked on later attempts until unlocked.
 *
 * Rules (strongest signal first; see the README's table):
 * 1. A usable GPS fix decides the region. When a usable SIM points at a region that is neither the
 *    same nor related (country and subdivision) and either region is restricted, the outcome is
 *    REVIEW, not LOCK.
 * 2. Without a usable fix, the SIM's network decides; without that, the IP country.
 * 3. An IP country alone never locks: where a policy would apply, the outcome is REVIEW.
 * 4. No usable signal at all: REVIEW.
 * 5. A device that is LOCKED stays LOCKED.
 */
import { evaluatePolicies } from './policy-evaluator';
import { RegionDirectory } from './regions';
import { readGps, readIp, readSim } from './signal-readers';
import { GeoLocator } from './geo-locator';
import { MobileNetworkTable } from './mobile-networks';
import { CompiledExemption, CompiledPolicy, Decision, DeviceFacts, SignalReading, Signals, versionsAt } from './types';

export interface EngineData {
  regions: RegionDirectory;
  locator: GeoLocator;
  networks: MobileNetworkTable;
  policies: readonly CompiledPolicy[];
  exemptions: readonly CompiledExemption[];
  maxGpsAccuracyMeters: number;
}

export class DecisionEngine {
  /** Whether some policy has more than one version compiled (else every decision weighs them all as they are). */
  private readonly versioned: boolean;

  constructor(private readonly data: EngineData) {
    this.versioned = new Set(data.policies.map((policy) => policy.policyKey)).size < data.policies.length;
  }

  /** The version of each policy that speaks for it at an instant. */
  policiesAt(at: number): readonly CompiledPolicy[] {
    return this.versioned ? versionsAt(this.data.policies, at) : this.data.policies;
  }

  /** True when one of the policies names the region or one of its ancestors. */
  private isRestricted(policies: readonly CompiledPolicy[], regionCode: string): boolean {
    const lineage = this.data.regions.lineage(regionCode);
    return policies.some((policy) => lineage.some((code) => policy.regionCodes.has(code)));
  }

  readSignals(signals: Signals): SignalReading[] {
    const readings: SignalReading[] = [];
    if (signals.gps) readings.push(readGps(this.data.locator, signals.gps, this.data.maxGpsAccuracyMeters));
    if (signals.sim) readings.push(readSim(this.data.networks, signals.sim));
    if (signals.ipCountry) readings.push(readIp(this.data.regions, signals.ipCountry));
    return readings;
  }

  decide(signals: Signals, device: DeviceFacts, occurredAt: Date): Decision {
    return this.decideFromReadings(this.readSignals(signals), device, occurredAt);
  }

  /**
   * The decision on signals already read. Reading (point in polygon) is most of a decision's
   * cost: a what-if that decides one attempt under two rule sets on the same reference data reads
   * it once.
   */
  decideFromReadings(readings: SignalReading[], device: DeviceFacts, occurredAt: Date): Decision {
    const usable = (source: string) => readings.find((reading) => reading.source === source && reading.usable);
    const gps = usable('GPS');
    const sim = usable('SIM');
    const deciding = gps ?? sim ?? usable('IP');
    const base = {
      regionCode: deciding?.regionCode ?? null,
      regionSource: deciding?.source ?? ('NONE' as const),
      readings,
    };
    const policies = this.policiesAt(occurredAt.getTime());
    const evaluation =
      base.regionCode === null
        ? { considered: [], winner: null, exemptions: [] }
        : evaluatePolicies(
            policies,
            this.data.exemptions,
            this.data.regions,
            base.regionCode,
            occurredAt.getTime(),
            device,
          );
    const considered = evaluation.considered;
    const winner = evaluation.winner;
    const regionReason = base.regionCode ? [`REGION:${base.regionCode}`, `SOURCE:${base.regionSource}`] : [];
    const policyReason = winner ? [`POLICY:${winner.policyKey}`, `VERSION:${winner.versionNumber}`] : [];
    // Each exemption names the policy it set aside and itself by public ID, so a client can match
    // both without decoding anything.
    const exemptionReasons = evaluation.exemptions.flatMap((exemption) => [
      `EXEMPT_FROM:${exemption.policyKey}`,
      `EXEMPTION:${exemption.reference}`,
    ]);

    if (device.locked) {
      return {
        ...base,
        outcome: 'LOCK',
        enforced: true,
        policyVersionId: device.lockedByVersionId,
        reasonCodes: ['DEVICE_ALREADY_LOCKED', ...regionReason],
        considered,
      };
    }
    if (!deciding) {
      return {
        ...base,
        outcome: 'REVIEW',
        enforced: true,
        policyVersionId: null,
        reasonCodes: ['NO_USABLE_SIGNAL'],
        considered,
      };
    }
    if (
      gps &&
      sim &&
      gps.regionCode !== null &&
      sim.regionCode !== null &&
      !this.data.regions.related(gps.regionCode, sim.regionCode) &&
      (this.isRestricted(policies, gps.regionCode) || this.isRestricted(policies, sim.regionCode))
    ) {
      return {
        ...base,
        outcome: 'REVIEW',
        enforced: winner ? winner.mode === 'ENFORCE' : true,
        policyVersionId: winner?.versionId ?? null,
        reasonCodes: ['SIGNALS_DISAGREE', `GPS:${gps.regionCode}`, `SIM:${sim.regionCode}`, ...policyReason],
        considered,
      };
    }
    if (base.regionCode === null) {
      return {
        ...base,
        outcome: 'ALLOW',
        enforced: true,
        policyVersionId: null,
        reasonCodes: ['OUTSIDE_ANY_TERRITORY'],
        considered,
      };
    }
    if (!winner) {
      const reasons = exemptionReasons.length ? ['EXEMPT', ...exemptionReasons] : ['NO_POLICY_APPLIES'];
      return {
        ...base,
        outcome: 'ALLOW',
        enforced: true,
        policyVersionId: null,
        reasonCodes: [...reasons, ...regionReason],
        considered,
      };
    }
    if (base.regionSource === 'IP') {
      return {
        ...base,
        outcome: 'REVIEW',
        enforced: winner.mode === 'ENFORCE',
        policyVersionId: winner.versionId,
        reasonCodes: ['IP_COUNTRY_ONLY', ...policyReason, ...regionReason],
        considered,
      };
    }
    return {
      ...base,
      outcome: winner.action,
      enforced: winner.mode === 'ENFORCE',
      policyVersionId: winner.versionId,
      reasonCodes: [winner.mode === 'MONITOR' ? 'MONITOR_ONLY' : 'POLICY_APPLIES', ...policyReason, ...regionReason],
      considered,
    };
  }
}
