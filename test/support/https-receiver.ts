import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A self-signed certificate for localhost made with the machine's openssl; its file is what the
 * server is given as WEBHOOK_CA_FILE.
 */
export function localhostCertificate(): { key: string; cert: string } {
  const directory = mkdtempSync(join(tmpdir(), 'receiver-'));
  const [key, cert] = [join(directory, 'key.pem'), join(directory, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}

/** An answer that never comes. */
export const HANG = -1;

export interface ReceivedRequest {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

/**
 * A partner's HTTPS endpoint for tests (a localhostCertificate), every request kept, and an answer
 * that can be made to fail.
 */
export class HttpsReceiver {
  readonly received: ReceivedRequest[] = [];
  /** The status for the next requests, in order; 200 when the list is used up. */
  answers: number[] = [];
  private server!: Server;
  caFile!: string;
  url!: string;

  async start(): Promise<void> {
    const { key, cert } = localhostCertificate();
    this.caFile = cert;
    this.server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const answered = this.answers.shift() ?? 200;
        this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString(), answered });
        // HANG: no answer at all, as an endpoint that has stopped responding.
        if (answered !== HANG) response.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://localhost:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
