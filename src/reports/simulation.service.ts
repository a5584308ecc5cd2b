import { checkRules } from '../policies/policy-rules';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import type { Statement } from 'better-sqlite3';
import { ATTEMPTS_BY_TIME_INDEX, DecisionOutcome } from '../activations/activation-attempt.entity';
import { BadUserInputError } from '../common/errors';
import { checkTimeRange } from '../common/filter-bounds';
import { RequestScope } from '../common/request-scope';
import { SqlParameters } from '../db/prepared';
import { CompiledPolicy } from '../decisions/engine/types';
import type { CompiledRules } from '../decisions/evaluator';
import { PolicySimulation, SimulatePolicyInput } from './report.types';
import { AttemptParameters } from './report.service';
import { reportTables } from './report-tables';
import { WorkerPool } from '../common/worker-threads';
import { portableRules } from '../decisions/portable-rules';
import {
  ReplayBatch,
  replayBatch,
  ReplayChange,
  replayEngines,
  ReplayEngines,
  ReplayOutcome,
  SqliteSlice,
} from './simulation-replay';
import { to as copyTo } from 'pg-copy-streams';
import { openBulkConnection, sqliteDatabaseOf } from '../db/pool';
import { onSqliteConnection } from '../db/transactions';

export interface SimulationOptions {
  /** Worker threads deciding batches; 0 decides on this thread. Default: one per core. */
  threads?: number;
  /** How many attempts are decided here before the threads start (starting them costs more than a small window). */
  threadedFrom?: number;
  /** Told every few seconds how many attempts were read, of about how many (from the hourly rollup). */
  onProgress?: (done: number, expected: number) => void;
  /** SQLite: read the window in this order rather than the one its id span calls for, and so many ids a slice (tests compare them). */
  sqliteRead?: { order: SqliteReadOrder; idsPerSlice?: number };
}

const THREADED_FROM_ATTEMPTS = 50_000;
/** Attempts per batch read on SQLite's one connection (threads read their own slices); on PostgreSQL a batch is COPY_BATCH_BYTES of COPY text (about 1,700 attempts). */
const BATCH_SIZE = 2_000;
const COPY_BATCH_BYTES = 256 * 1024;
/** Batches handed to the threads and not yet decided, per thread (256 kB of COPY text each at most). */
const BATCHES_AHEAD_PER_THREAD = 4;
const PROGRESS_EVERY_MS = 5_000;

/** About how many attempts the window holds: the hourly rollup's count over the hours it touches. */
async function expectedAttempts(context: RequestScope, input: SimulatePolicyInput): Promise<number> {
  const { hourlyRollup } = reportTables(context.dataSource);
  const parameters = new SqlParameters(hourlyRollup.statements);
  const hour = (instant: Date) => new Date(Math.floor(instant.getTime() / 3_600_000) * 3_600_000);
  const hourStart = hourlyRollup.column('hourStart');
  const [row] = await context.dataSource.query(
    `SELECT COALESCE(SUM(${hourlyRollup.column('attempts')}), 0) AS "attempts" FROM ${hourlyRollup.from} ` +
      `WHERE ${hourStart} >= ${parameters.instant(hour(input.from), 'hourStart')} ` +
      `AND ${hourStart} < ${parameters.instant(hour(new Date(input.to.getTime() + 3_599_999)), 'hourStart')}`,
    parameters.values,
  );
  return Number(row.attempts);
}

function progressReporter(onProgress: SimulationOptions['onProgress'], expected: number) {
  let last = Date.now();
  return (done: number) => {
    if (!onProgress || Date.now() - last < PROGRESS_EVERY_MS) return;
    last = Date.now();
    onProgress(done, Math.max(expected, done));
  };
}

const MAX_WINDOW_DAYS = 366;
const SAMPLE_SIZE = 20;

/**
 * The sample of changed devices: the `size` lowest ids, ascending. Not the first ones met: which
 * come first depends on how the window was read (by time, by id, in SQLite's slices), and the same
 * simulation of the same data answers the same devices. (A typed array sorts numbers natively: a
 * quarter of a second for a million ids.)
 */
function lowestIds(ids: Set<number>, size: number): number[] {
  return Array.from(Float64Array.from(ids).sort().subarray(0, size));
}
const SIMULATED_VERSION_ID = -1;

