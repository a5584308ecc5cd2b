import { DecisionEngine, EngineData } from './engine';
import { Decision, DeviceFacts, SignalReading, Signals } from './types';

/*
 * The seed generator and what-if replays decide millions of attempts that differ in their
 * coordinates and instants but fall into a few thousand cases: the engine's decision depends on what the signals were read as
 * (each reading's source, region, finding and assessment — not the coordinates), on the device
 * facts policies look at, and on which policy versions and exemptions are in force. So each
 * attempt's signals are still read by the engine (readSignals), and its decision is made once per
 * case by the engine (decideFromReadings) and reused for every attempt of that case.
 *
 * What makes two attempts the same case, from the compiled rules:
 * - the instant only through the windows of the compiled versions (effectiveFrom, effectiveUntil)
 *   and the exemptions' expiries: between two consecutive such instants nothing changes;
 * - the device id and partner only when an exemption names them, the model only when a version
 *   is limited to models; whether the device is locked, and by which version, always.
 * test/unit/generator-decisions.test.ts compares it with the engine, attempt by attempt, under
 * rules that use each of these. A remembered decision's `readings` and `considered` are those of
 * the first attempt of its case: callers use its outcome, region, version and reasons.
 */

/** Cases remembered at most; past it the memory starts again (the demo data never gets near it). */
const MAX_CASES = 200_000;

export class DecisionMemo {
  /** The instants at which some version or exemption starts or stops, ascending. */
  private readonly changes: number[];
  private readonly exemptDevices: ReadonlySet<number>;
  private readonly exemptPartners: ReadonlySet<number>;
  private readonly modelsMatter: boolean;
  private readonly decisions = new Map<string, Decision>();

  constructor(
    private readonly engine: DecisionEngine,
    data: Pick<EngineData, 'policies' | 'exemptions'>,
  ) {
    const instants = new Set<number>();
    for (const policy of data.policies) {
      instants.add(policy.effectiveFrom);
      if (policy.effectiveUntil !== null) instants.add(policy.effectiveUntil);
    }
    for (const exemption of data.exemptions) if (exemption.expiresAt !== null) instants.add(exemption.expiresAt);
    this.changes = [...instants].sort((a, b) => a - b);
    this.exemptDevices = new Set(data.exemptions.flatMap((exemption) => exemption.deviceId ?? []));
    this.exemptPartners = new Set(data.exemptions.flatMap((exemption) => exemption.partnerId ?? []));
    this.modelsMatter = data.policies.some((policy) => policy.modelCodes !== null);
  }

  /** The engine's decision for the attempt, as engine.decide(signals, device, occurredAt) gives it. */
  decide(signals: Signals, device: DeviceFacts, occurredAt: Date): Decision {
    return this.decideFromReadings(this.engine.readSignals(signals, occurredAt, device), device, occurredAt);
  }

  /** The engine's decision on signals already read, as engine.decideFromReadings gives it. */
  decideFromReadings(readings: SignalReading[], device: DeviceFacts, occurredAt: Date): Decision {
    let key = `${this.period(occurredAt.getTime())}|${device.locked ? `L${device.lockedByVersionId}` : ''}|`;
    if (this.exemptDevices.has(device.deviceId)) key += `d${device.deviceId}`;
    if (this.exemptPartners.has(device.partnerId)) key += `p${device.partnerId}`;
    if (this.modelsMatter) key += `m${device.modelCode}`;
    for (const reading of readings)
      key += `|${reading.source}:${reading.regionCode}:${reading.finding}:${reading.assessment}:${reading.usable}`;
    let decision = this.decisions.get(key);
    if (!decision) {
      if (this.decisions.size >= MAX_CASES) this.decisions.clear();
      decision = this.engine.decideFromReadings(readings, device, occurredAt);
      this.decisions.set(key, decision);
    }
    return decision;
  }

  /** How many of the change instants are at or before `at`: the same number, the same versions and exemptions in force. */
  private period(at: number): number {
    let [low, high] = [0, this.changes.length];
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.changes[middle] <= at) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
