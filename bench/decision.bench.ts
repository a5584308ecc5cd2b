/**
 * Decision speed: `npm run bench:decision` (add DATABASE_URL=postgres://… to measure PostgreSQL too).
 * 1. The engine alone, in-process: decisions per second over a mix of signals.
 * 2. Over HTTP against the real server (a child process, fresh database, demo data): decideActivation
 *    with 32 concurrent clients beside `{ __typename }` on the same server in the same run, each
 *    decision committed before it is answered: once asking only the outcome, once asking the whole
 *    payload a support client reads (the decision with its evidence, region, policy version and
 *    reasons, the attempt and its device), where every field resolves and passes its access check.
 * 3. With BENCH_BEFORE=/path/to/checkout (built): this tree's server and that one's side by side
 *    instead, each given the same decisions at the same time, and each one's processor time per
 *    decision compared (see benchSideBySide).
 */
import 'reflect-metadata';
import { spawn, ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { freePort } from '../src/common/free-port';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { compiledSeedPolicy, engineFromSeeds } from '../src/decisions/engine-from-seeds';
import { Signals } from '../src/decisions/engine/types';
import { projectRoot } from '../src/config';
import { BACKEND_PIDS_SQL, processorMs, startBackendMeter } from './processor-time';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);
const SECONDS = Number(process.env.BENCH_SECONDS || 10);

const SIGNAL_MIX: Signals[] = [
  { gps: { latitude: 52.52, longitude: 13.405, accuracyMeters: 8 }, sim: { mcc: '262', mnc: '01' }, ipCountry: 'DE' },
  {
    gps: { latitude: 40.7128, longitude: -74.006, accuracyMeters: 15 },
    sim: { mcc: '310', mnc: '410' },
    ipCountry: 'US',
  },
  { gps: { latitude: 19.076, longitude: 72.8777, accuracyMeters: 30 }, sim: { mcc: '404', mnc: '10' } },
  { gps: { latitude: 23.1136, longitude: -82.3666, accuracyMeters: 12 }, sim: { mcc: '368', mnc: '01' } },
  { gps: { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 20 } },
  { sim: { mcc: '250', mnc: '01' }, ipCountry: 'RU' },
  { ipCountry: 'FR' },
];

function benchEngine(): void {
  const engine = engineFromSeeds([compiledSeedPolicy()]);
  const device = { deviceId: 1, modelCode: 'AR-5', partnerId: 1, locked: false, lockedByVersionId: null };
  const now = new Date();
  for (let warmup = 0; warmup < 20_000; warmup += 1) engine.decide(SIGNAL_MIX[warmup % SIGNAL_MIX.length], device, now);
  const count = 200_000;
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) engine.decide(SIGNAL_MIX[index % SIGNAL_MIX.length], device, now);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `engine alone: ${Math.round(count / seconds).toLocaleString('en')} decisions/s (${((seconds / count) * 1e6).toFixed(1)} µs each)`,
  );
}

/** The server process and, on PostgreSQL, the backends serving the bench's database. */
class ProcessorMeter {
  constructor(
    private readonly serverPid: number,
    private readonly databaseUrl: string | undefined,
  ) {}

  private async backendPids(): Promise<number[]> {
    if (!this.databaseUrl) return [];
    const client = new Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(BACKEND_PIDS_SQL);
      return rows.map((row: { pid: number }) => row.pid);
    } finally {
      await client.end();
    }
  }

  /** Starts measuring; the function it returns gives the processor ms spent since, by the server and by PostgreSQL. */
  async start(): Promise<() => Promise<{ serverMs: number; databaseMs: number }>> {
    const serverBefore = processorMs(this.serverPid) ?? 0;
    const stopBackends = await startBackendMeter(() => this.backendPids());
    return async () => ({
      serverMs: (processorMs(this.serverPid) ?? serverBefore) - serverBefore,
      databaseMs: await stopBackends(),
    });
  }
}

/** The bench's own admin key, so that it can make the gateway key it measures with. */
const ADMIN_KEY = `cgk_bench-${randomBytes(24).toString('hex')}`;

/**
 * Stops a server and waits for it to exit: the database is dropped right after, and a server still
 * closing its connections would print the drop's "terminating connection" errors as its own.
 */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
}

