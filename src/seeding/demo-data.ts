import { availableParallelism } from 'node:os';
import seedrandom from 'seedrandom';
import { DataSource, In } from 'typeorm';
import { Evaluator } from '../decisions/evaluator';
import { DEFAULT_MAX_GPS_ACCURACY_METERS } from '../decisions/engine/signal-readers';
import { DeviceModel } from '../device-models/device-model.entity';
import { Device, DeviceStatus } from '../devices/device.entity';
import { withCheckDigit } from '../devices/imei';
import { Partner, PartnerKind } from '../partners/partner.entity';
import { Region } from '../regions/region.entity';
import { ColumnValue, insertRows } from './bulk-insert';
import { EncodedAttempts, ingestAttempts, ingestDialect } from '../activations/attempt-ingest';
import { Progress, silentProgress } from '../ops/progress';
import { markets, partnerNames } from './places';
import {
  AttemptPlan,
  GeneratedDevices,
  generatedChunks,
  pick,
  pickWeighted,
  Random,
  worldOf,
} from './attempt-generator';
import { inTransaction } from '../db/transactions';
import {
  GeneratedDeviceState,
  GeneratedStatusChange,
  writeGeneratedHistory,
  writeGeneratedStates,
} from '../devices/device-lifecycle';

export interface GeneratorOptions {
  devices: number;
  attempts: number;
  seed: string;
  /** Attempts fall in the `days` days before this instant (fixed, so a seed gives the same data). */
  until: Date;
  days: number;
  /** The decisions' GPS accuracy limit (MAX_GPS_ACCURACY_METERS); the default when left out. */
  maxGpsAccuracyMeters?: number;
  /** Shows the attempts written (a progress bar for the seed command and benchmarks). */
  progress?: Progress;
  /**
   * Worker threads generating and deciding attempts while this one writes them; 0 makes them here.
   * The attempts are the same either way. Default: one per core from 100,000 attempts, else none
   * (starting a thread costs more than a small seed).
   */
  generatorThreads?: number;
  /** Wraps the writing of the attempts (generated, decided, written): bench:seed meters its processor time. */
  aroundAttempts?: <T>(write: () => Promise<T>) => Promise<T>;
}

const THREADED_FROM_ATTEMPTS = 100_000;

/** Who made the demo history, as its status-history rows name the actor. */
const GENERATED_BY = 'demo data generator';

export interface GeneratorReport {
  partners: number;
  devices: number;
  attempts: number;
  milliseconds: number;
  /** Of which generating, deciding and writing the attempts (devices and their states excluded). */
  attemptMilliseconds: number;
}

/** The next free 6-digit serial of each TAC, so repeated runs never reuse an IMEI. */
async function nextSerialByTac(dataSource: DataSource, tacs: string[]): Promise<Map<string, number>> {
  const next = new Map<string, number>();
  for (const tac of tacs) {
    const row = await dataSource
      .getRepository(Device)
      .createQueryBuilder('device')
      .select('MAX(device.imei)', 'maxImei')
      .where('device.imei >= :from AND device.imei < :to', { from: tac, to: `${tac}:` })
      .getRawOne<{ maxImei: string | null }>();
    next.set(tac, row?.maxImei ? Number(row.maxImei.slice(8, 14)) + 1 : 0);
  }
  return next;
}

async function maxId(dataSource: DataSource, table: 'device' | 'activation_attempt'): Promise<number> {
  const [row] = await dataSource.query(`SELECT MAX(id) AS "maxId" FROM ${table}`);
  return Number(row?.maxId ?? 0);
}

/** Explicit ids were inserted: move PostgreSQL's sequence past them (SQLite's AUTOINCREMENT follows by itself). */
async function advanceSequence(dataSource: DataSource, table: string): Promise<void> {
  if (dataSource.options.type !== 'postgres') return;
  await dataSource.query(
    `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM ${table}))`,
  );
}

