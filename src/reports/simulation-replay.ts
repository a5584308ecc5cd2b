import { DecisionOutcome } from '../activations/activation-attempt.entity';
import { CaseMemo } from '../decisions/engine/decision-memo';
import { DecisionEngine, EngineData } from '../decisions/engine/engine';
import { CompiledPolicy, Decision, Signals } from '../decisions/engine/types';

/*
 * The replay at the heart of a what-if: each attempt decided with the rules in force and with the
 * draft. Plain data in and out, so it runs on the request's thread or on worker threads alike.
 */

/**
 * Attempts to replay, as read: seven values per attempt — device id, occurredAt (epoch ms),
 * whether its signals were purged, the fix speed recorded (or null), the device's model id and
 * partner id (null when the rules look at neither: not read then), and the signals as JSON text.
 * - `copy`: PostgreSQL `COPY … TO STDOUT` text, one line per attempt (tab-separated, `\N` for
 *   null, backslash escapes), whole lines only; handed to a worker thread without a copy.
 * - `values`: the same values in one flat array (SQLite's rows): a clone of numbers and strings.
 * Neither is an array of objects: cloning objects to a thread cost as much as deciding them.
 */
export type ReplayBatch = { kind: 'copy'; text: Uint8Array } | { kind: 'values'; values: unknown[] };

/** The values of one attempt in a batch. */
export const REPLAY_VALUES_PER_ATTEMPT = 7;

/** What a batch replayed to: its attempts counted, those without signals skipped, the changes in reading order. */
export interface ReplayOutcome {
  attempts: number;
  skippedAttempts: number;
  changes: ReplayChange[];
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
 * policy of the same key, or beside the others), with what the draft changes remembered once per
 * case of reading, device facts and period of either rule set (decision-memo.ts): a window of
 * millions of attempts holds a few thousand cases, and a decision costs more than reading the
 * signals it is made on.
 */
export interface ReplayEngines {
  /** Reads the signals once for both: the two share the reference data. */
  reader: DecisionEngine;
  current: DecisionEngine;
  draft: DecisionEngine;
  /** Per case: the change the draft makes (without the device id), or null. */
  changes: CaseMemo<Omit<ReplayChange, 'deviceId'> | null>;
  /** Which device facts either set of rules looks at: the replay reads only those. */
  deviceFacts: { model: boolean; partner: boolean };
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
  const changes = new CaseMemo<Omit<ReplayChange, 'deviceId'> | null>([engineData, draft]);
  return {
    reader: engine,
    current: engine,
    draft: new DecisionEngine(draft),
    changes,
    deviceFacts: changes.deviceFactsMatter,
  };
}

/** COPY text's escapes (PostgreSQL writes these for a text column's backslashes and control characters). */
const COPY_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function copyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.)/g, (_, escaped: string) => COPY_ESCAPES[escaped] ?? escaped);
}

/** A batch's attempts as the seven values each, in reading order. */
function* attemptValues(batch: ReplayBatch): Generator<unknown[]> {
  if (batch.kind === 'values') {
    for (let at = 0; at < batch.values.length; at += REPLAY_VALUES_PER_ATTEMPT)
      yield batch.values.slice(at, at + REPLAY_VALUES_PER_ATTEMPT);
    return;
  }
  const text = new TextDecoder().decode(batch.text);
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) return;
    const fields = text.slice(start, end).split('\t').map(copyField);
    start = end + 1;
    yield [
      Number(fields[0]),
      Number(fields[1]),
      fields[2] === 't',
      fields[3] === null ? null : Number(fields[3]),
      fields[4] === null ? null : Number(fields[4]),
      fields[5] === null ? null : Number(fields[5]),
      fields[6],
    ];
  }
}

/** The batch's changes, in the batch's order; `modelCodeById` names the models by id. */
export function replayBatch(
  batch: ReplayBatch,
  engines: ReplayEngines,
  modelCodeById: ReadonlyMap<number, string>,
): ReplayOutcome {
  const outcome: ReplayOutcome = { attempts: 0, skippedAttempts: 0, changes: [] };
  for (const [deviceId, occurredAt, purged, speed, modelId, partnerId, signals] of attemptValues(batch)) {
    if (purged) {
      outcome.skippedAttempts += 1;
      continue;
    }
    outcome.attempts += 1;
    const change = replayOne(
      {
        deviceId: deviceId as number,
        // Read only when the rules look at them (ReplayEngines.deviceFacts): no model, no partner matches otherwise.
        modelCode: modelId === null ? '' : (modelCodeById.get(modelId as number) ?? ''),
        partnerId: partnerId === null ? -1 : (partnerId as number),
        occurredAt: occurredAt as number,
        signals: signals as string,
        recordedSpeedKmh: speed as number | null,
      },
      engines,
    );
    if (change) outcome.changes.push(change);
  }
  return outcome;
}

/** One attempt to replay: its device's facts and its signals as stored. */
interface ReplayRow {
  deviceId: number;
  modelCode: string;
  partnerId: number;
  occurredAt: number;
  signals: string;
  /** The speed the fix implied when the attempt was decided (the travel rule reads it, not the neighbours again). */
  recordedSpeedKmh: number | null;
}

function replayOne(row: ReplayRow, { reader, current, draft, changes }: ReplayEngines): ReplayChange | null {
  const device = {
    deviceId: row.deviceId,
    modelCode: row.modelCode,
    partnerId: row.partnerId,
    locked: false,
    lockedByVersionId: null,
    recordedSpeedKmh: row.recordedSpeedKmh,
  };
  const signals = JSON.parse(row.signals) as Signals;
  const at = new Date(row.occurredAt);
  const readings = reader.readSignals(signals, at, device);
  const change = changes.find(readings, device, row.occurredAt, () => {
    const before = effectiveOutcome(current.decideFromReadings(readings, device, at));
    const decision = draft.decideFromReadings(readings, device, at);
    const after = effectiveOutcome(decision);
    return before === after ? null : { from: before, to: after, regionCode: decision.regionCode };
  });
  return change && { deviceId: row.deviceId, ...change };
}
