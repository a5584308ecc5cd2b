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
 * - `rows`: SQLite's rows as better-sqlite3 reads them raw (an array of the seven values each;
 *   purged as 0 or 1): read by the worker thread that decides them (SqliteSlice), or on the
 *   request's thread for a small window or an in-memory database (then cloned to a thread, if any).
 * Cloning objects to a thread cost as much as deciding them: COPY text is handed over without a
 * copy, and a file database's rows are read where they are decided.
 */
export type ReplayBatch = { kind: 'copy'; text: Uint8Array } | { kind: 'rows'; rows: unknown[][] };

/**
 * A slice of a SQLite window for a worker thread to read on a connection of its own (and decide):
 * the statement, its parameters and the database file. Reading is most of a replay's work on
 * SQLite, so it is spread over the threads as deciding is (on PostgreSQL the server reads, in its
 * own process, while the threads decide).
 */
export interface SqliteSlice {
  kind: 'sqlite';
  file: string;
  sql: string;
  parameters: (string | number)[];
}

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

function unescapeCopy(field: string): string {
  return field.replace(/\\(.)/g, (_, escaped: string) => COPY_ESCAPES[escaped] ?? escaped);
}

const TAB = 9;
const NEWLINE = 10;
const MINUS = 45;
const ZERO = 48;
const BACKSLASH = 92;

/**
 * Reads a COPY line's fields from its bytes where they stand: a cursor over the batch, no string
 * per line, no array per attempt. The numeric fields are short and read digit by digit; only the
 * signals (the last field) become a string, and only for an attempt that is decided.
 */
class CopyCursor {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  /** Whether the field at the cursor is `\N` (null); if so, passes it. */
  private nullField(): boolean {
    const bytes = this.bytes;
    if (
      bytes[this.at] === BACKSLASH &&
      bytes[this.at + 1] === 78 &&
      (bytes[this.at + 2] === TAB || bytes[this.at + 2] === NEWLINE)
    ) {
      this.at += 3;
      return true;
    }
    return false;
  }

  /** The field's end (its tab or newline), from the cursor. */
  private fieldEnd(): number {
    const bytes = this.bytes;
    let end = this.at;
    while (end < bytes.length && bytes[end] !== TAB && bytes[end] !== NEWLINE) end += 1;
    return end;
  }

  /** An integer field (ids, epoch milliseconds: well within 2^53), or null. */
  integer(): number | null {
    if (this.nullField()) return null;
    const bytes = this.bytes;
    let at = this.at;
    const negative = bytes[at] === MINUS;
    if (negative) at += 1;
    let value = 0;
    for (let byte = bytes[at]; byte !== TAB && byte !== NEWLINE && at < bytes.length; byte = bytes[++at]) {
      const digit = byte - ZERO;
      // Anything but digits (there is none in these columns): read as Number() reads it.
      if (digit < 0 || digit > 9) return this.number();
      value = value * 10 + digit;
    }
    this.at = at + 1;
    return negative ? -value : value;
  }

  /** A number field as Number() reads its text (a double precision column: `Infinity`, exponents), or null. */
  number(): number | null {
    if (this.nullField()) return null;
    const end = this.fieldEnd();
    const value = Number(this.bytes.toString('latin1', this.at, end));
    this.at = end + 1;
    return value;
  }

  /** A boolean field (`t` or `f`). */
  boolean(): boolean {
    const value = this.bytes[this.at] === 116;
    this.at = this.fieldEnd() + 1;
    return value;
  }

  /** The last field of the line as text (unescaped), or null; `read` false passes it unread. */
  lastText(read: boolean): string | null {
    let end = this.bytes.indexOf(NEWLINE, this.at);
    if (end < 0) end = this.bytes.length;
    const start = this.at;
    this.at = end + 1;
    if (!read) return null;
    if (end - start === 2 && this.bytes[start] === BACKSLASH && this.bytes[start + 1] === 78) return null;
    const text = this.bytes.toString('utf8', start, end);
    return text.includes('\\') ? unescapeCopy(text) : text;
  }
}

/** The batch's changes, in the batch's order; `modelCodeById` names the models by id. */
export function replayBatch(
  batch: ReplayBatch,
  engines: ReplayEngines,
  modelCodeById: ReadonlyMap<number, string>,
): ReplayOutcome {
  const outcome: ReplayOutcome = { attempts: 0, skippedAttempts: 0, changes: [] };
  const replay = (
    deviceId: number,
    occurredAt: number,
    purged: boolean,
    speed: number | null,
    modelId: number | null,
    partnerId: number | null,
    signals: string | null,
  ) => {
    if (purged) {
      outcome.skippedAttempts += 1;
      return;
    }
    outcome.attempts += 1;
    const change = replayOne(
      {
        deviceId,
        // Read only when the rules look at them (ReplayEngines.deviceFacts): no model, no partner matches otherwise.
        modelCode: modelId === null ? '' : (modelCodeById.get(modelId) ?? ''),
        partnerId: partnerId === null ? -1 : partnerId,
        occurredAt,
        signals: signals as string,
        recordedSpeedKmh: speed,
      },
      engines,
    );
    if (change) outcome.changes.push(change);
  };
  if (batch.kind === 'rows') {
    for (const row of batch.rows)
      replay(
        row[0] as number,
        row[1] as number,
        row[2] === 1,
        row[3] as number | null,
        row[4] as number | null,
        row[5] as number | null,
        row[6] as string,
      );
    return outcome;
  }
  const cursor = new CopyCursor(Buffer.from(batch.text.buffer, batch.text.byteOffset, batch.text.byteLength));
  while (!cursor.done) {
    const deviceId = cursor.integer()!;
    const occurredAt = cursor.integer()!;
    const purged = cursor.boolean();
    const speed = cursor.number();
    const modelId = cursor.integer();
    const partnerId = cursor.integer();
    // A purged attempt's signals are not read at all.
    replay(deviceId, occurredAt, purged, speed, modelId, partnerId, cursor.lastText(!purged));
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
