import { checkRules } from '../policies/policy-rules';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { DecisionOutcome } from '../activations/activation-attempt.entity';
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
import { replay, ReplayChange, replayEngines, ReplayRow } from './simulation-replay';

export interface SimulationOptions {
  /** Worker threads deciding batches; 0 decides on this thread. Default: one per core. */
  threads?: number;
  /** How many attempts are decided here before the threads start (starting them costs more than a small window). */
  threadedFrom?: number;
  /** Told every few seconds how many attempts were read, of about how many (from the hourly rollup). */
  onProgress?: (done: number, expected: number) => void;
}

const THREADED_FROM_ATTEMPTS = 50_000;
const BATCH_SIZE = 2_000;
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

/** What the replay reads of each attempt. */
const SLICE_PROPERTIES = ['deviceId', 'occurredAt', 'signals', 'signalsPurgedAt', 'fixSpeedKmh'] as const;
/** Attempts are read a slice of time at a time: 6 hours of a busy service fit in memory. */
const SLICE_MS = 6 * 3_600_000;
const MAX_WINDOW_DAYS = 366;
const SAMPLE_SIZE = 20;
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

  const { attempt, device } = reportTables(context.dataSource);
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
      if (!changedDevices.has(deviceId) && result.sampleDeviceIds.length < SAMPLE_SIZE)
        result.sampleDeviceIds.push(deviceId);
      changedDevices.add(deviceId);
      tally(transitions, `${from}>${to}`, deviceId);
      tally(byRegion, `${regionCode ?? ''}|${from}>${to}`, deviceId);
    }
  };

  // Batches are decided here for a small window, and on worker threads (each with both engines)
  // once the window proves large; their changes are counted in reading order either way, so the
  // figures and the sample devices do not depend on which thread decided what.
  const threads = options.threads ?? availableParallelism();
  let pool: WorkerPool<ReplayRow[], ReplayChange[]> | null = null;
  const deciding: Promise<ReplayChange[]>[] = [];
  const decide = async (rows: ReplayRow[]) => {
    if (!pool && threads > 0 && result.attempts >= (options.threadedFrom ?? THREADED_FROM_ATTEMPTS))
      pool = new WorkerPool(
        join(__dirname, 'simulation.worker'),
        extname(__filename),
        {
          rules: portableRules(rules),
          simulated,
        },
        threads,
      );
    deciding.push(pool ? pool.run(rows) : Promise.resolve(replay(rows, engines)));
    while (deciding.length > threads * 2) count(await deciding.shift()!);
  };
  const reportProgress = progressReporter(options.onProgress, await expectedAttempts(context, input));

  // The window is read in slices of a few hours: each an index range read whole, with no sort
  // and no join (a join or a keyset page made the database sort or hash the rest of the window
  // again for every page). Device facts are looked up by primary key, once per device.
  const deviceFacts = new Map<number, { modelCode: string; partnerId: number }>();
  const readSlice = (sliceStart: number): Promise<Record<string, unknown>[]> => {
    const sliceEnd = Math.min(sliceStart + SLICE_MS, input.to.getTime());
    const parameters = new AttemptParameters(context.dataSource);
    const occurredAt = attempt.column('occurredAt');
    const reading: Promise<Record<string, unknown>[]> = context.dataSource.query(
      `SELECT ${SLICE_PROPERTIES.map((property) => `${attempt.column(property)} AS "${property}"`).join(', ')} ` +
        `FROM ${attempt.from} WHERE ${occurredAt} >= ${parameters.at(new Date(sliceStart))} AND ${occurredAt} < ${parameters.at(new Date(sliceEnd))}`,
      parameters.values,
    );
    // Awaited in its turn; marked handled now so that a failure while an earlier slice is still
    // being decided is not an unhandled rejection.
    reading.catch(() => undefined);
    return reading;
  };
  try {
    // The next slice is read while this one is decided: on PostgreSQL the database works meanwhile.
    let nextSlice = readSlice(input.from.getTime());
    for (let sliceStart = input.from.getTime(); sliceStart < input.to.getTime(); sliceStart += SLICE_MS) {
      const rows = await nextSlice;
      if (sliceStart + SLICE_MS < input.to.getTime()) nextSlice = readSlice(sliceStart + SLICE_MS);
      const unknown = [...new Set(rows.map((row) => Number(row.deviceId)))].filter((id) => !deviceFacts.has(id));
      for (let index = 0; index < unknown.length; index += 1_000) {
        const chunk = unknown.slice(index, index + 1_000);
        const chunkParameters = new AttemptParameters(context.dataSource);
        // Plain rows: building entities for a few hundred thousand devices cost seconds.
        const devices: Record<string, unknown>[] = await context.dataSource.query(
          `SELECT ${(['id', 'modelId', 'partnerId'] as const).map((property) => `${device.column(property)} AS "${property}"`).join(', ')} ` +
            `FROM ${device.from} WHERE ${device.column('id')} IN (${chunkParameters.list(chunk)})`,
          chunkParameters.values,
        );
        for (const device of devices) {
          deviceFacts.set(Number(device.id), {
            modelCode: rules.modelCodeById.get(Number(device.modelId)) ?? '',
            partnerId: Number(device.partnerId),
          });
        }
      }
      let batch: ReplayRow[] = [];
      for (const raw of rows) {
        // The signals stay JSON text: they are parsed where they are decided.
        const row = attempt.statements.hydrate(raw, ['occurredAt', 'signalsPurgedAt', 'fixSpeedKmh']);
        if (row.signalsPurgedAt) {
          result.skippedAttempts += 1;
          continue;
        }
        result.attempts += 1;
        const deviceId = Number(raw.deviceId);
        batch.push({
          deviceId,
          ...deviceFacts.get(deviceId)!,
          occurredAt: row.occurredAt!.getTime(),
          signals: raw.signals as string,
          recordedSpeedKmh: row.fixSpeedKmh ?? null,
        });
        if (batch.length === BATCH_SIZE) {
          await decide(batch);
          batch = [];
        }
      }
      if (batch.length) await decide(batch);
      reportProgress(result.attempts + result.skippedAttempts);
    }
    while (deciding.length) count(await deciding.shift()!);
  } finally {
    await (pool as WorkerPool<ReplayRow[], ReplayChange[]> | null)?.close();
  }
  result.changedDevices = changedDevices.size;
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
