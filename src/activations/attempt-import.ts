import { recordedIdempotencyKeys } from './idempotency-keys';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { DataSource } from 'typeorm';
import { imeiProblem, imeiProblemMessages } from '../devices/imei';
import { Progress, silentProgress } from '../ops/progress';
import { DecisionOutcome, RegionSource, ReviewStatus } from './activation-attempt.entity';
import { attemptInstantProblem } from './attempt-horizon';
import { BulkAttempt, ingestAttempts } from './attempt-ingest';

/*
 * Historic attempts from a file, in the format /reports/activation-attempts.csv exports (CSV, or
 * NDJSON with the same names): occurredAt, imei, model, partner, region, regionSource, outcome,
 * enforced, policy, policyVersion, reasonCodes; optionally receivedAt, signals (JSON),
 * reviewStatus, idempotencyKey. Every row is checked — the device must exist, and its model and
 * partner must be the ones named; region, policy and version must exist — and a file with any bad
 * row writes nothing (one transaction), reporting every bad row with its line number. occurredAt
 * lies within the history's horizon (attempt-horizon.ts: ten years back, not in the future).
 *
 * The export has no raw signals: rows without a `signals` column are stored with empty signals and
 * marked purged at the import's instant, so what-if replays count them as skipped, as they do for
 * attempts whose signals retention erased.
 */

export interface BadRow {
  line: number;
  message: string;
}

export class ImportRejected extends Error {
  constructor(
    /** The bad rows, the first `maxReported` of them. */
    readonly badRows: BadRow[],
    readonly badCount: number,
    readonly checkedRows: number,
  ) {
    super(`${badCount} bad row(s) of ${checkedRows}; nothing was imported`);
    this.name = 'ImportRejected';
  }
}

export type ImportFormat = 'csv' | 'ndjson';

export function formatOfFile(path: string): ImportFormat | null {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(path)) return 'ndjson';
  return null;
}

interface SourceRow {
  line: number;
  fields: Record<string, unknown>;
}

const CHUNK_ROWS = 2_000;

const REQUIRED_COLUMNS = ['occurredAt', 'imei', 'regionSource', 'outcome', 'enforced'];

/** Rows of a CSV file with a header line, with the line each record starts on. */
async function* csvRows(path: string): AsyncGenerator<SourceRow | BadRow> {
  const parser = createReadStream(path).pipe(
    parse({ columns: true, bom: true, skip_empty_lines: true, info: true, trim: false }),
  );
  let line = 2;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      if (line === 2) {
        const missing = REQUIRED_COLUMNS.filter((column) => !(column in record));
        if (missing.length) {
          yield { line: 1, message: `the header lacks ${missing.join(', ')}` };
          return;
        }
      }
      yield { line, fields: record };
      line = info.lines + 1;
    }
  } catch (error) {
    // A broken record (an unclosed quote, a wrong number of fields) ends the reading, as what
    // follows cannot be trusted; it is reported at the line the record starts on.
    yield { line, message: `is not valid CSV: ${(error as Error).message}` };
  }
}

/** Lines in a file (for the progress bar's total), counted without decoding it. */
export async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) lines += 1;
    last = chunk[chunk.length - 1];
  }
  return last === 10 ? lines : lines + 1;
}

/** Rows of an NDJSON file (one JSON object a line; blank lines skipped). */
async function* ndjsonRows(path: string): AsyncGenerator<SourceRow | BadRow> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    try {
      const fields: unknown = JSON.parse(text);
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
        yield { line, message: 'is not a JSON object' };
      else yield { line, fields: fields as Record<string, unknown> };
    } catch (error) {
      yield { line, message: `is not JSON: ${(error as Error).message}` };
    }
  }
}

/** A CSV field the export defused for spreadsheets (a leading apostrophe before = + - @) read back. */
function undefused(text: string): string {
  return /^'[=+\-@\t\r]/.test(text) ? text.slice(1) : text;
}

function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = undefused(String(value)).trim();
  return text === '' ? null : text;
}

interface ReferenceData {
  regionIdByCode: Map<string, number>;
  modelCodeById: Map<number, string>;
  partnerNameById: Map<number, string>;
  versionIdByPolicyAndNumber: Map<string, number>;
}