const DEVICE_COLUMNS = [
  'id',
  'imei',
  'serialNumber',
  'modelId',
  'marketRegionId',
  'partnerId',
  'status',
  'activatedAt',
  'lockedAt',
  'lockReason',
  'lockedByAttemptId',
  'createdAt',
];

/** A device as registered: NEW, its state written once its attempts are. */
function deviceRow(
  id: number,
  device: { imei: string; serialNumber: string; modelId: number; partnerId: number },
  marketRegionId: number,
  createdAt: Date,
): ColumnValue[] {
  return [
    id,
    device.imei,
    device.serialNumber,
    device.modelId,
    marketRegionId,
    device.partnerId,
    DeviceStatus.NEW,
    null,
    null,
    null,
    null,
    createdAt,
  ];
}

/**
 * Generates partners, devices and activation attempts, deterministically for a seed and `until`.
 * Devices are written first as NEW, the attempts through the bulk path (COPY, prepared INSERT) as
 * they are generated and decided, and then the state the attempts left each device in.
 */
export async function generateDemoData(dataSource: DataSource, options: GeneratorOptions): Promise<GeneratorReport> {
  const started = Date.now();
  const regions = await dataSource.getRepository(Region).find();
  const models = await dataSource.getRepository(DeviceModel).find({ order: { code: 'ASC' } });
  if (models.length === 0 || regions.length === 0)
    throw new Error('load the reference data before generating demo data');
  const marketCodes = markets.map((market) => market.regionCode);
  const generatorRegions = regions.map(({ id, code, parentId, mobileCountryCodes }) => ({
    id,
    code,
    parentId,
    mobileCountryCodes,
  }));
  // The rules as they stand before the server starts: compiled once here, for this run only.
  const rules = await new Evaluator(dataSource, {
    maxGpsAccuracyMeters: options.maxGpsAccuracyMeters ?? DEFAULT_MAX_GPS_ACCURACY_METERS,
  }).compile();
  const world = worldOf(generatorRegions, rules, marketCodes);

  // Partners: reuse those with the generated names, add the missing ones.
  const partnerCount = Math.max(6, Math.min(60, Math.ceil(options.devices / 4000)));
  const wantedPartners = Array.from({ length: partnerCount }, (_, index) => {
    const base = partnerNames[index % partnerNames.length];
    const round = Math.floor(index / partnerNames.length);
    return { name: round === 0 ? base.name : `${base.name} ${round + 1}`, kind: base.kind as PartnerKind };
  });
  const partnerRepository = dataSource.getRepository(Partner);
  const wantedNames = wantedPartners.map((partner) => partner.name);
  const existingNames = new Set(
    (await partnerRepository.findBy({ name: In(wantedNames) })).map((partner) => partner.name),
  );
  const missingPartners = wantedPartners.filter((partner) => !existingNames.has(partner.name));
  if (missingPartners.length) {
    await partnerRepository.insert(
      missingPartners.map((partner) => ({
        ...partner,
        contactEmail: `compliance@${partner.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`,
      })),
    );
  }
  const partners = (await partnerRepository.findBy({ name: In(wantedNames) })).sort((a, b) =>
    a.name.localeCompare(b.name),
  );

  // Devices (not yet written: their state depends on their attempts).
  const deviceRandom: Random = seedrandom(`${options.seed}:devices`);
  const nextSerial = await nextSerialByTac(
    dataSource,
    models.flatMap((model) => model.tacPrefixes),
  );
  const firstDeviceId = (await maxId(dataSource, 'device')) + 1;
  const firstAttemptId = (await maxId(dataSource, 'activation_attempt')) + 1;
  const createdAt = new Date(options.until.getTime() - (options.days + 30) * 86_400_000);
  const deviceMarkets = new Int32Array(options.devices);
  const devices = Array.from({ length: options.devices }, (_, index) => {
    const model = pick(deviceRandom, models);
    const tac = pick(deviceRandom, model.tacPrefixes);
    const serial = nextSerial.get(tac)!;
    if (serial > 999_999) throw new Error(`TAC ${tac} has no free serial numbers left`);
    nextSerial.set(tac, serial + 1);
    deviceMarkets[index] = world.regionByCode.get(pickWeighted(deviceRandom, markets).regionCode)!.id;
    return {
      imei: withCheckDigit(`${tac}${String(serial).padStart(6, '0')}`),
      serialNumber: `SN${model.code.replace(/-/g, '')}${String(Math.floor(deviceRandom() * 1e9)).padStart(9, '0')}`,
      modelId: model.id,
      partnerId: pick(deviceRandom, partners).id,
    };
  });
  const generated: GeneratedDevices = {
    firstDeviceId,
    markets: deviceMarkets,
    modelCodes: devices.map((device) => world.rules.modelCodeById.get(device.modelId) ?? ''),
    partnerIds: Int32Array.from(devices.map((device) => device.partnerId)),
  };

  const windowStart = options.until.getTime() - options.days * 86_400_000;
  // Attempts arrive in random device and time order, so every index page is touched again and
  // again: a page cache big enough for the indexes saves most of the rewriting (SQLite only; the
  // setting lasts for the connection, so it is put back afterwards: a server that seeded on start
  // would otherwise keep a 256 MB cache filling up for the rest of its life).
  const isSqlite = dataSource.options.type === 'better-sqlite3';
  const [{ cache_size: previousCacheSize }] = isSqlite ? await dataSource.query('PRAGMA cache_size') : [{}];
  if (isSqlite) await dataSource.query('PRAGMA cache_size = -262144');
  const progress = options.progress ?? silentProgress;
  let attemptMilliseconds = 0;
  try {
    // Devices first (the attempts' foreign key), as NEW; the state their attempts leave them in is
    // gathered while the attempts are written, in one pass, and written after them.
    await inTransaction(dataSource, (manager) =>
      insertRows(
        manager,
        'device',
        DEVICE_COLUMNS,
        devices.map((device, index) => deviceRow(firstDeviceId + index, device, deviceMarkets[index], createdAt)),
      ),
    );
    await advanceSequence(dataSource, 'device');
    if (devices.length > 0) {
      const plan: AttemptPlan = {
        seed: options.seed,
        firstAttemptId,
        attempts: options.attempts,
        regions: generatorRegions,
        devices: generated,
        windowStart,
        days: options.days,
        dialect: ingestDialect(dataSource),
      };
      const threads =
        options.generatorThreads ?? (options.attempts >= THREADED_FROM_ATTEMPTS ? availableParallelism() : 0);
      // The devices' states and status changes, as each chunk's attempts left them (their own devices').
      const states: GeneratedDeviceState[] = [];
      const changes: GeneratedStatusChange[] = [];
      const attemptChunks = async function* (): AsyncGenerator<EncodedAttempts> {
        for await (const chunk of generatedChunks(plan, world, threads, marketCodes)) {
          for (const { deviceIndex, ...state } of chunk.states)
            states.push({ ...state, id: firstDeviceId + deviceIndex });
          for (const { deviceIndex, ...change } of chunk.changes)
            changes.push({ ...change, deviceId: firstDeviceId + deviceIndex });
          yield chunk.attempts;
        }
      };
      const attemptsStarted = Date.now();
      const around = options.aroundAttempts ?? ((write) => write());
      await around(() =>
        ingestAttempts(dataSource, attemptChunks(), {
          explicitIds: true,
          rowsPerTransaction: 500_000,
          progress,
        }),
      );
      attemptMilliseconds = Date.now() - attemptsStarted;
      await advanceSequence(dataSource, 'activation_attempt');
      await writeGeneratedStates(dataSource, states);
      await writeGeneratedHistory(dataSource, changes, GENERATED_BY);
    }
  } finally {
    progress.stop();
    if (isSqlite) await dataSource.query(`PRAGMA cache_size = ${Number(previousCacheSize)}`);
  }
  return {
    partners: missingPartners.length,
    devices: devices.length,
    attempts: devices.length > 0 ? options.attempts : 0,
    milliseconds: Date.now() - started,
    attemptMilliseconds,
  };
}
