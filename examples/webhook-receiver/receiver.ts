/**
 * A partner's webhook receiver for compliance-graph, in TypeScript with Node's standard library.
 * It accepts a delivery only when X-Compliance-Signature is a valid HMAC-SHA256 of the raw body made
 * with the endpoint's secret at a time within the tolerance, and handles each event once however
 * often it is delivered (deliveries are at least once: deduplicate by X-Compliance-Event-Id).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface WebhookEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: unknown;
}

export interface ReceiverOptions {
  /** The endpoint's secret, as createWebhookEndpoint returned it (`whsec_…`). */
  secret: string;
  /** How far the signature's time may be from this clock (default 300 s): older deliveries are replays. */
  toleranceSeconds?: number;
  /** Handles an event once; throw to have it delivered again later. */
  onEvent(event: WebhookEvent): Promise<void> | void;
  now?: () => number;
}

// #region verify-signature
/** Whether `header` (`t=<unix seconds>,v1=<hex>`) signs `rawBody` with `secret` within the tolerance. */
export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((part) => part.trim().split('=', 2));
  const timestamp = Number(parts.find(([key]) => key === 't')?.[1]);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  return parts
    .filter(([key]) => key === 'v1')
    .some(([, value]) => {
      const given = Buffer.from(value ?? '', 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}
// #endregion verify-signature

/** A request handler for `http.createServer` / `https.createServer`. */
export function webhookReceiver(options: ReceiverOptions) {
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  // #region deduplicate
  // Event ids already handled, with when: kept twice the tolerance, since an older delivery fails
  // the signature check anyway. Use a database table instead when you run several receivers.
  const handled = new Map<string, number>();
  const forgetOld = (at: number) => {
    for (const [id, seenAt] of handled) if (at - seenAt > 2 * tolerance) handled.delete(id);
  };
  // #endregion deduplicate
  return (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      // The signature covers the bytes as sent: verify before parsing.
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const at = now();
      const signature = request.headers['x-compliance-signature'];
      if (
        !verifySignature(options.secret, typeof signature === 'string' ? signature : undefined, rawBody, at, tolerance)
      ) {
        response.writeHead(400).end('bad signature');
        return;
      }
      const event = JSON.parse(rawBody) as WebhookEvent;
      forgetOld(at);
      if (handled.has(event.id)) {
        response.writeHead(200).end('duplicate');
        return;
      }
      try {
        await options.onEvent(event);
        handled.set(event.id, at);
        response.writeHead(200).end('ok');
      } catch {
        // Not marked as handled: the server retries with backoff.
        response.writeHead(500).end('failed');
      }
    });
  };
}
