import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { imeiOf } from './imei';
import { join } from 'node:path';
import { freePort } from '../../src/common/free-port';

export { freePort };

const ROOT = join(__dirname, '..', '..');
export const PROCESS_ADMIN_KEY = 'cgk_process-test-admin-key-0123456789abcdef';

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  origin: string;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  /**
   * Start it exactly as a user does: `npm start` (the build step, then the compiled server) in its
   * own process group, with neither Jest's NODE_ENV=test nor its NODE_OPTIONS. Otherwise the compiled
   * server when its build is current, or src/main.ts through ts-node.
   */
  asNpmStart?: boolean;
}

let compiledServerIsCurrent: boolean | undefined;

/**
 * The server compiled from today's sources, when `npm start` or CI built it: it starts on about a
 * second of processor time, where ts-node transpiles every source file again for each process (4 s
 * of processor time, 10–18 s at the suite's load; the suites start 20-odd servers). When the build is
 * stale, the sources run through ts-node, as nothing here compiles (a build takes 20 s and more, inside
 * a test's time limit). Asked once per test process.
 */
function serverEntryPoint(): string[] {
  compiledServerIsCurrent ??=
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.mjs'), '--check', 'server'], { cwd: ROOT })
      .status === 0;
  return compiledServerIsCurrent
    ? [join(ROOT, 'dist', 'src', 'main.js')]
    : ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')];
}

/** The real server as its own process (src/main.ts through ts-node, or `npm start` itself). */
export function spawnServer(
  env: NodeJS.ProcessEnv,
  options: SpawnOptions = {},
): {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
} {
  const environment: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    SEED_DEMO_DATA: 'false',
    COMPLIANCE_ADMIN_KEY: PROCESS_ADMIN_KEY,
    // These tests load the server on purpose; rate limits have their own tests.
    RATE_LIMIT_PER_SECOND: '1000000',
    ...env,
  };
  if (options.asNpmStart) delete environment.NODE_ENV;
  const child = options.asNpmStart
    ? spawn('npm', ['start'], { cwd: ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, serverEntryPoint(), {
        cwd: ROOT,
        env: environment,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(...chunk.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

export async function startServer(
  env: NodeJS.ProcessEnv,
  // A start migrates, loads reference and demo data and compiles through ts-node: 10–15 s on a quiet
  // machine, 40 s and more for one of two servers started together on a loaded one. Files that start
  // servers give each test 120 s.
  timeoutMs = 100_000,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const spawned = spawnServer({ ...env, PORT: String(port) }, options);
  let settled = false;
  await new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error(`no start within ${timeoutMs} ms: ${spawned.stderr.join('\n')}`)),
      timeoutMs,
    );
    const check = () => {
      if (settled) return;
      if (spawned.stdout.some((line) => line.includes('serves http'))) finish();
      else setTimeout(check, 50);
    };
    check();
    void spawned.exited.then((code) => finish(new Error(`server exited with ${code}: ${spawned.stderr.join('\n')}`)));
  }).catch((error: unknown) => {
    spawned.child.kill('SIGKILL');
    throw error;
  });
  const origin = `http://127.0.0.1:${port}`;
  return { ...spawned, origin, url: `${origin}/graphql` };
}

export async function graphql(url: string, query: string, variables?: unknown, key = PROCESS_ADMIN_KEY) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** `graphql` bound to one server and key: the `post` of helpers that take one (decideActivationWith). */
export const postTo =
  (url: string, key = PROCESS_ADMIN_KEY) =>
  (query: string, variables?: unknown) =>
    graphql(url, query, variables, key);

/** A valid IMEI of the seed model AR-5 for a serial number. */
export const processImei = (serial: number) => imeiOf(serial);

/** Creates a partner on a server process; resolves with its global ID. */
export async function createPartnerOver(url: string, name: string): Promise<string> {
  const partner = await graphql(
    url,
    'mutation ($name: String!) { createPartner(input: { name: $name, kind: CARRIER }) { partner { id } } }',
    { name },
  );
  return partner.body.data.createPartner.partner.id;
}

/** Registers `count` AR-5 devices (IMEIs from serial `first`) for a partner on a server process. */
export async function registerDevicesOver(url: string, partnerId: string, count: number, first = 1) {
  const result = await graphql(
    url,
    'mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { registeredCount userErrors { message } } }',
    {
      input: {
        partnerId,
        devices: Array.from({ length: count }, (_, index) => ({
          imei: processImei(first + index),
          serialNumber: `S${first + index}`,
          modelCode: 'AR-5',
          marketRegionCode: 'DE',
        })),
      },
    },
  );
  return result.body.data.registerDevices as { registeredCount: number; userErrors: { message: string }[] };
}
