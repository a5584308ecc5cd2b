import { extname, join } from 'node:path';
import seedrandom from 'seedrandom';
import { WorkerPool } from '../common/worker-threads';
import { portableRules } from '../decisions/portable-rules';
import { DecisionOutcome, RegionSource, ReviewStatus } from '../activations/activation-attempt.entity';
import { BulkAttempt, EncodedAttempts, encodeAttempts, IngestDialect } from '../activations/attempt-encoding';
import { CompiledRules } from '../decisions/evaluator';
import { loadCountryCodes, loadSubdivisionBoundaries } from '../decisions/reference-data';
import { DecisionEngine } from '../decisions/engine/engine';
import { DecisionMemo } from '../decisions/engine/decision-memo';
import { PlaceLocator } from './place-locator';
import { DeviceBefore, GeneratedDeviceState, decisionTransition, deviceColumns } from '../devices/device-lifecycle';
import { DeviceStatus } from '../devices/device.entity';
import { places } from './places';

/*
 * The generated attempts, apart from the database: the same code runs on the seeding thread for
 * small runs and on worker threads for large ones, and gives the same attempts either way. The
 * attempts come in chunks of about CHUNK_SIZE, each from its own random stream (seed and chunk
 * number) and for its own range of devices, so chunks can be made in any order, on any thread, and
 * still be the same — and each device's history is made whole in one chunk: its attempts decided in
 * the order they arrive, each seeing the device as the attempts before left it, through the device
 * lifecycle's own transition rules (a locked device's later attempts are refused as already locked).
 */

export const CHUNK_SIZE = 10_000;

export type Random = () => number;

