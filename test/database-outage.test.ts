/**
 * PostgreSQL stops under load (simulated by cutting a TCP proxy between the server and the
 * database, so other suites sharing the database are not disturbed): requests fail fast with
 * DATABASE_UNAVAILABLE, /readyz says so, and service resumes by itself when the database is back.
 */
import { createServer, Server, Socket, connect } from 'node:net';
import { createTemporaryDatabase } from '../src/db/temporary-database';
import { readDatabaseSettings } from '../src/config';
import { usingPostgres } from './support/database';
import { decideActivationWith } from './support/decisions';
import {
  freePort,
  postTo,
  startServer,
  createPartnerOver,
  processImei,
  registerDevicesOver,
} from './support/server-process';

jest.setTimeout(120_000);
const imei = processImei;

/** Forwards a local port to PostgreSQL; `cut()` drops every connection and refuses new ones. */
class Proxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async cut(): Promise<void> {
    const server = this.server!;
    this.server = null;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

(usingPostgres ? describe : describe.skip)('PostgreSQL going away under load', () => {
  it('fails fast with a clear code, reports it in /readyz, and recovers by itself', async () => {
    const real = new URL(readDatabaseSettings().url!);
    const database = await createTemporaryDatabase(real.toString(), 'cg_outage');
    const proxy = new Proxy(await freePort(), { host: real.hostname, port: Number(real.port || 5432) });
    await proxy.open();
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    const decide = (serial: number) =>
      decideActivationWith(
        postTo(server!.url),
        { imei: imei(serial), signals: { gps: { latitude: 52.52, longitude: 13.405 } } },
        'decision { outcome } userErrors { code }',
      );
    try {
      server = await startServer({ DATABASE_URL: viaProxy.toString(), DATABASE_TIMEOUT_MS: '1000' });
      await registerDevicesOver(server!.url, await createPartnerOver(server!.url, 'Outage'), 20);
      expect((await decide(1)).body.data.decideActivation.decision.outcome).toBe('ALLOW');

      await proxy.cut();
      const started = Date.now();
      const during = await Promise.all(Array.from({ length: 20 }, (_, index) => decide(index + 1)));
      const elapsed = Date.now() - started;
      for (const result of during) {
        expect(result.body.errors?.[0]).toMatchObject({
          message: 'the database is unavailable; retry shortly',
          extensions: { code: 'DATABASE_UNAVAILABLE' },
        });
      }
      // A 1 s timeout: nothing hangs, whatever the requests were waiting for.
      expect(elapsed).toBeLessThan(5_000);
      const readiness = await fetch(`${server!.origin}/readyz`);
      expect(readiness.status).toBe(503);
      expect(((await readiness.json()) as any).checks.database.ok).toBe(false);
      expect((await fetch(`${server!.origin}/healthz`)).status).toBe(200);

      await proxy.open();
      let recovered = false;
      for (let attempt = 0; attempt < 50 && !recovered; attempt += 1) {
        const result = await decide(2);
        recovered = result.body.data?.decideActivation?.decision?.outcome === 'ALLOW';
        if (!recovered) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(recovered).toBe(true);
      expect((await fetch(`${server!.origin}/readyz`)).status).toBe(200);
      expect(server!.child.exitCode).toBeNull();
    } finally {
      server?.child.kill('SIGKILL');
      await proxy.cut().catch(() => undefined);
      await database.drop();
    }
  });
});
