import { lookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import ipaddr from 'ipaddr.js';
import { WebhookSettings } from '../config';

/**
 * Whether an address is public unicast, the only kind a partner's endpoint may have: everything else
 * (loopback, private, carrier-grade NAT, link-local, multicast, broadcast, benchmarking 198.18.0.0/15,
 * documentation and reserved blocks, unique-local, and IPv6 forms that carry or translate to another
 * address — NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo, SIIT) could reach this service's own network
 * (SSRF). ipaddr.js keeps the IANA special-purpose registries; an IPv4-mapped IPv6 address is the
 * IPv4 address it maps.
 */
export function isPublicUnicast(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}

/** What is wrong with an endpoint URL, or null: HTTPS, a host, no credentials, no literal address that is not public. */
export function endpointUrlProblem(url: string, settings: WebhookSettings): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url is not a valid URL';
  }
  if (parsed.protocol !== 'https:') return 'url must use https';
  if (parsed.username || parsed.password) return 'url must not carry credentials';
  // Brackets of an IPv6 literal and the root's trailing dot (`localhost.` is localhost) are not part of the name.
  const host = parsed.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (settings.allowPrivateAddresses) return null;
  if (host === 'localhost' || host.endsWith('.localhost')) return 'url must not point to a loopback or private address';
  if (ipaddr.isValid(host) && !isPublicUnicast(host)) return 'url must not point to a loopback or private address';
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
    // A name that resolves to an address that is not public is refused at connection time too (DNS
    // can change); a literal address is checked again by `post` before every try.
    this.lookup = (hostname, options, callback) =>
      lookup(hostname, options, (error, address, family) => {
        if (error) return callback(error, address, family);
        const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
        if (!settings.allowPrivateAddresses && addresses.some((entry) => !isPublicUnicast(entry)))
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