/** The simulated policy, on top of the active version of the policy it changes (if any). */
function simulatedPolicy(
  input: SimulatePolicyInput['policy'],
  base: CompiledPolicy | undefined,
  known: { regions: ReadonlyMap<string, number>; models: ReadonlySet<string> },
): CompiledPolicy {
  const field = (name: string) => `input.policy.${name}`;
  const action = input.action ?? base?.action;
  const mode = input.mode ?? base?.mode;
  const effectiveFrom = input.effectiveFrom?.getTime() ?? base?.effectiveFrom;
  const regionCodes =
    input.regionCodes?.map((code) => code.trim().toUpperCase()) ?? (base ? [...base.regionCodes] : undefined);
  if (!action) throw new BadUserInputError(field('action'), 'is required for a new policy');
  if (!mode) throw new BadUserInputError(field('mode'), 'is required for a new policy');
  if (effectiveFrom === undefined) throw new BadUserInputError(field('effectiveFrom'), 'is required for a new policy');
  if (!regionCodes || regionCodes.length === 0)
    throw new BadUserInputError(field('regionCodes'), 'name at least one region');
  const productScope = input.productScope ?? (base?.modelCodes ? [...base.modelCodes] : []);
  const effectiveUntil =
    input.effectiveUntil === undefined ? (base?.effectiveUntil ?? null) : (input.effectiveUntil?.getTime() ?? null);
  const [problem] = checkRules(
    {
      regionCodes,
      productScope,
      effectiveFrom: new Date(effectiveFrom),
      effectiveUntil: effectiveUntil === null ? null : new Date(effectiveUntil),
    },
    { hasRegion: (code) => known.regions.has(code), hasModel: (code) => known.models.has(code) },
    ['policy'],
  );
  if (problem) throw BadUserInputError.of(problem);
  return {
    versionId: SIMULATED_VERSION_ID,
    policyKey: input.policyKey ?? 'simulated-policy',
    versionNumber: (base?.versionNumber ?? 0) + 1,
    action,
    mode,
    priority: input.priority ?? base?.priority ?? 0,
    effectiveFrom,
    effectiveUntil,
    regionCodes: new Set(regionCodes),
    modelCodes: productScope.length ? new Set(productScope) : null,
  };
}

/**
 * Replays the recorded attempts of a window through the decision engine twice — with the rules in
 * force and with the simulated policy in place — and counts what would change. The same engine
 * as decideActivation, built from the same compiled rules; nothing is written. Each attempt is
 * judged on its own (a device locked by an earlier attempt is not assumed locked), so the figures
 * say what the rules decide, not what history did.
 */