async function loadReferenceData(dataSource: DataSource): Promise<ReferenceData> {
  const rows = (sql: string) => dataSource.query(sql) as Promise<Record<string, unknown>[]>;
  const [regions, models, partners, versions] = await Promise.all([
    rows('SELECT "id", "code" FROM "region"'),
    rows('SELECT "id", "code" FROM "device_model"'),
    rows('SELECT "id", "name" FROM "partner"'),
    rows('SELECT v."id", p."key", v."number" FROM "policy_version" v JOIN "policy" p ON p."id" = v."policyId"'),
  ]);
  return {
    regionIdByCode: new Map(regions.map((row) => [String(row.code), Number(row.id)])),
    modelCodeById: new Map(models.map((row) => [Number(row.id), String(row.code)])),
    partnerNameById: new Map(partners.map((row) => [Number(row.id), String(row.name)])),
    versionIdByPolicyAndNumber: new Map(versions.map((row) => [`${row.key}|${row.number}`, Number(row.id)])),
  };
}

type Checked = Omit<BulkAttempt, 'deviceId'> & { imei: string; model: string | null; partner: string | null };

function oneOf<T extends string>(value: string | null, allowed: Record<string, T>, name: string): T {
  if (value === null) throw new Error(`${name} is required`);
  if (!(value in allowed)) throw new Error(`${name} "${value}" is not one of ${Object.keys(allowed).join(', ')}`);
  return allowed[value];
}