export function pickWeighted<T extends { weight: number }>(random: Random, items: T[]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let point = random() * total;
  for (const item of items) {
    point -= item.weight;
    if (point < 0) return item;
  }
  return items[items.length - 1];
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

export interface GeneratorRegion {
  id: number;
  code: string;
  parentId: number | null;
  mobileCountryCodes: string[];
}

export interface GeneratedAttempt {
  id: number;
  deviceIndex: number;
  occurredAt: Date;
  receivedAt: Date;
  signals: object;
  resolvedRegionId: number | null;
  source: RegionSource;
  outcome: DecisionOutcome;
  enforced: boolean;
  policyVersionId: number | null;
  reasonCodes: string[];
}

export interface GeneratedDevices {
  firstDeviceId: number;
  markets: Int32Array;
  modelCodes: string[];
  partnerIds: Int32Array;
}

/** What a chunk is made from: plain data, so it crosses to a worker thread. */
export interface AttemptPlan {
  seed: string;
  /** The id the first attempt gets; the rest follow in chunk order. */
  firstAttemptId: number;
  attempts: number;
  regions: GeneratorRegion[];
  devices: GeneratedDevices;
  windowStart: number;
  days: number;
  /** The database the attempts are encoded for (on the thread that makes them). */
  dialect: IngestDialect;
}

export interface World {
  regionById: Map<number, GeneratorRegion>;
  regionByCode: Map<string, GeneratorRegion>;
  /** The same compiled rules decideActivation uses: generated history is decided by the real engine. */
  rules: CompiledRules;
  placesByMarket: Map<string, typeof places>;
  /**
   * The rules' engine with a locator that knows the generator's places, deciding once per case:
   * the same decisions as rules.engine, at a fraction of the cost (place-locator.ts, decision-memo.ts).
   */
  decisions: DecisionMemo;
}

export function worldOf(regions: GeneratorRegion[], rules: CompiledRules, marketCodes: string[]): World {
  return {
    regionById: new Map(regions.map((region) => [region.id, region])),
    regionByCode: new Map(regions.map((region) => [region.code, region])),
    rules,
    placesByMarket: new Map(marketCodes.map((code) => [code, places.filter((place) => place.regionCode === code)])),
    decisions: new DecisionMemo(
      new DecisionEngine({
        ...rules.engineData,
        locator: new PlaceLocator(places, loadSubdivisionBoundaries(), loadCountryCodes()),
      }),
      rules.engineData,
    ),
  };
}

/** A device's status change in generated history, as its history row records it. */
export interface GeneratedChange {
  deviceIndex: number;
  from: DeviceStatus;
  to: DeviceStatus;
  attemptId: number;
  attemptOccurredAt: Date;
  at: Date;
  reason: string;
}

/** A chunk: its attempts in id order, the status changes they made, and the state they left their devices in. */
export interface GeneratedChunk {
  attempts: GeneratedAttempt[];
  changes: GeneratedChange[];
  /** Devices of the chunk's range with attempts, by index; the others stay NEW. */
  states: (Omit<GeneratedDeviceState, 'id'> & { deviceIndex: number })[];
}

/** A chunk as it crosses to the writing thread: its attempts encoded for the database (strings and numbers, cheap to pass). */
export interface EncodedChunk extends Omit<GeneratedChunk, 'attempts'> {
  attempts: EncodedAttempts;
}

/** A generated attempt as the bulk path writes it: an enforced REVIEW waits in the review queue. */
export function bulkAttemptOf(attempt: GeneratedAttempt, firstDeviceId: number): BulkAttempt {
  return {
    id: attempt.id,
    deviceId: firstDeviceId + attempt.deviceIndex,
    occurredAt: attempt.occurredAt,
    receivedAt: attempt.receivedAt,
    signals: attempt.signals,
    signalsPurgedAt: null,
    resolvedRegionId: attempt.resolvedRegionId,
    regionSource: attempt.source,
    outcome: attempt.outcome,
    enforced: attempt.enforced,
    policyVersionId: attempt.policyVersionId,
    reasonCodes: attempt.reasonCodes,
    reviewStatus: attempt.outcome === DecisionOutcome.REVIEW && attempt.enforced ? ReviewStatus.OPEN : null,
    idempotencyKey: null,
  };
}

/** Chunk `index` of the plan, its attempts encoded for the plan's database. */
export function encodedChunk(plan: AttemptPlan, world: World, index: number): EncodedChunk {
  const { attempts, changes, states } = generateChunk(plan, world, index);
  const rows = attempts.map((attempt) => bulkAttemptOf(attempt, plan.devices.firstDeviceId));
  return { attempts: encodeAttempts(rows, plan.dialect, true), changes, states };
}

/** How many chunks a plan has: about CHUNK_SIZE attempts each, and never more chunks than devices. */
export function chunkCount(plan: Pick<AttemptPlan, 'attempts' | 'devices'>): number {
  if (plan.attempts === 0) return 0;
  return Math.max(1, Math.min(Math.ceil(plan.attempts / CHUNK_SIZE), plan.devices.markets.length));
}

/**
 * Where one attempt of a device in [firstDevice, endDevice) is and what it sends: its home market
 * 60% of the time, else where people travel. Decided later, in arrival order per device.
 */
function generateAttempt(
  random: Random,
  world: World,
  devices: GeneratedDevices,
  firstDevice: number,
  endDevice: number,
  windowStart: number,
  days: number,
) {
  const deviceMarkets = devices.markets;
  const deviceIndex = firstDevice + Math.floor(random() * (endDevice - firstDevice));
  const occurredAt = new Date(windowStart + Math.floor(random() * days * 86_400_000));
  const lateBy = random() < 0.02 ? random() * 6 * 3_600_000 : random() * 5_000;
  const receivedAt = new Date(occurredAt.getTime() + Math.floor(lateBy));
  const homeMarket = world.regionById.get(deviceMarkets[deviceIndex])!;
  const homePlaces = world.placesByMarket.get(homeMarket.code) ?? [];
  const place = random() < 0.6 && homePlaces.length ? pick(random, homePlaces) : pickWeighted(random, places);
  const region = world.regionByCode.get(place.regionCode)!;
  const country = region.parentId === null ? region : world.regionById.get(region.parentId)!;
  const hasGps = random() < 0.85;
  const hasSim = random() < 0.9;
  const simCountry = random() < 0.8 ? country : homeMarket;
  const gps = hasGps
    ? {
        latitude: Number((place.latitude + (random() - 0.5) * 0.08).toFixed(5)),
        longitude: Number((place.longitude + (random() - 0.5) * 0.08).toFixed(5)),
        accuracyMeters: Math.round(5 + random() * 60),
      }
    : null;
  const mnc = String(1 + Math.floor(random() * 20)).padStart(2, '0');
  const sim = hasSim && simCountry.mobileCountryCodes.length ? { mcc: simCountry.mobileCountryCodes[0], mnc } : null;
  const ipCountry = random() < 0.95 ? country.code : null;
  return { deviceIndex, occurredAt, receivedAt, signals: { gps, sim, ipCountry } };
}

/**
 * Chunk `index` of the plan: its attempts generated for its range of devices, then decided device
 * by device in the order they arrive (receivedAt), as decideActivation would have decided them —
 * each with the device's status then — and each decision applied by the device lifecycle's rules.
 */
export function generateChunk(plan: AttemptPlan, world: World, index: number): GeneratedChunk {
  const random: Random = seedrandom(`${plan.seed}:attempts:${index}`);
  const chunks = chunkCount(plan);
  const deviceCount = plan.devices.markets.length;
  const firstAttempt = Math.floor((index * plan.attempts) / chunks);
  const count = Math.floor(((index + 1) * plan.attempts) / chunks) - firstAttempt;
  const firstDevice = Math.floor((index * deviceCount) / chunks);
  const endDevice = Math.floor(((index + 1) * deviceCount) / chunks);
  const generated = Array.from({ length: count }, (_, order) => ({
    order,
    ...generateAttempt(random, world, plan.devices, firstDevice, endDevice, plan.windowStart, plan.days),
  }));
  generated.sort((a, b) => a.deviceIndex - b.deviceIndex || +a.receivedAt - +b.receivedAt || a.order - b.order);

  const attempts: GeneratedAttempt[] = [];
  const changes: GeneratedChange[] = [];
  const states: GeneratedChunk['states'] = [];
  let state = null as GeneratedChunk['states'][number] | null;
  for (const [position, attempt] of generated.entries()) {
    const id = plan.firstAttemptId + firstAttempt + position;
    const deviceId = plan.devices.firstDeviceId + attempt.deviceIndex;
    if (state?.deviceIndex !== attempt.deviceIndex) {
      state = {
        deviceIndex: attempt.deviceIndex,
        status: DeviceStatus.NEW,
        activatedAt: null,
        lockedAt: null,
        lockReason: null,
        lockedByAttemptId: null,
        lockedByAttemptOccurredAt: null,
        lockCause: null,
        lockPolicyVersionId: null,
        lockRegionId: null,
      };
      states.push(state);
    }
    const locked = state.status === DeviceStatus.LOCKED;
    const decision = world.decisions.decide(
      attempt.signals,
      {
        deviceId,
        modelCode: plan.devices.modelCodes[attempt.deviceIndex],
        partnerId: plan.devices.partnerIds[attempt.deviceIndex],
        locked,
        lockedByVersionId: locked ? state.lockPolicyVersionId : null,
      },
      attempt.occurredAt,
    );
    const resolvedRegionId = decision.regionCode ? (world.rules.regionIdByCode.get(decision.regionCode) ?? null) : null;
    const found = decisionTransition(state, {
      outcome: decision.outcome,
      enforced: decision.enforced,
      reasonCodes: decision.reasonCodes,
      policyVersionId: decision.policyVersionId,
      resolvedRegionId,
      occurredAt: attempt.occurredAt,
      receivedAt: attempt.receivedAt,
    });
    if (found?.transition) {
      const before: DeviceBefore = { ...state, id: deviceId, partnerId: 0, imei: '' };
      const transition = { ...found.transition, attemptId: id };
      changes.push({
        deviceIndex: attempt.deviceIndex,
        from: state.status,
        to: transition.to,
        attemptId: id,
        attemptOccurredAt: attempt.occurredAt,
        at: attempt.receivedAt,
        reason: transition.reason,
      });
      Object.assign(state, deviceColumns(before, transition));
    }
    if (found?.activatedAt) state.activatedAt = found.activatedAt;
    attempts.push({
      id,
      deviceIndex: attempt.deviceIndex,
      occurredAt: attempt.occurredAt,
      receivedAt: attempt.receivedAt,
      signals: attempt.signals,
      resolvedRegionId,
      source: decision.regionSource as RegionSource,
      outcome: decision.outcome as DecisionOutcome,
      enforced: decision.enforced,
      policyVersionId: decision.policyVersionId,
      reasonCodes: decision.reasonCodes,
    });
  }
  return { attempts, changes, states };
}

/**
 * The plan's chunks in order, encoded: made here, or by `threads` worker threads (each with its
 * own copy of the engine), a few chunks ahead of the one being written.
 */
export async function* generatedChunks(
  plan: AttemptPlan,
  world: World,
  threads: number,
  marketCodes: string[],
): AsyncGenerator<EncodedChunk> {
  const chunks = chunkCount(plan);
  if (threads <= 0) {
    for (let index = 0; index < chunks; index += 1) yield encodedChunk(plan, world, index);
    return;
  }
  const pool = new WorkerPool<number, EncodedChunk>(
    join(__dirname, 'attempt-generator.worker'),
    extname(__filename),
    { plan, rules: portableRules(world.rules), marketCodes },
    threads,
  );
  try {
    const ahead: Promise<EncodedChunk>[] = [];
    let requested = 0;
    for (let index = 0; index < chunks; index += 1) {
      while (requested < chunks && ahead.length < threads * 3) ahead.push(pool.run(requested++));
      const chunk = await ahead.shift()!;
      // Dates made on another thread arrive as this thread's Dates, but not as those of a
      // sandbox this code may run in (Jest's): they are made again here, so that drivers see Dates.
      const again = (instant: Date | null) => (instant ? new Date(instant.getTime()) : null);
      for (const change of chunk.changes) {
        change.at = again(change.at)!;
        change.attemptOccurredAt = again(change.attemptOccurredAt)!;
      }
      for (const state of chunk.states) {
        state.activatedAt = again(state.activatedAt);
        state.lockedAt = again(state.lockedAt);
        state.lockedByAttemptOccurredAt = again(state.lockedByAttemptOccurredAt);
      }
      yield chunk;
    }
  } finally {
    await pool.close();
  }
}