/**
 * BENCH_SERVER: the root of another checkout, built (`npx tsc -p tsconfig.build.json`), whose server to
 * measure instead of this one's — before and after a change on the same machine in the same hour, with
 * the same bench (issue 15 compares with the tree before it began).
 */
const SERVER_ROOT = process.env.BENCH_SERVER || projectRoot();

/** A server on a port the system picks (PORT=0), and the URL its log line says it serves. */
async function startServer(env: NodeJS.ProcessEnv, root = SERVER_ROOT): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [join(root, 'dist', 'src', 'main.js')], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      // A fixed port fails when another run, a test or a second worktree holds it. Another checkout's
      // server (BENCH_SERVER, BENCH_BEFORE) may predate PORT=0: it is given one free a moment ago.
      PORT: root === projectRoot() ? '0' : String(await freePort()),
      NODE_ENV: 'production',
      COMPLIANCE_ADMIN_KEY: ADMIN_KEY,
      // The service is measured, not its rate limit (the full payload's key is an ADMIN key).
      RATE_LIMIT_GATEWAY_PER_SECOND: '1000000',
      RATE_LIMIT_PER_SECOND: '1000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => {
      const served = /serves (http:\/\/\S+\/graphql)/.exec(chunk.toString());
      if (served) resolve(served[1].replace('localhost', '127.0.0.1'));
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { server, url };
}

async function post(url: string, query: string, variables?: object) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data: any };
}

/**
 * A key that may send any document (the bench's are not registered operations). A server from before
 * registered operations (BENCH_SERVER) has no such setting, and every key could.
 */
async function createKey(url: string, name: string, role: string): Promise<string> {
  const create = (setting: string) =>
    post(url, `mutation { createApiKey(input: { name: "${name}", role: ${role}${setting} }) { secret } }`);
  const created = (await create(', registeredOperationsOnly: false')) as { data?: any; errors?: { message: string }[] };
  if (created.data?.createApiKey) return created.data.createApiKey.secret as string;
  if (!created.errors?.some((error) => error.message.includes('registeredOperationsOnly'))) {
    throw new Error(`createApiKey failed: ${JSON.stringify(created.errors)}`);
  }
  return (await create('')).data.createApiKey.secret as string;
}

/** Sends `bodies` with `key` for `seconds` (or `amount` requests) from `connections` clients. */
function run(
  url: string,
  key: string,
  bodies: () => string,
  {
    connections = CONNECTIONS,
    seconds = SECONDS,
    amount,
  }: { connections?: number; seconds?: number; amount?: number } = {},
): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    ...(amount ? { amount } : { duration: seconds }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies() }) }],
  });
}

/** The IMEIs of the first 100 devices a decision may activate (the demo data's). */
async function decidableImeis(url: string): Promise<string[]> {
  const devices = await post(url, '{ devices(first: 100, filter: { statuses: [NEW, ACTIVE] }) { nodes { imei } } }');
  return devices.data.devices.nodes.map((node: { imei: string }) => node.imei);
}

/** What the gateway reads of a decision when it only enforces it. */
const OUTCOME_ONLY = 'decision { outcome } userErrors { code }';

/**
 * Everything a support client reads of a decision at once: the outcome with its reasons and lock
 * message, the region and its source, the policy version, the evidence (each signal's and each
 * policy's finding), and the attempt with its device. The device needs an ADMIN key (a GATEWAY key is
 * answered the decision, not the device); the rest is what a GATEWAY key may read.
 */
const FULL_PAYLOAD = `
  decision {
    outcome enforced reasonCodes lockMessage regionSource
    region { id code name kind }
    policyVersion { id number title action mode }
    explanation {
      signals { source usable regionCode finding detail }
      policies { policyKey applies finding detail policyVersion { id number } }
    }
  }
  attempt { id outcome occurredAt receivedAt resolvedRegion { code } device { id imei status lockedAt lockReason } }
  userErrors { field message code }`;

/**
 * Where a device is: one of three cities, or Crimea for about one device in fifty (locked by its
 * first decision), fixed by its IMEI's serial number so that it stays there through every run of
 * the bench — each run asks for its own list of devices. Phones do not move between Berlin, New
 * York and Mumbai a few milliseconds apart: a device that did would be held for review as
 * IMPOSSIBLE_TRAVEL on every decision, and the bench would measure holds, not activations.
 */
