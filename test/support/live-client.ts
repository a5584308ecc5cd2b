import WebSocket from 'ws';

/** What a test sees of one subscription: its payloads as they arrive, its errors, its end. */
export interface TestSubscription {
  events: any[];
  errors: any[];
  completed: boolean;
  /** Resolves once `count` payloads have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<any[]>;
}

/**
 * A graphql-ws client written out (the protocol is five message types), so that a test can see
 * close codes and reasons, and can stop reading altogether.
 */
export class LiveTestClient {
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly subscriptions = new Map<string, TestSubscription>();
  private nextId = 1;

  private constructor(url: string) {
    this.socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    this.closed = new Promise((resolve) =>
      this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      const subscription = this.subscriptions.get(message.id);
      if (!subscription) return;
      if (message.type === 'next') {
        if (message.payload.errors) subscription.errors.push(...message.payload.errors);
        if (message.payload.data) subscription.events.push(message.payload.data);
      } else if (message.type === 'error') subscription.errors.push(...message.payload);
      else if (message.type === 'complete') subscription.completed = true;
    });
  }

  /** Connects and sends connection_init; resolves on the ack, or with the close if refused. */
  static async connect(
    url: string,
    key: string | null,
  ): Promise<{ client: LiveTestClient; refused?: { code: number; reason: string } }> {
    const client = new LiveTestClient(url);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
    });
    client.socket.send(
      JSON.stringify({ type: 'connection_init', payload: key ? { authorization: `Bearer ${key}` } : {} }),
    );
    const outcome = await Promise.race([
      new Promise<'ack'>((resolve) =>
        client.socket.on('message', (data) => {
          if (JSON.parse(data.toString()).type === 'connection_ack') resolve('ack');
        }),
      ),
      client.closed,
    ]);
    return outcome === 'ack' ? { client } : { client, refused: outcome };
  }

  subscribe(query: string, variables?: Record<string, unknown>): TestSubscription {
    const id = String(this.nextId++);
    const subscription: TestSubscription = {
      events: [],
      errors: [],
      completed: false,
      waitFor: async (count, timeoutMs = 5_000) => {
        const deadline = Date.now() + timeoutMs;
        while (subscription.events.length < count) {
          if (Date.now() > deadline)
            throw new Error(`${subscription.events.length} of ${count} events in ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return subscription.events;
      },
    };
    this.subscriptions.set(id, subscription);
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    return subscription;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** Waits until `condition` holds (polling), failing after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
