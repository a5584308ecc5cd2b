/** Health, readiness, metrics, request logs, configuration checks and the online backup. */
import { Writable } from 'node:stream';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, createApp } from '../src/app';
import { readDatabaseSettings, readSettings } from '../src/config';
import { createDataSource } from '../ormconfig';
import { Evaluator } from '../src/decisions/evaluator';
import { backupSqlite } from '../src/db/backup';
import { createLogger } from '../src/ops/logger';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { imeiOf } from './support/imei';
import { decideActivationWith } from './support/decisions';

const ADMIN_KEY = 'cgk_operations-test-admin-key-0123456789abcdef';
const imei = (serial: number) => imeiOf(serial);
let database: TestDatabase;
let app: App;
let origin: string;
const logLines: Record<string, any>[] = [];

async function post(query: string, variables?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

beforeAll(async () => {
  database = await openTestDatabase();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  app = await createApp(database.dataSource, { ...database.settings, adminKey: ADMIN_KEY }, createLogger('info', sink));
  const server: Server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const partner = await post(`mutation { createPartner(input: { name: "Ops", kind: CARRIER }) { partner { id } } }`);
  await post(`mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { userErrors { message } } }`, {
    input: {
      partnerId: partner.body.data.createPartner.partner.id,
      devices: [1, 2].map((serial) => ({
        imei: imei(serial),
        serialNumber: `O${serial}`,
        modelCode: 'AR-5',
        marketRegionCode: 'DE',
      })),
    },
  });
});
afterAll(async () => {
  await app.apollo.stop();
  await database.close();
});

describe('health', () => {
  it('answers /healthz, and /readyz with each check', async () => {
    expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({ status: 'ok' });
    // The evaluator compiles on the first decision (main.ts compiles it before listening).
    await decideActivationWith(post, { imei: imei(2), signals: { ipCountry: 'DE' } }, 'userErrors { code }');
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, migrations: { ok: true }, evaluator: { ok: true } },
    });
  });
});

describe('metrics and logs', () => {
  it('counts requests and decisions, and logs one line per request without secrets or coordinates', async () => {
    // Its own document: the operation's name is what the log line must show.
    const decided = await post(
      `mutation Decide($input: DecideActivationInput!) { decideActivation(input: $input) { decision { outcome region { code } } userErrors { code } } }`,
      { input: { imei: imei(1), signals: { gps: { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 5 } } } },
      { 'x-request-id': 'req-ops-1' },
    );
    expect(decided.body.data.decideActivation.decision).toEqual({ outcome: 'LOCK', region: { code: 'UA-43' } });
    expect(decided.headers.get('x-request-id')).toBe('req-ops-1');
    await post('{ devicez { totalCount } }');

    const metrics = await (await fetch(`${origin}/metrics`)).text();
    expect(metrics).toMatch(/graphql_requests_total\{operation="decideActivation",result="ok"\} [1-9]/);
    expect(metrics).toMatch(/graphql_requests_total\{operation="unknown",result="GRAPHQL_VALIDATION_FAILED"\} [1-9]/);
    expect(metrics).toMatch(/activation_decisions_total\{outcome="LOCK",region="UA-43",enforced="true"\} [1-9]/);
    expect(metrics).toMatch(/activation_decision_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/process_resident_memory_bytes/);

    const line = logLines.find((entry) => entry.requestId === 'req-ops-1' && entry.msg === 'request');
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/graphql',
      status: 200,
      operation: 'decideActivation',
      operationName: 'Decide',
      result: 'ok',
      role: 'ADMIN',
    });
    expect(typeof line!.durationMs).toBe('number');
    const everything = JSON.stringify(logLines);
    expect(everything).not.toContain(ADMIN_KEY);
    expect(everything).not.toMatch(/44\.95|34\.10/);
  });
});