export async function simulatePolicy(
  context: RequestScope,
  rules: CompiledRules,
  input: SimulatePolicyInput,
  options: SimulationOptions = {},
): Promise<PolicySimulation> {
  checkTimeRange('input.to', 'from', input.from, input.to, MAX_WINDOW_DAYS);
  const current = rules.engineData.policies;
  // A policy is compiled once per version window; the latest version is what a change starts from.
  const base = input.policy.policyKey
    ? current.filter((policy) => policy.policyKey === input.policy.policyKey).pop()
    : undefined;
  const simulated = simulatedPolicy(input.policy, base, {
    regions: rules.regionIdByCode,
    models: new Set(rules.modelCodeById.values()),
  });
  const engines = replayEngines(rules.engine, rules.engineData, simulated);

  const result: PolicySimulation = {
    attempts: 0,
    skippedAttempts: 0,
    changedAttempts: 0,
    changedDevices: 0,
    transitions: [],
    byRegion: [],
    sampleDeviceIds: [],
  };
  const changedDevices = new Set<number>();
  const transitions = new Map<string, { attempts: number; devices: Set<number> }>();
  const byRegion = new Map<string, { attempts: number; devices: Set<number> }>();
  const tally = (map: typeof transitions, key: string, deviceId: number) => {
    const entry = map.get(key) ?? { attempts: 0, devices: new Set<number>() };
    entry.attempts += 1;
    entry.devices.add(deviceId);
    map.set(key, entry);
  };
  const count = (changes: ReplayChange[]) => {
    for (const { deviceId, from, to, regionCode } of changes) {
      result.changedAttempts += 1;
      changedDevices.add(deviceId);
      tally(transitions, `${from}>${to}`, deviceId);
      tally(byRegion, `${regionCode ?? ''}|${from}>${to}`, deviceId);
    }
  };

  // Batches are decided here for a small window, and on worker threads (each with both engines)
  // for a large one; their changes are counted in reading order either way, so the figures and
  // the sample devices do not depend on which thread decided what.
  const expected = await expectedAttempts(context, input);
  const threads = options.threads ?? availableParallelism();
  const pool =
    threads > 0 && expected >= (options.threadedFrom ?? THREADED_FROM_ATTEMPTS)
      ? new WorkerPool<ReplayBatch | SqliteSlice, ReplayOutcome>(
          join(__dirname, 'simulation.worker'),
          extname(__filename),
          { rules: portableRules(rules), simulated },
          threads,
        )
      : null;
  const reportProgress = progressReporter(options.onProgress, expected);
  // Batches handed out, in reading order, each with its outcome once decided; counted from the
  // front as soon as the front one is decided, so the figures follow reading order.
  const deciding: { outcome?: ReplayOutcome; decided: Promise<void> }[] = [];
  let undecided = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const countDecided = () => {
    while (deciding.length && deciding[0].outcome) {
      const { outcome } = deciding.shift()!;
      result.attempts += outcome!.attempts;
      result.skippedAttempts += outcome!.skippedAttempts;
      count(outcome!.changes);
      reportProgress(result.attempts + result.skippedAttempts);
    }
  };
  const decide = async (batch: ReplayBatch | SqliteSlice) => {
    if (!pool) {
      if (batch.kind === 'sqlite') throw new Error('a SQLite slice is read on a worker thread');
      deciding.push({ outcome: replayBatch(batch, engines, rules.modelCodeById), decided: Promise.resolve() });
      countDecided();
      return;
    }
    const entry: (typeof deciding)[number] = { decided: Promise.resolve() };
    undecided += 1;
    entry.decided = pool.run(batch, batch.kind === 'copy' ? [batch.text.buffer as ArrayBuffer] : []).then(
      (outcome) => {
        entry.outcome = outcome;
        undecided -= 1;
        wake?.();
      },
      (error: unknown) => {
        failure ??= error;
        undecided -= 1;
        wake?.();
      },
    );
    deciding.push(entry);
    // A few batches ahead per thread, counted by those not yet decided (not by the oldest one
    // still awaited): a thread that is ahead gets the next batch while the other finishes its
    // own. Past that the reading waits (on PostgreSQL the COPY stream pauses).
    while (failure === null && undecided >= Math.max(1, threads) * BATCHES_AHEAD_PER_THREAD)
      await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    if (failure !== null) throw failure;
    countDecided();
  };
  try {
    if (context.dataSource.options.type === 'postgres') await readByCopy(context, input, engines, decide);
    else await readOnSqlite(context, input, engines, decide, pool !== null, options.sqliteRead);
    await Promise.all(deciding.map((entry) => entry.decided));
    if (failure !== null) throw failure;
    countDecided();
  } finally {
    await pool?.close();
  }
  result.changedDevices = changedDevices.size;
  result.sampleDeviceIds = lowestIds(changedDevices, SAMPLE_SIZE);
  const split = (key: string) => key.split('>') as [DecisionOutcome, DecisionOutcome];
  result.transitions = [...transitions].map(([key, entry]) => {
    const [from, to] = split(key);
    return { from, to, attempts: entry.attempts, devices: entry.devices.size };
  });
  result.byRegion = [...byRegion].map(([key, entry]) => {
    const [regionCode, change] = key.split('|');
    const [from, to] = split(change);
    return { regionCode: regionCode || null, from, to, attempts: entry.attempts, devices: entry.devices.size };
  });
  return result;
}

/**
 * The replay's columns, in ReplayBatch's order. The device's model and partner are joined only
 * when the rules look at them (a version limited to models, an exemption naming a partner);
 * otherwise they are read as null and never matched.
 */
