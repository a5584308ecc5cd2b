/**
 * The worker side of simulatePolicy alone, on one thread: the window's COPY text read once from
 * the database (not timed), then cut into the batches the service hands to its threads and
 * replayed (timed; add `--cpu-prof` to node for a profile). Command:
 * `DATABASE_URL=postgres://… node dist/bench/simulation-replay.bench.js [--days 30] [--runs 3]`
 * on a seeded database (the demo data's `until` 2026-11-01).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { to as copyTo } from 'pg-copy-streams';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';
import { openBulkConnection } from '../src/db/pool';
import { Evaluator } from '../src/decisions/evaluator';
import { CompiledPolicy } from '../src/decisions/engine/types';
import { replayBatch, replayEngines } from '../src/reports/simulation-replay';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '3' },
    until: { type: 'string', default: '2026-11-01T00:00:00Z' },
  },
});
const BATCH_BYTES = 256 * 1024;

async function main() {
  const settings = { ...readSettings(), logLevel: 'silent' as const };
  const dataSource = await openDatabase({ ...settings, seedDemoData: false }, () => undefined);
  const rules = await new Evaluator(dataSource).compile();
  const base = rules.engineData.policies.filter((policy) => policy.policyKey === 'turkey').pop();
  const simulated: CompiledPolicy = {
    versionId: -1,
    policyKey: 'turkey',
    versionNumber: (base?.versionNumber ?? 0) + 1,
    action: 'LOCK',
    mode: 'ENFORCE',
    priority: base?.priority ?? 0,
    effectiveFrom: Date.parse('2020-01-01T00:00:00Z'),
    effectiveUntil: null,
    regionCodes: new Set(['TR']),
    modelCodes: base?.modelCodes ? new Set(base.modelCodes) : null,
  } as CompiledPolicy;
  const until = new Date(values.until!);
  const from = new Date(until.getTime() - Number(values.days) * 86_400_000);
  const sql =
    `COPY (SELECT "deviceId", FLOOR(EXTRACT(EPOCH FROM "occurredAt") * 1000)::bigint, "signalsPurgedAt" IS NOT NULL, ` +
    `"fixSpeedKmh", NULL, NULL, "signals" FROM "activation_attempt" WHERE "occurredAt" >= '${from.toISOString()}'::timestamptz ` +
    `AND "occurredAt" < '${until.toISOString()}'::timestamptz) TO STDOUT`;
  const client = await openBulkConnection(dataSource);
  const chunks: Buffer[] = [];
  for await (const chunk of client.query(copyTo(sql)) as AsyncIterable<Buffer>) chunks.push(chunk);
  await client.end();
  const text = Buffer.concat(chunks);
  const batches: Uint8Array[] = [];
  for (let start = 0; start < text.length;) {
    const end = Math.min(text.length, text.lastIndexOf(10, start + BATCH_BYTES) + 1 || text.length);
    const cut = end <= start ? text.length : end;
    batches.push(new Uint8Array(text.subarray(start, cut)));
    start = cut;
  }
  console.log(`${(text.length / 1e6).toFixed(1)} MB of COPY text in ${batches.length} batches`);
  for (let run = 0; run < Number(values.runs); run += 1) {
    // A fresh memo per run, as each simulatePolicy builds its own.
    const engines = replayEngines(rules.engine, rules.engineData, simulated);
    const started = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    let attempts = 0;
    let changes = 0;
    for (const batch of batches) {
      const outcome = replayBatch({ kind: 'copy', text: batch }, engines, rules.modelCodeById);
      attempts += outcome.attempts + outcome.skippedAttempts;
      changes += outcome.changes.length;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      `run ${run + 1}: ${attempts} attempts, ${changes} changed, ${ms.toFixed(0)} ms (CPU ${cpuMs.toFixed(0)} ms), ${((cpuMs * 1e3) / attempts).toFixed(2)} µs CPU/attempt`,
    );
  }
  await dataSource.destroy();
}

void main();