function placeOf(imei: string): Signals {
  const serial = Number(imei.slice(8, 14));
  return serial % 50 === 0 ? SIGNAL_MIX[4] : SIGNAL_MIX[serial % 3];
}

/** A decision request body: mostly allowed activations, as in real traffic; each a new attempt (new key). */
function decisionBodies(imeis: string[], tag: string, payload = OUTCOME_ONLY): () => string {
  let sequence = 0;
  const query = `mutation ($input: DecideActivationInput!) { decideActivation(input: $input) { ${payload} } }`;
  return () => {
    sequence += 1;
    const imei = imeis[sequence % imeis.length];
    return JSON.stringify({
      query,
      variables: { input: { imei, idempotencyKey: `bench-${tag}-${sequence}`, signals: placeOf(imei) } },
    });
  };
}

/**
 * Two instances on one PostgreSQL, each given half the clients, as a load balancer would. On a
 * two-core machine they share the cores with PostgreSQL and the load generator: this shows that
 * instances add up without errors, not how far they scale on real hardware.
 */
async function benchTwoInstances(env: NodeJS.ProcessEnv): Promise<void> {
  const started = [await startServer(env), await startServer(env)];
  const servers = started.map((instance) => instance.server);
  const urls = started.map((instance) => instance.url);
  try {
    const imeis = await decidableImeis(urls[0]);
    const key = await createKey(urls[0], 'bench-gateway-2', 'GATEWAY');
    const half = Math.max(1, Math.floor(CONNECTIONS / 2));
    const results = await Promise.all(
      urls.map((url, index) =>
        run(url, key, decisionBodies(imeis, `two-${process.pid}-${index}`), { connections: half }),
      ),
    );
    const total = results.reduce((sum, result) => sum + result.requests.average, 0);
    const errors = results.reduce((sum, result) => sum + result.errors + result.non2xx, 0);
    console.log(
      `PostgreSQL  decideActivation on 2 instances: ${Math.round(total)} req/s in all (${results.map((r) => Math.round(r.requests.average)).join(' + ')}), ` +
        `p99 ${Math.max(...results.map((r) => r.latency.p99))} ms, errors ${errors}`,
    );
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

/**
 * Asks the document once before it is timed: a refusal or an error answers 200 as fast as a
 * decision, and autocannon counts only transport errors, so a payload that is refused would be
 * measured as a quick success.
 */
async function probe(url: string, key: string, body: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
  });
  const answer = (await response.json()) as { data?: any; errors?: unknown };
  const payload = answer.data?.decideActivation;
  if (answer.errors || !payload?.decision || payload.userErrors?.length)
    throw new Error(`the bench's decision was not answered: ${JSON.stringify(answer)}`);
}

async function benchHttp(label: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { server, url } = await startServer(env);
  const meter = new ProcessorMeter(server.pid!, env.DATABASE_URL || undefined);
  /** A run with the processor time it cost per request. */
  const measured = async (key: string, bodies: () => string) => {
    const stop = await meter.start();
    const result = await run(url, key, bodies);
    const { serverMs, databaseMs } = await stop();
    const requests = Math.max(1, result.requests.total);
    return { result, serverMsPerRequest: serverMs / requests, databaseMsPerRequest: databaseMs / requests };
  };
  try {
    const imeis = await decidableImeis(url);
    const gatewayKey = await createKey(url, 'bench-gateway', 'GATEWAY');
    const adminKey = await createKey(url, 'bench-support', 'ADMIN');
    const tag = String(process.pid);
    const outcomeOnly = decisionBodies(imeis, `${tag}-outcome`);
    const full = decisionBodies(imeis, `${tag}-full`, FULL_PAYLOAD);
    await probe(url, gatewayKey, outcomeOnly());
    await probe(url, adminKey, full());
    // The baseline and the outcome-only decisions go through the same authentication with the same GATEWAY key.
    const typename = JSON.stringify({ query: '{ __typename }' });
    const baseline = await measured(gatewayKey, () => typename);
    const decisions = await measured(gatewayKey, outcomeOnly);
    const fullDecisions = await measured(adminKey, full);
    const database = Boolean(env.DATABASE_URL);
    const row = (
      name: string,
      { result, serverMsPerRequest, databaseMsPerRequest }: Awaited<ReturnType<typeof measured>>,
    ) =>
      `${label.padEnd(11)} ${name.padEnd(30)} ${String(Math.round(result.requests.average)).padStart(7)} req/s  p50 ${String(result.latency.p50).padStart(3)} ms  p99 ${String(result.latency.p99).padStart(3)} ms  errors ${result.errors + result.non2xx}` +
      `  CPU/request: server ${serverMsPerRequest.toFixed(2)} ms${database ? ` + PostgreSQL ${databaseMsPerRequest.toFixed(2)} ms` : ''}`;
    const ratio = (run: Awaited<ReturnType<typeof measured>>) =>
      (run.result.requests.average / baseline.result.requests.average).toFixed(2);
    console.log(row('{ __typename }', baseline));
    console.log(row('decideActivation { outcome }', decisions));
    console.log(row('decideActivation, full payload', fullDecisions));
    console.log(
      `${label.padEnd(11)} ratio decideActivation / __typename: ${ratio(decisions)} (outcome only), ${ratio(fullDecisions)} (full payload)`,
    );
  } finally {
    await stopServer(server);
  }
}

