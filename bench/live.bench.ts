/**
 * Subscriptions under load: `npm run bench:live` (add DATABASE_URL=postgres://… for PostgreSQL,
 * where events travel through NOTIFY/LISTEN as between instances). One server process, one run:
 * 1. `{ __typename }` and decideActivation with no subscriber;
 * 2. the same with LIVE_SUBSCRIBERS (200) subscribers of activationDecided connected, and the delay of
 *    each event from its commit (`committedAt`) to its arrival at each subscriber, p50/p99: once with
 *    200 subscribers sending the same document (one group: the server executes it once per event and
 *    shares the result), once with 200 distinct documents (each its own alias: 200 groups, one
 *    execution per subscriber and event, what every subscriber cost before groups);
 * 3. decideActivation with one subscriber that never reads its socket: the throughput ratio, the
 *    server's memory, and the reason it was closed with.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { projectRoot } from '../src/config';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const SUBSCRIBERS = Number(process.env.LIVE_SUBSCRIBERS || 200);
const ADMIN_KEY = `cgk_bench-${randomBytes(24).toString('hex')}`;
/** The document of subscriber `alias` (the same for all when null). */
const decisionsAs = (alias: string | null) =>
  `subscription { ${alias ? `${alias}: ` : ''}activationDecided { committedAt attempt { id outcome } } }`;
const BERLIN = { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 8 }, sim: { mcc: '262', mnc: '01' } };

async function startServer(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const server = spawn(process.execPath, [join(projectRoot(), 'dist', 'src', 'main.js')], {
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      NODE_ENV: 'production',
      COMPLIANCE_ADMIN_KEY: ADMIN_KEY,
      RATE_LIMIT_GATEWAY_PER_SECOND: '1000000',
      LIVE_MAX_CONNECTIONS_PER_KEY: String(SUBSCRIBERS + 10),
      LIVE_MAX_SUBSCRIPTIONS_PER_KEY: String(SUBSCRIBERS + 10),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('serves http')) resolve();
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return server;
}

async function post(url: string, query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data: any };
}

function run(url: string, key: string, bodies: () => string): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies() }) }],
  });
}

function decisionBodies(imeis: string[], tag: string): () => string {
  let sequence = 0;
  return () => {
    sequence += 1;
    return JSON.stringify({
      query: 'mutation ($input: DecideActivationInput!) { decideActivation(input: $input) { decision { outcome } } }',
      variables: {
        input: { imei: imeis[sequence % imeis.length], idempotencyKey: `live-${tag}-${sequence}`, signals: BERLIN },
      },
    });
  };
}

interface Subscriber {
  socket: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
}

