/**
 * The server as its own process: bad settings, a port in use, a graceful stop, and a kill -9 in
 * the middle of a decision load with nothing answered lost.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { readDatabaseSettings } from '../src/config';
import {
  createPartnerOver,
  freePort,
  graphql,
  postTo,
  processImei,
  registerDevicesOver,
  spawnServer,
  startServer,
} from './support/server-process';
import { usingPostgres } from './support/database';
import { decideActivationWith } from './support/decisions';

jest.setTimeout(120_000);
const imei = processImei;

/** A fresh database for one server process: a temporary SQLite file or PostgreSQL database. */
async function freshDatabase(): Promise<{ env: NodeJS.ProcessEnv; drop(): Promise<void> }> {
  if (usingPostgres) {
    const created = await createTemporaryDatabase(readDatabaseSettings().url!, 'cg_process');
    return { env: { DATABASE_URL: created.url }, drop: created.drop };
  }
  const directory = mkdtempSync(join(tmpdir(), 'process-test-'));
  return { env: { DATABASE_URL: '', SQLITE_PATH: join(directory, 'db.sqlite') }, drop: async () => undefined };
}

describe('start-up failures are one clear line and a non-zero exit', () => {
  it('refuses a bad setting without a stack dump', async () => {
    const { exited, stderr, stdout } = spawnServer({ LOG_LEVEL: 'loud' });
    expect(await exited).toBe(1);
    expect(stderr.join('\n')).toContain('configuration error: LOG_LEVEL must be one of');
    expect([...stderr, ...stdout].join('\n')).not.toMatch(/^\s+at /m);
  });

  it('says so when the port is in use', async () => {
    const port = await freePort();
    const blocker: Server = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const database = await freshDatabase();
    try {
      const { exited, stdout } = spawnServer({ ...database.env, PORT: String(port) });
      expect(await exited).toBe(1);
      expect(stdout.join('\n')).toContain(`port ${port} is in use`);
    } finally {
      blocker.close();
      await database.drop();
    }
  });
});

describe('a free port', () => {
  it('binds one the system picks with PORT=0 and names it in the line that says where it serves', async () => {
    const database = await freshDatabase();
    const { child, stdout, exited } = spawnServer({ ...database.env, PORT: '0' });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const check = () => {
          const served = stdout.map((line) => /serves (http:\/\/localhost:(\d+)\/graphql)/.exec(line)).find(Boolean);
          if (served) resolve(served[1]);
          else setTimeout(check, 50);
        };
        check();
        void exited.then((code) => reject(new Error(`server exited with ${code}`)));
      });
      expect(url).not.toContain(':0/');
      const answer = await graphql(url.replace('localhost', '127.0.0.1'), '{ __typename }');
      expect(answer.body.data).toEqual({ __typename: 'Query' });
    } finally {
      child.kill('SIGKILL');
      await exited;
      await database.drop();
    }
  });
});