/** Decisions sent to each server in each round of a side-by-side comparison (BENCH_BEFORE), and the rounds. */
const SIDE_BY_SIDE_REQUESTS = Number(process.env.BENCH_REQUESTS || 3000);
const SIDE_BY_SIDE_ROUNDS = Number(process.env.BENCH_ROUNDS || 5);

/** One server of a side-by-side comparison, ready to be sent decisions. */
interface Contender {
  name: string;
  server: ChildProcess;
  meter: ProcessorMeter;
  decide: (limit: { seconds?: number; amount?: number }) => Promise<autocannon.Result>;
}

async function contender(
  name: string,
  root: string,
  env: NodeJS.ProcessEnv,
  payload: string,
  connections: number,
): Promise<Contender> {
  const { server, url } = await startServer(env, root);
  try {
    const imeis = await decidableImeis(url);
    // The full payload reads the device, which a GATEWAY key is not answered (see FULL_PAYLOAD).
    const key = await createKey(url, `bench-${name}`, payload === OUTCOME_ONLY ? 'GATEWAY' : 'ADMIN');
    const bodies = decisionBodies(imeis, `${process.pid}-${name}`, payload);
    await probe(url, key, bodies());
    const decide = (limit: { seconds?: number; amount?: number }) => run(url, key, bodies, { connections, ...limit });
    return { name, server, meter: new ProcessorMeter(server.pid!, env.DATABASE_URL || undefined), decide };
  } catch (error) {
    await stopServer(server);
    throw error;
  }
}

/**
 * Before and after on a shared machine: run one after the other, two trees' throughputs differ by
 * whatever else the machine did meanwhile (a third either way at a load of 5–10 here). Side by side,
 * both servers get the same decisions at the same time, so both meet the same load, and each one's
 * processor time per decision (the server's, plus its database backends' on PostgreSQL) is compared
 * round by round. A round sends each the same number of decisions (by time instead, the server that
 * answered more batched more — SQLite's group commit, PostgreSQL's multi-row INSERT — and so cost
 * less per decision: this tree against itself measured 1.10–1.37); the slower one finishes its last
 * decisions alone, which flatters it, so a difference shown is if anything understated. Each server
 * has its own fresh database with its own tree's demo data: the devices decided are picked the same
 * way, their histories are each tree's. This tree against itself (BENCH_BEFORE=. after a build) shows
 * the method's own spread.
 */