function replayColumns(context: RequestScope, engines: ReplayEngines, occurredAtMs: string, attemptFrom: string) {
  const { attempt, device } = reportTables(context.dataSource);
  const joinDevice = engines.deviceFacts.model || engines.deviceFacts.partner;
  return {
    columns: [
      attempt.column('deviceId'),
      occurredAtMs,
      `${attempt.column('signalsPurgedAt')} IS NOT NULL`,
      attempt.column('fixSpeedKmh'),
      engines.deviceFacts.model ? device.column('modelId') : 'NULL',
      engines.deviceFacts.partner ? device.column('partnerId') : 'NULL',
      attempt.column('signals'),
    ].join(', '),
    from: `${attemptFrom}${joinDevice ? ` JOIN ${device.from} ON ${device.column('id')} = ${attempt.column('deviceId')}` : ''}`,
    occurredAt: attempt.column('occurredAt'),
  };
}

/**
 * PostgreSQL: the whole window in one `COPY (SELECT …) TO STDOUT` on a connection of its own,
 * cut into batches of whole lines handed to the threads as they are (the database writes the
 * text; nothing is parsed on this thread). The stream waits while the threads are behind.
 */
async function readByCopy(
  context: RequestScope,
  input: SimulatePolicyInput,
  engines: ReplayEngines,
  decide: (batch: ReplayBatch) => Promise<void>,
): Promise<void> {
  // Milliseconds as the stored instant is read everywhere else (the driver drops microseconds).
  const { attempt } = reportTables(context.dataSource);
  const { columns, from, occurredAt } = replayColumns(
    context,
    engines,
    `FLOOR(EXTRACT(EPOCH FROM ${attempt.column('occurredAt')}) * 1000)::bigint`,
    attempt.from,
  );
  // COPY takes no parameters: the instants are written from Date.toISOString(), nothing a client typed.
  const sql =
    `COPY (SELECT ${columns} FROM ${from} WHERE ${occurredAt} >= '${input.from.toISOString()}'::timestamptz ` +
    `AND ${occurredAt} < '${input.to.toISOString()}'::timestamptz) TO STDOUT`;
  const client = await openBulkConnection(context.dataSource);
  try {
    const stream = client.query(copyTo(sql));
    let held: Buffer[] = [];
    let heldBytes = 0;
    const send = async (final: boolean) => {
      // A batch of its own memory (not a slice of Node's shared buffer pool), so that handing it
      // over moves nothing else; the part line after the last whole line is kept for the next.
      const text = new Uint8Array(heldBytes);
      let at = 0;
      for (const chunk of held) {
        text.set(chunk, at);
        at += chunk.length;
      }
      const end = final ? text.length : text.lastIndexOf(10) + 1;
      held = end < text.length ? [Buffer.from(text.subarray(end))] : [];
      heldBytes = text.length - end;
      if (end > 0) await decide({ kind: 'copy', text: end === text.length ? text : text.subarray(0, end) });
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes >= COPY_BATCH_BYTES) await send(false);
    }
    if (heldBytes) await send(true);
  } finally {
    await client.end();
  }
}

/**
 * SQLite reads the window in one of two orders. By time, through the `occurredAt` index: each row
 * is then a lookup into the table by id, which costs a page read per row unless ids follow time —
 * they do where a service appended attempts as they arrived, they do not where history was loaded
 * device by device (the seed generator, most imports), and then a 30-day window of 10^7 attempts
 * took 28–49 s to read alone. By id, the table's own pages in sequence, every row between the
 * window's first and last id read and the window's picked out. The window's id span and count come
 * from the index alone (no table page); the id order wins when the span holds no more than
 * ID_ORDER_MAX_SPAN ids per attempt of the window (ids of deleted rows count: they are skipped, not
 * read). Measured at 6 × 10^6, one thread: by time 15.6 µs of processor time per attempt, by id
 * 1.1 µs per id of the span — the id order pays up to 14 ids per attempt; 12 leaves a margin for
 * the time order, which live data (ids in time order) always takes. README, scale section.
 * Either way the window is read as it stood when its span was read: ids only grow (AUTOINCREMENT),
 * so attempts written meanwhile (a window ending now) are left out whichever slice they fall in.
 */
const ID_ORDER_MAX_SPAN = 12;

export type SqliteReadOrder = 'time' | 'id';

/** On SQLite attempts are read a slice at a time (6 hours, or 50,000 ids), so other statements run between slices. */
const SLICE_MS = 6 * 3_600_000;
const ID_SLICE = 50_000;

/** The window's first and last id and its attempts, from the `occurredAt` index alone. */
interface WindowSpan {
  first: number;
  last: number;
  attempts: number;
}