describe('configuration', () => {
  it.each([
    [{ DATABASE_URL: 'mysql://localhost/x' }, /DATABASE_URL must start with postgres:\/\//],
    [{ DATABASE_URL: 'postgres://' }, /DATABASE_URL names no host/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud"/],
    [{ PORT: '70000' }, /PORT must be an integer from 0 to 65535; got "70000"/],
    [{ SQLITE_SYNCHRONOUS: 'SOMETIMES' }, /SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA/],
    // 0 would turn checkpoints off: the WAL would grow without end.
    [{ SQLITE_WAL_AUTOCHECKPOINT: '0' }, /SQLITE_WAL_AUTOCHECKPOINT must be an integer from 100 to 1000000; got "0"/],
    [{ COMPLIANCE_ADMIN_KEY: 'short' }, /COMPLIANCE_ADMIN_KEY must be at least 32 characters/],
    [{ SEED_DEMO_DATA: 'yes' }, /SEED_DEMO_DATA must be true or false/],
    [{ DATABASE_TIMEOUT_MS: '10' }, /DATABASE_TIMEOUT_MS must be an integer from 100/],
    [{ MAX_GPS_ACCURACY_METERS: '5km' }, /MAX_GPS_ACCURACY_METERS must be an integer from 1 to 100000; got "5km"/],
    [{ MAX_GPS_ACCURACY_METERS: '0' }, /MAX_GPS_ACCURACY_METERS must be an integer/],
    [{ SQL_LOG: 'yes' }, /SQL_LOG must be true or false/],
    [{ MAX_QUERY_COST_NODES: '10' }, /MAX_QUERY_COST_NODES must be an integer from 100/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });

  it('reads every variable of the README through the validated settings: a bad value of any names it', () => {
    const table = readFileSync(join(__dirname, '..', 'README.md'), 'utf8').split('## Configuration')[1];
    const names = [
      ...new Set(
        [...table.split('\n## ')[0].matchAll(/^\| [^|]*/gm)].flatMap(
          (cell) => cell[0].match(/[A-Z][A-Z0-9_]{2,}/g) ?? [],
        ),
      ),
    ];
    // Free text: any value is a valid path or mode.
    const freeText = new Set(['SQLITE_PATH', 'NODE_ENV']);
    expect(names.length).toBeGreaterThan(25);
    for (const name of names.filter((candidate) => !freeText.has(candidate))) {
      expect(() => readSettings({ [name]: 'no:such value' })).toThrow(new RegExp(`\\b${name}\\b`));
    }
  });

  (usingPostgres ? it.skip : it)('opens SQLite with the WAL checkpoint interval configured', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'compliance-graph-wal-'));
    for (const [env, pages] of [
      [{}, 10_000],
      [{ SQLITE_WAL_AUTOCHECKPOINT: '2500' }, 2_500],
    ] as const) {
      const dataSource = createDataSource({
        ...readDatabaseSettings({ ...env }),
        sqlitePath: join(directory, `wal-${pages}.sqlite`),
      });
      await dataSource.initialize();
      try {
        expect(await dataSource.query('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: pages }]);
      } finally {
        await dataSource.destroy();
      }
    }
  });

  it('reads nothing from the environment outside the settings module', () => {
    const sources = (directory: string): string[] =>
      readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? sources(join(directory, entry.name))
          : entry.name.endsWith('.ts')
            ? [join(directory, entry.name)]
            : [],
      );
    const root = join(__dirname, '..');
    const readers = [...sources(join(root, 'src')), join(root, 'ormconfig.ts')]
      .filter((file) => !file.endsWith(join('src', 'config.ts')))
      .filter((file) => /process\.env/.test(readFileSync(file, 'utf8')))
      .map((file) => file.slice(root.length + 1));
    expect(readers).toEqual([]);
  });

  it('decides with the configured GPS accuracy', async () => {
    const crimea = { gps: { latitude: 44.9521, longitude: 34.1024, accuracyMeters: 800 } };
    const facts = { deviceId: 1, modelCode: 'X', partnerId: 1, locked: false, lockedByVersionId: null };
    const strict = await new Evaluator(database.dataSource, { maxGpsAccuracyMeters: 500 }).compile();
    const lenient = await new Evaluator(database.dataSource, { maxGpsAccuracyMeters: 1_000 }).compile();
    expect(strict.engine.decide(crimea, facts, new Date()).regionSource).not.toBe('GPS');
    expect(lenient.engine.decide(crimea, facts, new Date())).toMatchObject({
      regionSource: 'GPS',
      regionCode: 'UA-43',
    });
  });

  it('never echoes a database password', () => {
    expect(() => readSettings({ DATABASE_URL: 'mysql://admin:s3cret@db.example/x' })).toThrow(/^(?!.*s3cret)/);
  });
});

(usingPostgres ? describe.skip : describe)('online backup (SQLite)', () => {
  it('copies a consistent database while decisions are being written', async () => {
    const target = join(mkdtempSync(join(tmpdir(), 'backup-test-')), 'copy.sqlite');
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await decideActivationWith(post, { imei: imei(2), signals: { ipCountry: 'DE' } }, 'userErrors { code }');
        written += 1;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { bytes } = backupSqlite(database.settings.database.sqlitePath, target);
    writing = false;
    await writer;
    expect(bytes).toBeGreaterThan(0);
    expect(written).toBeGreaterThan(0);
    const copy = new Database(target, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    const copied = (copy.prepare('SELECT COUNT(*) AS n FROM activation_attempt').get() as { n: number }).n;
    copy.close();
    const now = (await database.dataSource.query('SELECT COUNT(*) AS n FROM activation_attempt'))[0].n;
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThanOrEqual(Number(now));
    expect(() => backupSqlite(database.settings.database.sqlitePath, target)).toThrow(/exists/);
  });
});
