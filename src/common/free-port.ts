import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 free a moment ago (the system picks it), for tests and benchmarks that
 * start a server as a process and must tell it a port: one that is taken fails the start.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