/** A graphql-ws subscriber of activationDecided; `onEvent` gets each event's commit instant. */
async function subscriber(
  url: string,
  onEvent?: (committedAt: number) => void,
  alias: string | null = null,
): Promise<Subscriber> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_KEY}` } }));
  await new Promise<void>((resolve) =>
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'connection_ack') resolve();
      else if (message.type === 'next' && onEvent)
        onEvent(Date.parse((Object.values(message.payload.data)[0] as { committedAt: string }).committedAt));
    }),
  );
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: decisionsAs(alias) } }));
  return { socket, closed };
}

/** The server's count of subscription executions for decisions (one per group and event). */
async function decisionExecutions(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  return Number(/^live_executions_total\{kind="decision"\} (\S+)/m.exec(text)?.[1] ?? 0);
}

async function residentMegabytes(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  return Math.round(Number(/^process_resident_memory_bytes (\S+)/m.exec(text)?.[1] ?? 0) / 1_048_576);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function bench(label: string, env: NodeJS.ProcessEnv, port: number): Promise<void> {
  const server = await startServer(env, port);
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/graphql`;
  const row = (name: string, result: autocannon.Result) =>
    `${label.padEnd(11)} ${name.padEnd(44)} ${String(Math.round(result.requests.average)).padStart(6)} req/s  p99 ${String(result.latency.p99).padStart(4)} ms  errors ${result.errors + result.non2xx}`;
  try {
    const devices = await post(url, '{ devices(first: 100, filter: { statuses: [NEW, ACTIVE] }) { nodes { imei } } }');
    const imeis: string[] = devices.data.devices.nodes.map((node: { imei: string }) => node.imei);
    const gatewayKey: string = (
      await post(
        url,
        'mutation { createApiKey(input: { name: "bench-gateway", role: GATEWAY, registeredOperationsOnly: false }) { secret } }',
      )
    ).data.createApiKey.secret;
    const typename = JSON.stringify({ query: '{ __typename }' });

    const baseline = await run(url, gatewayKey, () => typename);
    const alone = await run(url, gatewayKey, decisionBodies(imeis, `alone-${process.pid}`));
    console.log(row('{ __typename }, no subscriber', baseline));
    console.log(row('decideActivation, no subscriber', alone));

    const watchedBy = async (shared: boolean) => {
      const documents = shared ? 'same document' : 'distinct documents';
      const delays: number[] = [];
      const subscribers: Subscriber[] = [];
      for (let index = 0; index < SUBSCRIBERS; index += 1)
        subscribers.push(
          await subscriber(url, (committedAt) => delays.push(Date.now() - committedAt), shared ? null : `s${index}`),
        );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const typenameWith = await run(url, gatewayKey, () => typename);
      const executionsBefore = await decisionExecutions(origin);
      const decisions = await run(url, gatewayKey, decisionBodies(imeis, `${shared}-${process.pid}`));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const executions = (await decisionExecutions(origin)) - executionsBefore;
      console.log(row(`{ __typename }, ${SUBSCRIBERS} subscribers, ${documents}`, typenameWith));
      console.log(row(`decideActivation, ${SUBSCRIBERS} subscribers, ${documents}`, decisions));
      const expected = decisions.requests.total * SUBSCRIBERS;
      delays.sort((x, y) => x - y);
      console.log(
        `${label.padEnd(11)} ${documents}: ${executions} executions for ${decisions.requests.total} decisions answered; events delivered ${delays.length} of ${expected}; delay from commit p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${delays[delays.length - 1]} ms`,
      );
      for (const { socket } of subscribers) socket.terminate();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return { typenameWith, decisions, documents, delays };
    };
    const watched = [await watchedBy(true), await watchedBy(false)];

    const memoryBefore = await residentMegabytes(origin);
    const slow = await subscriber(url);
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    let closedAfterMs: number | null = null;
    const slowStarted = Date.now();
    void slow.closed.then(() => (closedAfterMs = Date.now() - slowStarted));
    const withSlow = await run(url, gatewayKey, decisionBodies(imeis, `slow-${process.pid}`));
    const memoryAfter = await residentMegabytes(origin);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await Promise.race([slow.closed, new Promise((resolve) => setTimeout(() => resolve(null), 15_000))]);
    console.log(row('decideActivation, 1 subscriber never reading', withSlow));
    console.log(
      `${label.padEnd(11)} never-reading subscriber: closed ${JSON.stringify(closed)} ${closedAfterMs === null ? '' : `(socket ended ${closedAfterMs} ms after it subscribed)`}; server memory ${memoryBefore} MB before, ${memoryAfter} MB after`,
    );
    const ratio = (x: autocannon.Result, y: autocannon.Result) => (x.requests.average / y.requests.average).toFixed(2);
    console.log(`${label.padEnd(11)} ratio decideActivation / __typename, no subscriber: ${ratio(alone, baseline)}`);
    for (const { typenameWith, decisions, documents } of watched) {
      console.log(
        `${label.padEnd(11)} ratio decideActivation / __typename, ${SUBSCRIBERS} subscribers, ${documents}: ${ratio(decisions, typenameWith)}`,
      );
      console.log(
        `${label.padEnd(11)} ratio decideActivation with ${SUBSCRIBERS} subscribers, ${documents} / without: ${ratio(decisions, alone)}`,
      );
    }
    const [shared, distinct] = watched;
    console.log(
      `${label.padEnd(11)} ratio decideActivation, ${SUBSCRIBERS} subscribers, same document / distinct documents: ${ratio(shared.decisions, distinct.decisions)}`,
    );
    console.log(
      `${label.padEnd(11)} ratio decideActivation with a never-reading subscriber / without: ${ratio(withSlow, alone)}`,
    );
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  console.log(
    `machine: ${cpus().length} × ${cpus()[0].model}, load ${loadavg()[0].toFixed(1)}, Node ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per run, ${SUBSCRIBERS} subscribers`,
  );
  const directory = mkdtempSync(join(tmpdir(), 'live-bench-'));
  try {
    await bench('SQLite', { DATABASE_URL: '', SQLITE_PATH: join(directory, 'bench.sqlite') }, 4610);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const database = await createTemporaryDatabase(url, 'cg_live_bench');
  try {
    await bench('PostgreSQL', { DATABASE_URL: database.url }, 4611);
  } finally {
    await database.drop();
  }
}

void main();