async function benchSideBySide(
  label: string,
  beforeRoot: string,
  environment: () => Promise<{ env: NodeJS.ProcessEnv; release: () => Promise<void> }>,
): Promise<void> {
  for (const [payloadName, payload] of [
    ['{ outcome }', OUTCOME_ONLY],
    ['full payload', FULL_PAYLOAD],
  ] as const) {
    const databases: Awaited<ReturnType<typeof environment>>[] = [];
    const contenders: Contender[] = [];
    try {
      databases.push(await environment(), await environment());
      const half = Math.max(1, Math.floor(CONNECTIONS / 2));
      contenders.push(await contender('before', beforeRoot, databases[0].env, payload, half));
      contenders.push(await contender('this tree', projectRoot(), databases[1].env, payload, half));
      await Promise.all(contenders.map((side) => side.decide({ amount: 1_000 })));
      const ratios: number[] = [];
      for (let round = 1; round <= SIDE_BY_SIDE_ROUNDS; round += 1) {
        const stops = await Promise.all(contenders.map((side) => side.meter.start()));
        // Which one's clients connect first alternates, so neither is always a moment ahead.
        const order = round % 2 === 0 ? [...contenders].reverse() : contenders;
        const results = new Map(
          await Promise.all(
            order.map(async (side) => [side, await side.decide({ amount: SIDE_BY_SIDE_REQUESTS })] as const),
          ),
        );
        const spent = await Promise.all(stops.map((stop) => stop()));
        const perDecision = contenders.map((side, index) => {
          const result = results.get(side)!;
          const errors = result.errors + result.non2xx;
          if (errors > 0) throw new Error(`${side.name}: ${errors} failed requests in round ${round}`);
          const decisions = Math.max(1, result.requests.total);
          return {
            serverMs: spent[index].serverMs / decisions,
            databaseMs: spent[index].databaseMs / decisions,
          };
        });
        const total = (side: (typeof perDecision)[number]) => side.serverMs + side.databaseMs;
        ratios.push(total(perDecision[1]) / total(perDecision[0]));
        const shown = (side: (typeof perDecision)[number]) =>
          `${side.serverMs.toFixed(2)} ms${label === 'PostgreSQL' ? ` + PostgreSQL ${side.databaseMs.toFixed(2)} ms` : ''}`;
        console.log(
          `${label.padEnd(11)} ${payloadName.padEnd(13)} round ${round}: processor time per decision, before ${shown(perDecision[0])}, ` +
            `this tree ${shown(perDecision[1])}: this tree / before ${ratios.at(-1)!.toFixed(2)} (load ${loadavg()[0].toFixed(1)})`,
        );
      }
      const sorted = [...ratios].sort((a, b) => a - b);
      const middle = sorted.length / 2;
      const median = sorted.length % 2 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
      console.log(
        `${label.padEnd(11)} ${payloadName.padEnd(13)} this tree / before: median ${median.toFixed(2)} ` +
          `(${sorted[0].toFixed(2)}–${sorted.at(-1)!.toFixed(2)} over ${ratios.length} rounds of ${SIDE_BY_SIDE_REQUESTS} decisions)`,
      );
    } finally {
      await Promise.all(contenders.map((side) => stopServer(side.server)));
      for (const database of databases) await database.release();
    }
  }
}

async function main(): Promise<void> {
  console.log(
    `machine: ${cpus().length} × ${cpus()[0].model}, Node ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per run`,
  );
  const beforeRoot = process.env.BENCH_BEFORE;
  if (beforeRoot) {
    if (process.env.BENCH_SERVER) throw new Error('BENCH_BEFORE compares with this tree: leave BENCH_SERVER unset');
    if (!(SIDE_BY_SIDE_ROUNDS >= 1)) throw new Error(`BENCH_ROUNDS must be 1 or more; got ${process.env.BENCH_ROUNDS}`);
    console.log(`side by side with the server of ${beforeRoot}`);
    await benchSideBySide('SQLite', beforeRoot, async () => {
      const directory = mkdtempSync(join(tmpdir(), 'decision-bench-'));
      return {
        env: { DATABASE_URL: '', SQLITE_PATH: join(directory, 'bench.sqlite') },
        release: async () => rmSync(directory, { recursive: true, force: true }),
      };
    });
    const url = process.env.DATABASE_URL;
    if (!url) return;
    await benchSideBySide('PostgreSQL', beforeRoot, async () => {
      const database = await createTemporaryDatabase(url, 'cg_decision_bench');
      return { env: { DATABASE_URL: database.url }, release: () => database.drop() };
    });
    return;
  }
  benchEngine();
  const directory = mkdtempSync(join(tmpdir(), 'decision-bench-'));
  try {
    await benchHttp('SQLite', { DATABASE_URL: '', SQLITE_PATH: join(directory, 'bench.sqlite') });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const database = await createTemporaryDatabase(url, 'cg_decision_bench');
  try {
    await benchHttp('PostgreSQL', { DATABASE_URL: database.url });
    await benchTwoInstances({ DATABASE_URL: database.url });
  } finally {
    await database.drop();
  }
}

void main();