function sqliteReadOrder(span: WindowSpan): SqliteReadOrder {
  return span.last - span.first + 1 <= span.attempts * ID_ORDER_MAX_SPAN ? 'id' : 'time';
}

async function readOnSqlite(
  context: RequestScope,
  input: SimulatePolicyInput,
  engines: ReplayEngines,
  decide: (batch: ReplayBatch | SqliteSlice) => Promise<void>,
  onThreads: boolean,
  forced: SimulationOptions['sqliteRead'],
): Promise<void> {
  const { attempt } = reportTables(context.dataSource);
  const sqlite = sqliteDatabaseOf(context.dataSource)!;
  const id = attempt.column('id');
  const occurredAt = attempt.column('occurredAt');
  const timeSlices: (string | number)[][] = [];
  for (let sliceStart = input.from.getTime(); sliceStart < input.to.getTime(); sliceStart += SLICE_MS) {
    const parameters = new AttemptParameters(context.dataSource);
    parameters.at(new Date(sliceStart));
    parameters.at(new Date(Math.min(sliceStart + SLICE_MS, input.to.getTime())));
    timeSlices.push(parameters.values as string[]);
  }
  const onConnection = <T>(statement: Statement, parameters: unknown[]) =>
    onSqliteConnection(context.dataSource, () => statement.all(...parameters) as T[]);

  const span: WindowSpan = { first: Infinity, last: -Infinity, attempts: 0 };
  const spanOfSlice = sqlite.prepare(
    `SELECT MIN(${id}) AS "first", MAX(${id}) AS "last", COUNT(*) AS "attempts" ` +
      `FROM ${attempt.through(ATTEMPTS_BY_TIME_INDEX)} WHERE ${occurredAt} >= ? AND ${occurredAt} < ?`,
  );
  for (const parameters of timeSlices) {
    const [slice] = await onConnection<{ first: number | null; last: number | null; attempts: number }>(
      spanOfSlice,
      parameters,
    );
    if (slice.first === null || slice.last === null) continue;
    span.first = Math.min(span.first, slice.first);
    span.last = Math.max(span.last, slice.last);
    span.attempts += slice.attempts;
  }
  if (span.attempts === 0) return;

  // The stored instant (a UTC datetime text) as epoch milliseconds, as the driver would read it.
  const occurredAtMs = `CAST(ROUND(unixepoch(${occurredAt}, 'subsec') * 1000) AS INTEGER)`;
  let sql: string;
  let slices: (string | number)[][];
  if ((forced?.order ?? sqliteReadOrder(span)) === 'time') {
    const { columns, from } = replayColumns(context, engines, occurredAtMs, attempt.from);
    sql = `SELECT ${columns} FROM ${from} WHERE ${occurredAt} >= ? AND ${occurredAt} < ? AND ${id} <= ?`;
    slices = timeSlices.map((parameters) => [...parameters, span.last]);
  } else {
    // NOT INDEXED keeps SQLite on the table's own b-tree (an id range), off the occurredAt index.
    const { columns, from } = replayColumns(context, engines, occurredAtMs, `${attempt.from} NOT INDEXED`);
    sql = `SELECT ${columns} FROM ${from} WHERE ${id} >= ? AND ${id} < ? AND ${occurredAt} >= ? AND ${occurredAt} < ?`;
    const [windowStart, windowEnd] = [timeSlices[0][0], timeSlices[timeSlices.length - 1][1]];
    const idsPerSlice = forced?.idsPerSlice ?? ID_SLICE;
    slices = [];
    for (let sliceStart = span.first; sliceStart <= span.last; sliceStart += idsPerSlice)
      slices.push([sliceStart, Math.min(sliceStart + idsPerSlice, span.last + 1), windowStart, windowEnd]);
  }
  // On threads each reads its slices on a connection of its own. An in-memory database has no
  // other: its rows are read here and handed over (cloned), as a small window's are decided here.
  if (onThreads && !sqlite.memory) {
    for (const parameters of slices) await decide({ kind: 'sqlite', file: sqlite.name, sql, parameters });
    return;
  }
  const statement = sqlite.prepare(sql).raw();
  for (const parameters of slices) {
    const rows = await onConnection<unknown[]>(statement, parameters);
    for (let start = 0; start < rows.length; start += BATCH_SIZE)
      await decide({ kind: 'rows', rows: rows.slice(start, start + BATCH_SIZE) });
  }
}
