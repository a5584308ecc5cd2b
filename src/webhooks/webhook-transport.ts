import { lookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { BlockList, LookupFunction, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { WebhookSettings } from '../config';

/** Addresses a partner's URL may not lead to: this service's own network (SSRF). */
const privateAddresses = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  privateAddresses.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::1', 128],
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  privateAddresses.addSubnet(network, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && privateAddresses.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** What is wrong with an endpoint URL, or null: HTTPS, a host, no credentials, no private literal address. */
export function endpointUrlProblem(url: string, settings: WebhookSettings): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url is not a valid URL';
  }
  if (parsed.protocol !== 'https:') return 'url must use https';
  if (parsed.username || parsed.password) return 'url must not carry credentials';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!settings.allowPrivateAddresses && (host === 'localhost' || isPrivateAddress(host)))
    return 'url must not point to a loopback or private address';
  return null;
}

export interface TransportResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** POSTs signed JSON to an endpoint: no redirects followed, a time limit, the answer's body ignored. */
export class WebhookTransport {
  private readonly ca: string[] | undefined;
  private readonly lookup: LookupFunction;

  constructor(private readonly settings: WebhookSettings) {
    this.ca = settings.caFile ? [...rootCertificates, readFileSync(settings.caFile, 'utf8')] : undefined;
    // A name that resolves to a private address is refused at connection time too (DNS can change).
    this.lookup = (hostname, options, callback) =>
      lookup(hostname, options, (error, address, family) => {
        if (error) return callback(error, address, family);
        const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
        if (!settings.allowPrivateAddresses && addresses.some((entry) => isPrivateAddress(entry)))
          return callback(new Error(`${hostname} resolves to a private address`), address, family);
        callback(null, address, family);
      });
  }

  post(url: string, body: string, headers: Record<string, string>): Promise<TransportResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      const finish = (statusCode: number | null, error: string | null) =>
        resolve({ statusCode, error: error?.slice(0, 500) ?? null, durationMs: Date.now() - started });
      const problem = endpointUrlProblem(url, this.settings);
      if (problem) return finish(null, problem);
      const outgoing = request(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
          timeout: this.settings.timeoutMs,
          ca: this.ca,
          lookup: this.lookup,
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            finish(status, status >= 200 && status < 300 ? null : `answered HTTP ${status}`);
          });
          response.on('error', (error) => finish(response.statusCode ?? null, error.message));
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${this.settings.timeoutMs} ms`)));
      outgoing.on('error', (error) => finish(null, error.message));
      outgoing.end(body);
    });
  }
}
