/**
 * The decision engine: given an activation's signals, the device and the instant, which region is
 * the device in, does a policy forbid activation there, and must the device be locked. Plain
 * TypeScript with no GraphQL or ORM inside, so it is tested and benchmarked alone.
 *
 * Terminology
 * - region: a territory by ISO code, a country (`CU`) or a subdivision (`UA-43`); a subdivision's
 *   parent is its country, and a policy on a country covers its subdivisions.
 * - signal: one piece of location evidence an attempt carries: a GPS fix (with when it was taken
 *   and whether the OS called it mocked), the serving cell's network (MCC and MNC), the SIM's home
 *   network (MCC and MNC), or the country of the client's IP address as the gateway looked it up.
 * - reading: what one signal says: a region, or none, and how it was read (its assessment: usable,
 *   mocked, stale, inaccurate, impossible travel, unresolved); only a usable reading may decide.
 * - neighbouring fix: the device's usable fix of the attempt just before or just after this one in
 *   occurredAt order (not arrival order), within a day; handed in with the device.
 * - policy: a rule set with a stable key; version: one immutable snapshot of its rules. Every
 *   approved version of each ACTIVE policy is compiled into the engine with its window (from its
 *   effectiveFrom until the next approved version takes over, its effectiveUntil or the policy's
 *   retirement), so an attempt is judged by the version in force at its occurredAt and a scheduled
 *   version takes over by itself. Drafts and unapproved versions are never compiled.
 * - attempt: one activation of one device at one instant (occurredAt, which may lie in the past).
 * - decision: ALLOW, LOCK or REVIEW, with the region, the deciding version and reason codes.
 * - lock: an enforced LOCK; the device stays locked on later attempts until unlocked.
 *
 * Rules (strongest signal first; see the README's table):
 * 1. A usable GPS fix decides the region. When a usable SIM points at a region that is neither the
 *    same nor related (country and subdivision) and either region is restricted, the outcome is
 *    REVIEW (SIGNALS_DISAGREE), not LOCK; the same when the serving cell decides and the SIM
 *    disagrees with it.
 * 2. A mocked fix is not evidence: it neither decides nor clears; the other signals decide as if
 *    there were no fix, and GPS_MOCKED is on the decision whatever it is (with no other signal,
 *    REVIEW).
 * 3. A stale fix (taken more than STALE_FIX_MINUTES before occurredAt) is treated like no fix for
 *    deciding (GPS_STALE) and kept in the evidence.
 * 4. The serving cell ranks after a usable fix and before the SIM: a network operating only in a
 *    restricted subdivision puts the phone there, a nationwide one in its country. A usable fix
 *    and the cell disagreeing about a restricted region (one inside, the other outside): REVIEW
 *    (CELL_DISAGREES).
 * 5. Impossible travel: a fix implying more than IMPOSSIBLE_TRAVEL_KMH from a neighbouring fix
 *    cannot decide and cannot ALLOW: REVIEW (IMPOSSIBLE_TRAVEL), unless the other evidence alone
 *    makes an enforced policy LOCK.
 * 6. Without a usable fix or cell, the SIM's network decides; without that, the IP country.
 * 7. An IP country alone never locks: where a policy would apply, the outcome is REVIEW.
 * 8. No usable signal at all: REVIEW.
 * 9. A device that is LOCKED stays LOCKED.
 */
import { evaluatePolicies } from './policy-evaluator';
import { RegionDirectory } from './regions';
import { readCell, readGps, readIp, readSim } from './signal-readers';
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
  /** A fix taken more than this many minutes before the attempt is stale. */
  staleFixMinutes: number;
  /** A fix implying a faster speed from a neighbouring fix is impossible travel. */
  impossibleTravelKmh: number;
}