describe('a running server', () => {
  it('finishes the requests in flight on SIGTERM, then exits 0', async () => {
    const database = await freshDatabase();
    const server = await startServer(database.env);
    try {
      const partnerId = await createPartnerOver(server.url, 'Big');
      // A large manifest keeps the server busy for a while.
      const inFlight = registerDevicesOver(server.url, partnerId, 5000, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      server.child.kill('SIGTERM');
      const answer = await inFlight;
      expect(answer).toEqual({ registeredCount: 5000, userErrors: [] });
      expect(await server.exited).toBe(0);
      expect(server.stdout.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });

  it('loses no answered decision to a kill -9 under load, records none twice, and serves again after a restart', async () => {
    /** What a decision answers here: the attempt it was recorded as (the same one on a retry with its key). */
    const KEPT = 'attempt { id } userErrors { code }';
    const database = await freshDatabase();
    let server = await startServer(database.env);
    try {
      await registerDevicesOver(server.url, await createPartnerOver(server.url, 'Load'), 50);
      const answered = new Map<string, string>();
      let sequence = 0;
      let running = true;
      const client = async () => {
        while (running) {
          const key = `kill-${(sequence += 1)}`;
          try {
            const result = await decideActivationWith(
              postTo(server.url),
              { imei: imei(1 + (sequence % 50)), idempotencyKey: key, signals: { ipCountry: 'DE' } },
              KEPT,
            );
            const id = result.body.data?.decideActivation?.attempt?.id;
            if (id) answered.set(key, id);
          } catch {
            // The connection died with the server: this one was not answered.
            return;
          }
        }
      };
      const clients = Array.from({ length: 16 }, client);
      // Kill once enough decisions were answered, not after a fixed time: on a loaded machine 1.5 s
      // answered fewer than the test needs, and the kill must still land while requests are in flight.
      const deadline = Date.now() + 60_000;
      while (answered.size <= 50 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      server.child.kill('SIGKILL');
      running = false;
      await Promise.all(clients);
      await server.exited;
      expect(answered.size).toBeGreaterThan(50);

      server = await startServer(database.env);
      // Every answered decision is there, under its key, once: asking again returns the same attempt.
      const keys = [...answered.keys()];
      for (let index = 0; index < keys.length; index += 50) {
        const batch = keys.slice(index, index + 50);
        const results = await Promise.all(
          batch.map((key) =>
            decideActivationWith(
              postTo(server.url),
              { imei: imei(1 + (Number(key.split('-')[1]) % 50)), idempotencyKey: key, signals: { ipCountry: 'DE' } },
              KEPT,
            ),
          ),
        );
        results.forEach((result, position) =>
          expect(result.body.data.decideActivation.attempt.id).toBe(answered.get(batch[position])),
        );
      }
      const count = await graphql(
        server.url,
        `
          {
            activationAttempts {
              totalCount
            }
          }
        `,
      );
      // Retries of answered keys wrote nothing; attempts recorded but not answered before the kill may exist.
      expect(count.body.data.activationAttempts.totalCount).toBeGreaterThanOrEqual(answered.size);
      expect(count.body.data.activationAttempts.totalCount).toBeLessThanOrEqual(sequence);
      const fresh = await decideActivationWith(
        postTo(server.url),
        { imei: imei(1), signals: { ipCountry: 'DE' } },
        'decision { outcome }',
      );
      expect(fresh.body.data.decideActivation.decision.outcome).toBe('ALLOW');
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });
});

describe('started exactly as `npm start` starts it (no NODE_ENV=test)', () => {
  // The first start may compile (when the sources changed since the last build): minutes on a busy machine.
  const START_TIMEOUT_MS = 240_000;
  const killGroup = (server: { child: { pid?: number } }, signal: NodeJS.Signals) => {
    try {
      process.kill(-server.child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  };

  it('stops on SIGTERM and on Ctrl-C by its own path: drains, closes the database, logs stopped, exits 0', async () => {
    const database = await freshDatabase();
    const started = await startServer(database.env, START_TIMEOUT_MS, { asNpmStart: true });
    try {
      const answer = await graphql(started.url, '{ viewer { role } }');
      expect(answer.body.data.viewer.role).toBe('ADMIN');
      // A service manager signals the main process; a terminal's Ctrl-C signals the whole group.
      killGroup(started, 'SIGTERM');
      expect(await started.exited).toBe(0);
      expect(started.stdout.filter((line) => line.includes('"msg":"stopped"'))).toHaveLength(1);
      if (!usingPostgres) {
        // The last connection closed: SQLite merged its write-ahead log into the database and removed it.
        expect(existsSync(`${database.env.SQLITE_PATH}-wal`)).toBe(false);
      }

      // A second start with unchanged sources does not compile again.
      const again = await startServer(database.env, START_TIMEOUT_MS, { asNpmStart: true });
      try {
        expect(again.stderr.join('\n')).not.toContain('building');
        killGroup(again, 'SIGINT');
        expect(await again.exited).toBe(0);
        expect(again.stdout.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
      } finally {
        killGroup(again, 'SIGKILL');
      }

      // With the build current a bad setting is reported at once, before anything compiles.
      const badPort = spawnServer({ ...database.env, PORT: 'forty' }, { asNpmStart: true });
      expect(await badPort.exited).toBe(1);
      expect(badPort.stderr.join('\n')).toContain('configuration error: PORT');
      expect(badPort.stderr.join('\n')).not.toContain('building');
    } finally {
      killGroup(started, 'SIGKILL');
      await database.drop();
    }
  }, 600_000);
});

describe('sweeps survive a restart', () => {
  it('carries a sweep interrupted by kill -9 to its end after a restart, changing each device exactly once', async () => {
    const database = await freshDatabase();
    const env = { ...database.env, SWEEP_BATCH_SIZE: '3', SWEEP_BATCH_PAUSE_MS: '200', SWEEP_LEASE_MS: '1000' };
    let server = await startServer(env);
    try {
      const devices = 30;
      await registerDevicesOver(server.url, await createPartnerOver(server.url, 'Sweep'), devices);
      const paris = { gps: { latitude: 48.8566, longitude: 2.3522, accuracyMeters: 5 } };
      for (let serial = 1; serial <= devices; serial += 1) {
        const decided = await decideActivationWith(
          postTo(server.url),
          { imei: imei(serial), signals: paris },
          'decision { outcome }',
        );
        expect(decided.body.data.decideActivation.decision.outcome).toBe('ALLOW');
      }
      const created = await graphql(
        server.url,
        `
          mutation {
            createPolicy(
              input: {
                key: "france"
                title: "t"
                description: "d"
                legalBasis: "l"
                action: LOCK
                mode: ENFORCE
                effectiveFrom: "2025-01-01T00:00:00Z"
                regionCodes: ["FR"]
                lockMessage: "No"
              }
            ) {
              policy {
                id
              }
            }
          }
        `,
      );
      const asked = await graphql(
        server.url,
        `
          mutation ($id: ID!) {
            activatePolicy(input: { id: $id }) {
              changeRequest {
                id
              }
            }
          }
        `,
        { id: created.body.data.createPolicy.policy.id },
      );
      const reviewer = await graphql(
        server.url,
        `
          mutation {
            createApiKey(input: { name: "second author", role: POLICY_AUTHOR }) {
              secret
            }
          }
        `,
      );
      const approved = await graphql(
        server.url,
        `
          mutation ($id: ID!) {
            approvePolicyChange(input: { id: $id }) {
              userErrors {
                message
              }
            }
          }
        `,
        { id: asked.body.data.activatePolicy.changeRequest.id },
        reviewer.body.data.createApiKey.secret,
      );
      expect(approved.body.data.approvePolicyChange.userErrors).toEqual([]);
      const started = await graphql(
        server.url,
        `
          mutation {
            startSweep(input: { policyKey: "france", action: LOCK_ACTIVE_DEVICES, dryRun: false }) {
              sweep {
                id
                total
              }
            }
          }
        `,
      );
      const { id, total } = started.body.data.startSweep.sweep;
      expect(total).toBe(devices);
      const SWEEP = `query ($id: ID!) { sweep(id: $id) { status processed changed failed } }`;
      const progress = async () => (await graphql(server.url, SWEEP, { id })).body.data.sweep;
      while ((await progress()).processed < 6) await new Promise((resolve) => setTimeout(resolve, 50));

      server.child.kill('SIGKILL');
      await server.exited;
      const interrupted = { processed: 0 };
      server = await startServer(env);
      interrupted.processed = (await progress()).processed;
      expect(interrupted.processed).toBeLessThan(devices);
      const deadline = Date.now() + 60_000;
      while ((await progress()).status !== 'COMPLETED' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await progress()).toEqual({ status: 'COMPLETED', processed: devices, changed: devices, failed: 0 });
      const locked = await graphql(
        server.url,
        `
          {
            devices(first: 50) {
              nodes {
                status
                statusHistory(first: 10) {
                  nodes {
                    cause
                    sweep {
                      id
                    }
                  }
                }
              }
            }
          }
        `,
      );
      for (const device of locked.body.data.devices.nodes) {
        expect(device.status).toBe('LOCKED');
        // The activation, then one lock by the sweep: none lost, none twice.
        expect(device.statusHistory.nodes).toEqual([
          { cause: 'SWEEP', sweep: { id } },
          { cause: 'DECISION', sweep: null },
        ]);
      }
      const audited = await graphql(
        server.url,
        `
          {
            auditEvents(first: 100, filter: { actions: ["device.locked"] }) {
              totalCount
            }
          }
        `,
      );
      expect(audited.body.data.auditEvents.totalCount).toBe(devices);
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });
});
