/**
 * Memory under a long mixed load: `npm run bench:soak` (SOAK_SECONDS, default 600; add
 * DATABASE_URL=postgres://… to run it on PostgreSQL). Decisions, device lookups and report-style
 * queries run side by side against the real server (a child process, demo data) while its memory
 * is sampled from /metrics every 10 s. Prints the samples and the trend of heap and RSS over the
 * second half, when a leak shows and warm-up growth does not.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { projectRoot } from '../src/config';
import { createTemporaryDatabase } from '../src/db/temporary-database';

const SECONDS = Number(process.env.SOAK_SECONDS || 600);
const SAMPLE_EVERY_MS = 10_000;
const ADMIN_KEY = `cgk_soak-${randomBytes(24).toString('hex')}`;
const PORT = 4620;
const url = `http://127.0.0.1:${PORT}/graphql`;

async function post(query: string, variables?: object) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data: any };
}

async function memory(): Promise<{ rss: number; heap: number; heapTotal: number; external: number }> {
  const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)![1]) / 1e6;
  return {
    rss: read('process_resident_memory_bytes'),
    heap: read('nodejs_heap_size_used_bytes'),
    heapTotal: read('nodejs_heap_size_total_bytes'),
    external: read('nodejs_external_memory_bytes'),
  };
}

/** Least-squares slope, in units per minute. */
function slopePerMinute(samples: { at: number; value: number }[]): number {
  const n = samples.length;
  const meanX = samples.reduce((sum, s) => sum + s.at, 0) / n;
  const meanY = samples.reduce((sum, s) => sum + s.value, 0) / n;
  const numerator = samples.reduce((sum, s) => sum + (s.at - meanX) * (s.value - meanY), 0);
  const denominator = samples.reduce((sum, s) => sum + (s.at - meanX) ** 2, 0);
  return (numerator / denominator) * 60_000;
}

async function soak(env: NodeJS.ProcessEnv): Promise<void> {
  const server = spawn(process.execPath, [join(projectRoot(), 'dist', 'src', 'main.js')], {
    env: {
      ...process.env,
      ...env,
      PORT: String(PORT),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      COMPLIANCE_ADMIN_KEY: ADMIN_KEY,
      RATE_LIMIT_PER_SECOND: '1000000',
      RATE_LIMIT_GATEWAY_PER_SECOND: '1000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let tries = 0; ; tries += 1) {
      try {
        if ((await fetch(`http://127.0.0.1:${PORT}/readyz`)).ok) break;
      } catch {
        if (tries > 600) throw new Error('the server did not start');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const devices = await post('{ devices(first: 100, filter: { statuses: [NEW, ACTIVE] }) { nodes { imei } } }');
    const imeis: string[] = devices.data.devices.nodes.map((node: { imei: string }) => node.imei);
    let sequence = 0;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
    const load = (connections: number, body: () => string) =>
      autocannon({
        url,
        method: 'POST',
        connections,
        duration: SECONDS,
        headers,
        requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
      });
    const runs = Promise.all([
      load(8, () => {
        sequence += 1;
        return JSON.stringify({
          query:
            'mutation ($input: DecideActivationInput!) { decideActivation(input: $input) { decision { outcome } } }',
          variables: {
            input: {
              imei: imeis[sequence % imeis.length],
              idempotencyKey: `soak-${process.pid}-${sequence}`,
              signals: { gps: { latitude: 52.52 + (sequence % 100) / 1000, longitude: 13.405, accuracyMeters: 8 } },
            },
          },
        });
      }),
      load(4, () =>
        JSON.stringify({
          query:
            'query ($imei: String!) { device(imei: $imei) { status model { code } partner { name } attempts(first: 5) { nodes { outcome resolvedRegion { code } } } } }',
          variables: { imei: imeis[Math.floor(Math.random() * imeis.length)] },
        }),
      ),
      load(2, () =>
        JSON.stringify({
          query:
            '{ activationAttempts(first: 50, filter: { regionCodes: ["UA-43", "CU", "IR"] }) { totalCount nodes { outcome occurredAt device { imei } } } devices(first: 20, filter: { statuses: [LOCKED] }) { totalCount } }',
        }),
      ),
    ]);
    const started = Date.now();
    const samples: { at: number; rss: number; heap: number; heapTotal: number; external: number }[] = [];
    while (Date.now() - started < SECONDS * 1000) {
      samples.push({ at: Date.now() - started, ...(await memory()) });
      const last = samples[samples.length - 1];
      console.log(
        `${String(Math.round(last.at / 1000)).padStart(5)} s  rss ${last.rss.toFixed(0).padStart(4)} MB  heap used ${last.heap.toFixed(0).padStart(4)} MB  ` +
          `heap total ${last.heapTotal.toFixed(0).padStart(4)} MB  external ${last.external.toFixed(0).padStart(4)} MB`,
      );
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
    const results = await runs;
    const requests = results.reduce((sum, result) => sum + result.requests.total, 0);
    const errors = results.reduce((sum, result) => sum + result.errors + result.non2xx, 0);
    const secondHalf = samples.slice(Math.floor(samples.length / 2));
    const trend = (key: 'rss' | 'heap' | 'heapTotal' | 'external') =>
      slopePerMinute(secondHalf.map((s) => ({ at: s.at, value: s[key] })));
    console.log(
      `${requests.toLocaleString('en')} requests (decisions, lookups, report queries), ${errors} errors in ${SECONDS} s; ` +
        `trend over the second half: heap used ${trend('heap').toFixed(2)} MB/min, heap total ${trend('heapTotal').toFixed(2)} MB/min, ` +
        `external ${trend('external').toFixed(2)} MB/min, rss ${trend('rss').toFixed(2)} MB/min`,
    );
  } finally {
    server.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}; ${SECONDS} s mixed load`);
  if (process.env.DATABASE_URL) {
    const database = await createTemporaryDatabase(process.env.DATABASE_URL, 'cg_soak');
    try {
      await soak({ DATABASE_URL: database.url });
    } finally {
      await database.drop();
    }
    return;
  }
  const directory = mkdtempSync(join(tmpdir(), 'soak-bench-'));
  try {
    await soak({ DATABASE_URL: '', SQLITE_PATH: join(directory, 'soak.sqlite') });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

void main();
