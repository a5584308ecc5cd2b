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

/**
 * A node of the memory: one part of a case (the period, the device's facts, each reading's
 * fields) per level. Walking the parts through nested maps finds a case without building a key
 * string per attempt: the parts are numbers and strings the engine holds already (their hashes
 * are kept), where concatenating and hashing a new string of a hundred characters each time was
 * most of a replayed attempt's cost once its decision was remembered.
 */
interface CaseNode<T> {
  next: Map<unknown, CaseNode<T>>;
  found?: { value: T };
}

/**
 * Remembers one value per case (a decision, or what a replay makes of two decisions) for the
 * rules of one or more engines: the case is then what any of them depends on.
 */
export class CaseMemo<T> {
  /** The instants at which some version or exemption starts or stops, ascending. */
  private readonly changes: number[];
  private readonly exemptDevices: ReadonlySet<number>;
  private readonly exemptPartners: ReadonlySet<number>;
  private readonly modelsMatter: boolean;
  private root: CaseNode<T> = { next: new Map() };
  private cases = 0;

  constructor(rules: readonly Pick<EngineData, 'policies' | 'exemptions'>[]) {
    const instants = new Set<number>();
    const policies = rules.flatMap((data) => data.policies);
    const exemptions = rules.flatMap((data) => data.exemptions);
    for (const policy of policies) {
      instants.add(policy.effectiveFrom);
      if (policy.effectiveUntil !== null) instants.add(policy.effectiveUntil);
    }
    for (const exemption of exemptions) if (exemption.expiresAt !== null) instants.add(exemption.expiresAt);
    this.changes = [...instants].sort((a, b) => a - b);
    this.exemptDevices = new Set(exemptions.flatMap((exemption) => exemption.deviceId ?? []));
    this.exemptPartners = new Set(exemptions.flatMap((exemption) => exemption.partnerId ?? []));
    this.modelsMatter = policies.some((policy) => policy.modelCodes !== null);
  }

  /** Whether the rules look at the device's model or partner at all: a replay reads them only then. */
  get deviceFactsMatter(): { model: boolean; partner: boolean } {
    return { model: this.modelsMatter, partner: this.exemptPartners.size > 0 };
  }

  /** The value remembered for the attempt's case, or `compute`'s, remembered. */
  find(readings: readonly SignalReading[], device: DeviceFacts, occurredAt: number, compute: () => T): T {
    if (this.cases >= MAX_CASES) {
      this.root = { next: new Map() };
      this.cases = 0;
    }
    let node = child(this.root, this.period(occurredAt));
    // Each part stands at its own level, so a part left out (null) cannot be mistaken for another.
    node = child(node, device.locked ? (device.lockedByVersionId ?? 'locked, version unknown') : null);
    node = child(node, this.exemptDevices.has(device.deviceId) ? device.deviceId : null);
    node = child(node, this.exemptPartners.has(device.partnerId) ? device.partnerId : null);
    node = child(node, this.modelsMatter ? device.modelCode : null);
    for (const reading of readings) {
      node = child(node, reading.source);
      node = child(node, reading.regionCode);
      node = child(node, reading.finding);
      node = child(node, reading.assessment);
      node = child(node, reading.usable);
    }
    if (!node.found) {
      node.found = { value: compute() };
      this.cases += 1;
    }
    return node.found.value;
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

function child<T>(node: CaseNode<T>, part: unknown): CaseNode<T> {
  let next = node.next.get(part);
  if (!next) {
    next = { next: new Map() };
    node.next.set(part, next);
  }
  return next;
}

/** The engine's decisions, made once per case. */
export class DecisionMemo {
  private readonly cases: CaseMemo<Decision>;

  constructor(
    private readonly engine: DecisionEngine,
    data: Pick<EngineData, 'policies' | 'exemptions'>,
  ) {
    this.cases = new CaseMemo([data]);
  }

  /** The engine's decision for the attempt, as engine.decide(signals, device, occurredAt) gives it. */
  decide(signals: Signals, device: DeviceFacts, occurredAt: Date): Decision {
    return this.decideFromReadings(this.engine.readSignals(signals, occurredAt, device), device, occurredAt);
  }

  /** The engine's decision on signals already read, as engine.decideFromReadings gives it. */
  decideFromReadings(readings: SignalReading[], device: DeviceFacts, occurredAt: Date): Decision {
    return this.cases.find(readings, device, occurredAt.getTime(), () =>
      this.engine.decideFromReadings(readings, device, occurredAt),
    );
  }
}
