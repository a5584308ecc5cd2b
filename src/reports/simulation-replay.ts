import { DecisionOutcome } from '../activations/activation-attempt.entity';
import { DecisionMemo } from '../decisions/engine/decision-memo';
import { DecisionEngine, EngineData } from '../decisions/engine/engine';
import { CompiledPolicy, Decision, Signals } from '../decisions/engine/types';

/*
 * The replay at the heart of a what-if: each attempt decided with the rules in force and with the
 * draft. Plain data in and out, so it runs on the request's thread or on worker threads alike.
 */

/** One attempt to replay: its device's facts and its signals as stored (JSON text or parsed). */
export interface ReplayRow {
  deviceId: number;
  modelCode: string;
  partnerId: number;
  occurredAt: number;
  signals: string | Signals;
  /** The speed the fix implied when the attempt was decided (the travel rule reads it, not the neighbours again). */
  recordedSpeedKmh: number | null;
}

/** An attempt whose effective outcome the draft changes. */
export interface ReplayChange {
  deviceId: number;
  from: DecisionOutcome;
  to: DecisionOutcome;
  regionCode: string | null;
}

/** What a decision does to the device: a MONITOR-mode outcome does nothing, so it counts as ALLOW. */
function effectiveOutcome(decision: Decision): DecisionOutcome {
  return decision.enforced ? (decision.outcome as DecisionOutcome) : DecisionOutcome.ALLOW;
}

/**
 * What replays a window: the rules in force and the draft (the simulated policy in place of the
 * policy of the same key, or beside the others), each deciding once per case of reading, device
 * facts and period (decision-memo.ts): a window of millions of attempts holds a few thousand
 * cases, and a decision costs more than reading the signals it is made on.
 */
export interface ReplayEngines {
  /** Reads the signals once for both: the two share the reference data. */
  reader: DecisionEngine;
  current: DecisionMemo;
  draft: DecisionMemo;
}

export function replayEngines(
  engine: DecisionEngine,
  engineData: EngineData,
  simulated: CompiledPolicy,
): ReplayEngines {
  const draft: EngineData = {
    ...engineData,
    policies: [...engineData.policies.filter((policy) => policy.policyKey !== simulated.policyKey), simulated],
  };
  return {
    reader: engine,
    current: new DecisionMemo(engine, engineData),
    draft: new DecisionMemo(new DecisionEngine(draft), draft),
  };
}

/** The rows' changes, in the rows' order. */
export function replay(rows: readonly ReplayRow[], { reader, current, draft }: ReplayEngines): ReplayChange[] {
  const changes: ReplayChange[] = [];
  for (const row of rows) {
    const device = {
      deviceId: row.deviceId,
      modelCode: row.modelCode,
      partnerId: row.partnerId,
      locked: false,
      lockedByVersionId: null,
      recordedSpeedKmh: row.recordedSpeedKmh,
    };
    const signals = (typeof row.signals === 'string' ? JSON.parse(row.signals) : row.signals) as Signals;
    const at = new Date(row.occurredAt);
    const readings = reader.readSignals(signals, at, device);
    const before = effectiveOutcome(current.decideFromReadings(readings, device, at));
    const decision = draft.decideFromReadings(readings, device, at);
    const after = effectiveOutcome(decision);
    if (before !== after)
      changes.push({ deviceId: row.deviceId, from: before, to: after, regionCode: decision.regionCode });
  }
  return changes;
}
