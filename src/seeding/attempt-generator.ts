import { extname, join } from 'node:path';
import seedrandom from 'seedrandom';
import { WorkerPool } from '../common/worker-threads';
import { portableRules } from '../decisions/portable-rules';
import { DecisionOutcome, RegionSource } from '../activations/activation-attempt.entity';
import { CompiledRules } from '../decisions/evaluator';
import { places } from './places';

/*
 * The generated attempts, apart from the database: the same code runs on the seeding thread for
 * small runs and on worker threads for large ones, and gives the same attempts either way. The
 * attempts come in chunks of CHUNK_SIZE, each from its own random stream (seed and chunk number),
 * so chunks can be made in any order, on any thread, and still be the same.
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
  attempts: number;
  regions: GeneratorRegion[];
  devices: GeneratedDevices;
  windowStart: number;
  days: number;
}

export interface World {
  regionById: Map<number, GeneratorRegion>;
  regionByCode: Map<string, GeneratorRegion>;
  /** The same compiled rules decideActivation uses: generated history is decided by the real engine. */
  rules: CompiledRules;
  placesByMarket: Map<string, typeof places>;
}

export function worldOf(regions: GeneratorRegion[], rules: CompiledRules, marketCodes: string[]): World {
  return {
    regionById: new Map(regions.map((region) => [region.id, region])),
    regionByCode: new Map(regions.map((region) => [region.code, region])),
    rules,
    placesByMarket: new Map(marketCodes.map((code) => [code, places.filter((place) => place.regionCode === code)])),
  };
}

/**
 * One attempt of a device: where it is (its home market 60% of the time, else where people
 * travel), which signals it sends, and the decision the engine takes on them. Each attempt is
 * decided on its own (as if the device were not locked yet), so history does not depend on the
 * order attempts are generated in.
 */
function generateAttempt(
  random: Random,
  world: World,
  devices: GeneratedDevices,
  windowStart: number,
  days: number,
): GeneratedAttempt {
  const deviceMarkets = devices.markets;
  const deviceIndex = Math.floor(random() * deviceMarkets.length);
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
  const decision = world.rules.engine.decide(
    { gps, sim, ipCountry },
    {
      deviceId: devices.firstDeviceId + deviceIndex,
      modelCode: devices.modelCodes[deviceIndex],
      partnerId: devices.partnerIds[deviceIndex],
      locked: false,
      lockedByVersionId: null,
    },
    occurredAt,
  );
  return {
    deviceIndex,
    occurredAt,
    receivedAt,
    signals: { gps, sim, ipCountry },
    resolvedRegionId: decision.regionCode ? (world.rules.regionIdByCode.get(decision.regionCode) ?? null) : null,
    source: decision.regionSource as RegionSource,
    outcome: decision.outcome as DecisionOutcome,
    enforced: decision.enforced,
    policyVersionId: decision.policyVersionId,
    reasonCodes: decision.reasonCodes,
  };
}

/** Chunk `index` of the plan's attempts (the last may be short). */
export function generateChunk(plan: AttemptPlan, world: World, index: number): GeneratedAttempt[] {
  const random: Random = seedrandom(`${plan.seed}:attempts:${index}`);
  const count = Math.min(CHUNK_SIZE, plan.attempts - index * CHUNK_SIZE);
  return Array.from({ length: count }, () => generateAttempt(random, world, plan.devices, plan.windowStart, plan.days));
}

/**
 * The plan's chunks in order: made here, or by `threads` worker threads (each with its own copy of
 * the engine), a few chunks ahead of the one being written.
 */
export async function* generatedChunks(
  plan: AttemptPlan,
  world: World,
  threads: number,
  marketCodes: string[],
): AsyncGenerator<GeneratedAttempt[]> {
  const chunks = Math.ceil(plan.attempts / CHUNK_SIZE);
  if (threads <= 0) {
    for (let index = 0; index < chunks; index += 1) yield generateChunk(plan, world, index);
    return;
  }
  const pool = new WorkerPool<number, GeneratedAttempt[]>(
    join(__dirname, 'attempt-generator.worker'),
    extname(__filename),
    { plan, rules: portableRules(world.rules), marketCodes },
    threads,
  );
  try {
    const ahead: Promise<GeneratedAttempt[]>[] = [];
    let requested = 0;
    for (let index = 0; index < chunks; index += 1) {
      while (requested < chunks && ahead.length < threads * 3) ahead.push(pool.run(requested++));
      const attempts = await ahead.shift()!;
      // Dates made on another thread arrive as this thread's Dates, but not as those of a
      // sandbox this code may run in (Jest's): they are made again here, so that drivers see Dates.
      for (const attempt of attempts) {
        attempt.occurredAt = new Date(attempt.occurredAt.getTime());
        attempt.receivedAt = new Date(attempt.receivedAt.getTime());
      }
      yield attempts;
    }
  } finally {
    await pool.close();
  }
}