/** Reason codes of evidence that was not trusted, by the assessment of the fix. */
const DOUBTFUL_FIX_REASON: Partial<Record<SignalReading['assessment'], string>> = {
  MOCKED: 'GPS_MOCKED',
  STALE: 'GPS_STALE',
  IMPOSSIBLE_TRAVEL: 'IMPOSSIBLE_TRAVEL',
};

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

  /** Reads every signal, strongest first; a fix is judged against the attempt's instant and the device's neighbouring fixes. */
  readSignals(signals: Signals, occurredAt: Date, device?: DeviceFacts): SignalReading[] {
    const readings: SignalReading[] = [];
    if (signals.gps) {
      readings.push(
        readGps(this.data.locator, signals.gps, {
          maxAccuracyMeters: this.data.maxGpsAccuracyMeters,
          staleFixMinutes: this.data.staleFixMinutes,
          impossibleTravelKmh: this.data.impossibleTravelKmh,
          occurredAt: occurredAt.getTime(),
          neighbours: device?.neighbourFixes,
          recordedSpeedKmh: device?.recordedSpeedKmh,
        }),
      );
    }
    if (signals.cell) readings.push(readCell(this.data.networks, signals.cell));
    if (signals.sim) readings.push(readSim(this.data.networks, signals.sim));
    if (signals.ipCountry) readings.push(readIp(this.data.regions, signals.ipCountry));
    return readings;
  }

  decide(signals: Signals, device: DeviceFacts, occurredAt: Date): Decision {
    return this.decideFromReadings(this.readSignals(signals, occurredAt, device), device, occurredAt);
  }

  /**
   * The decision on signals already read. Reading (point in polygon) is most of a decision's
   * cost: a what-if that decides one attempt under two rule sets on the same reference data reads
   * it once.
   */
  decideFromReadings(readings: SignalReading[], device: DeviceFacts, occurredAt: Date): Decision {
    const fix = readings.find((reading) => reading.source === 'GPS');
    const doubt = fix && DOUBTFUL_FIX_REASON[fix.assessment];
    const decision = this.decideOnTrustedEvidence(readings, device, occurredAt);
    if (!doubt) return decision;
    // An impossible journey cannot end in ALLOW: a person looks, unless the other evidence alone locks.
    if (fix.assessment === 'IMPOSSIBLE_TRAVEL' && !(decision.outcome === 'LOCK' && decision.enforced)) {
      const regionReason = decision.regionCode
        ? [`REGION:${decision.regionCode}`, `SOURCE:${decision.regionSource}`]
        : [];
      return {
        ...decision,
        outcome: 'REVIEW',
        enforced: true,
        policyVersionId: null,
        reasonCodes: ['IMPOSSIBLE_TRAVEL', ...(fix.regionCode ? [`GPS:${fix.regionCode}`] : []), ...regionReason],
      };
    }
    // A doubtful fix is never dropped silently: the decision names it whatever decided.
    if (decision.reasonCodes[0] === 'NO_USABLE_SIGNAL')
      return { ...decision, reasonCodes: [doubt, 'NO_USABLE_SIGNAL'] };
    return { ...decision, reasonCodes: [...decision.reasonCodes, doubt] };
  }

  /** The decision on the usable readings alone (a mocked, stale or impossible fix is not among them). */
  private decideOnTrustedEvidence(readings: SignalReading[], device: DeviceFacts, occurredAt: Date): Decision {
    const usable = (source: string) => readings.find((reading) => reading.source === source && reading.usable);
    const gps = usable('GPS');
    const cell = usable('CELL');
    const sim = usable('SIM');
    const deciding = gps ?? cell ?? sim ?? usable('IP');
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
    /** Two readings point at unrelated regions, one of them restricted: a person decides, never the engine alone. */
    const disagree = (first: SignalReading | undefined, second: SignalReading | undefined) =>
      first !== undefined &&
      second !== undefined &&
      first.regionCode !== null &&
      second.regionCode !== null &&
      !this.data.regions.related(first.regionCode, second.regionCode) &&
      (this.isRestricted(policies, first.regionCode) || this.isRestricted(policies, second.regionCode));

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
    // A fix and the serving cell disagree when one puts the phone in a restricted region and the
    // other outside it — a fix in Kyiv on a Crimea-only network too, though UA contains UA-43.
    // Both in restricted regions (Sevastopol on a Crimean network) is no disagreement.
    if (
      gps?.regionCode &&
      cell?.regionCode &&
      this.isRestricted(policies, gps.regionCode) !== this.isRestricted(policies, cell.regionCode)
    ) {
      return {
        ...base,
        outcome: 'REVIEW',
        enforced: winner ? winner.mode === 'ENFORCE' : true,
        policyVersionId: winner?.versionId ?? null,
        reasonCodes: ['CELL_DISAGREES', `GPS:${gps.regionCode}`, `CELL:${cell.regionCode}`, ...policyReason],
        considered,
      };
    }
    const radio = gps ?? cell;
    if (disagree(radio, sim)) {
      return {
        ...base,
        outcome: 'REVIEW',
        enforced: winner ? winner.mode === 'ENFORCE' : true,
        policyVersionId: winner?.versionId ?? null,
        reasonCodes: [
          'SIGNALS_DISAGREE',
          `${radio!.source}:${radio!.regionCode}`,
          `SIM:${sim!.regionCode}`,
          ...policyReason,
        ],
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
