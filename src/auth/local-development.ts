import { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';

/** Names under which a browser on this machine reaches it: a page under any other name is not ours. */
function namesThisMachine(host: string): boolean {
  const name = host.toLowerCase();
  return ['localhost', '127.0.0.1', '[::1]', hostname().toLowerCase()].includes(name);
}

/**
 * Whether a request may be given development secrets (the admin key in the IDE's or the console's
 * headers): it comes from this machine over loopback, was not relayed by a proxy (which would make
 * every client look local), and its `Host` header names this machine at the port the server itself
 * listens on. The last check defeats DNS rebinding: a page from `attacker.example` that rebinds its
 * name to 127.0.0.1 reaches this server from loopback, but its requests still say
 * `Host: attacker.example`; a page served by another local server says that server's port.
 */
export function isLocalDevelopmentRequest(request: IncomingMessage): boolean {
  const { remoteAddress, localPort } = request.socket;
  const loopback = remoteAddress === '::1' || remoteAddress === '127.0.0.1' || remoteAddress === '::ffff:127.0.0.1';
  if (!loopback || request.headers['x-forwarded-for'] || request.headers.forwarded) return false;
  const host = request.headers.host;
  if (!host) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (!match) return false;
  const [, name, port] = match;
  // Without a port the browser meant the scheme's default, which is ours only if we listen on it.
  return namesThisMachine(name) && Number(port ?? 80) === localPort;
}