function instantOf(value: unknown, name: string): Date {
  const text = textOf(value);
  if (text === null) throw new Error(`${name} is required`);
  const instant = new Date(text);
  if (Number.isNaN(instant.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(text))
    throw new Error(`${name} "${text}" is not an ISO 8601 instant`);
  return instant;
}

/** One row's fields checked and converted, apart from the device (looked up a chunk at a time). */
function checkFields(fields: Record<string, unknown>, reference: ReferenceData, importedAt: Date): Checked {
  const occurredAt = instantOf(fields.occurredAt, 'occurredAt');
  const tooFar = attemptInstantProblem(occurredAt, importedAt);
  if (tooFar) throw new Error(`occurredAt ${occurredAt.toISOString()} ${tooFar}`);
  const receivedAt = textOf(fields.receivedAt) === null ? occurredAt : instantOf(fields.receivedAt, 'receivedAt');
  const imei = textOf(fields.imei) ?? '';
  const problem = imeiProblem(imei);
  if (problem) throw new Error(`imei "${imei}" ${imeiProblemMessages[problem]}`);
  const regionCode = textOf(fields.region);
  const resolvedRegionId = regionCode === null ? null : (reference.regionIdByCode.get(regionCode.toUpperCase()) ?? -1);
  if (resolvedRegionId === -1) throw new Error(`region "${regionCode}" is not a known region code`);
  const enforcedText = textOf(fields.enforced);
  if (enforcedText !== 'true' && enforcedText !== 'false')
    throw new Error(`enforced must be true or false; got "${enforcedText ?? ''}"`);
  const policy = textOf(fields.policy);
  const versionNumber = textOf(fields.policyVersion);
  let policyVersionId: number | null = null;
  if ((policy === null) !== (versionNumber === null))
    throw new Error('policy and policyVersion go together: give both or neither');
  if (policy !== null) {
    policyVersionId = reference.versionIdByPolicyAndNumber.get(`${policy}|${versionNumber}`) ?? null;
    if (policyVersionId === null) throw new Error(`policy "${policy}" has no version ${versionNumber}`);
  }
  const rawReasons = fields.reasonCodes;
  const reasonCodes = Array.isArray(rawReasons)
    ? rawReasons.map(String)
    : (textOf(rawReasons) ?? '').split(/\s+/).filter(Boolean);
  const signalsText = fields.signals;
  let signals: object = { gps: null, sim: null, ipCountry: null };
  let signalsPurgedAt: Date | null = importedAt;
  if (signalsText !== undefined && signalsText !== null && signalsText !== '') {
    const parsed: unknown = typeof signalsText === 'string' ? JSON.parse(signalsText) : signalsText;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('signals must be a JSON object with gps, sim and ipCountry');
    signals = parsed;
    signalsPurgedAt = null;
  }
  const reviewText = textOf(fields.reviewStatus);
  const idempotencyKey = textOf(fields.idempotencyKey);
  if (idempotencyKey !== null && idempotencyKey.length > 200) throw new Error('idempotencyKey is over 200 characters');
  return {
    imei,
    model: textOf(fields.model),
    partner: textOf(fields.partner),
    occurredAt,
    receivedAt,
    signals,
    signalsPurgedAt,
    resolvedRegionId,
    regionSource: oneOf(textOf(fields.regionSource), RegionSource, 'regionSource'),
    outcome: oneOf(textOf(fields.outcome), DecisionOutcome, 'outcome'),
    enforced: enforcedText === 'true',
    policyVersionId,
    reasonCodes,
    reviewStatus: reviewText === null ? null : oneOf(reviewText, ReviewStatus, 'reviewStatus'),
    idempotencyKey,
  };
}

export interface ImportOptions {
  format: ImportFormat;
  progress?: Progress;
  /** The instant imported rows without signals are marked purged at, and the horizon is measured from (default: now). */
  importedAt?: Date;
  /** How many bad rows are kept for the report (all are counted). */
  maxReported?: number;
}

export interface ImportReport {
  imported: number;
}

/**
 * Imports the attempts of a file, all or nothing: throws ImportRejected (with the bad rows and
 * their lines) when any row is bad, after checking the whole file.
 */
export async function importAttempts(
  dataSource: DataSource,
  path: string,
  options: ImportOptions,
): Promise<ImportReport> {
  const reference = await loadReferenceData(dataSource);
  const importedAt = options.importedAt ?? new Date();
  const maxReported = options.maxReported ?? 1_000;
  const badRows: BadRow[] = [];
  let badCount = 0;
  let checkedRows = 0;
  const seenKeys = new Set<string>();
  const reject = (line: number, message: string) => {
    badCount += 1;
    if (badRows.length < maxReported) badRows.push({ line, message });
  };
  const postgres = dataSource.options.type === 'postgres';

  /** The chunk's devices by IMEI, and which of its idempotency keys are taken already. */
  async function resolveChunk(rows: { line: number; checked: Checked }[]): Promise<BulkAttempt[]> {
    const imeis = [...new Set(rows.map((row) => row.checked.imei))];
    const list = (count: number, offset = 0) =>
      Array.from({ length: count }, (_, index) => (postgres ? `$${offset + index + 1}` : '?')).join(', ');
    const devices: Record<string, unknown>[] = await dataSource.query(
      `SELECT "id", "imei", "modelId", "partnerId" FROM "device" WHERE "imei" IN (${list(imeis.length)})`,
      imeis,
    );
    const deviceByImei = new Map(devices.map((device) => [String(device.imei), device]));
    const keys = rows.flatMap((row) => (row.checked.idempotencyKey ? [row.checked.idempotencyKey] : []));
    const takenKeys = await recordedIdempotencyKeys(dataSource, keys);
    const resolved: BulkAttempt[] = [];
    for (const { line, checked } of rows) {
      const device = deviceByImei.get(checked.imei);
      if (!device) {
        reject(line, `imei ${checked.imei}: no such device (register it first)`);
        continue;
      }
      const model = reference.modelCodeById.get(Number(device.modelId));
      if (checked.model !== null && checked.model !== model) {
        reject(line, `model "${checked.model}" is not the device's (${model})`);
        continue;
      }
      const partner = reference.partnerNameById.get(Number(device.partnerId));
      if (checked.partner !== null && checked.partner !== partner) {
        reject(line, `partner "${checked.partner}" is not the device's (${partner})`);
        continue;
      }
      if (checked.idempotencyKey !== null && takenKeys.has(checked.idempotencyKey)) {
        reject(line, `idempotencyKey "${checked.idempotencyKey}" is already stored`);
        continue;
      }
      const { imei: _imei, model: _model, partner: _partner, ...attempt } = checked;
      resolved.push({ ...attempt, deviceId: Number(device.id) });
    }
    return resolved;
  }

  const source = options.format === 'csv' ? csvRows(path) : ndjsonRows(path);
  const chunks = async function* (): AsyncGenerator<BulkAttempt[]> {
    let pending: { line: number; checked: Checked }[] = [];
    const flush = async () => {
      const resolved = await resolveChunk(pending);
      pending = [];
      // After the first bad row nothing more is written (it will all be rolled back), but every
      // row is still checked, so that one run reports them all.
      return badCount === 0 ? resolved : [];
    };
    for await (const row of source) {
      checkedRows += 1;
      if (!('fields' in row)) {
        reject(row.line, row.message);
        continue;
      }
      try {
        const checked = checkFields(row.fields, reference, importedAt);
        if (checked.idempotencyKey !== null) {
          if (seenKeys.has(checked.idempotencyKey))
            throw new Error(`idempotencyKey "${checked.idempotencyKey}" appears twice in the file`);
          seenKeys.add(checked.idempotencyKey);
        }
        pending.push({ line: row.line, checked });
      } catch (error) {
        reject(row.line, (error as Error).message);
      }
      if (pending.length >= CHUNK_ROWS) yield await flush();
    }
    if (pending.length) yield await flush();
    // Devices are looked up a chunk at a time, so their complaints come later than the rows' own.
    badRows.sort((a, b) => a.line - b.line);
    if (badCount > 0) throw new ImportRejected(badRows, badCount, checkedRows);
  };
  const progress = options.progress ?? silentProgress;
  return { imported: await ingestAttempts(dataSource, chunks(), { progress }) };
}
