import { Client } from 'pg';

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export interface ListenerHandlers {
  /** A notification on the channel (its payload, if any). */
  onNotification(payload: string | undefined): void;
  /** The connection is up and listening: changes made while nobody listened may have been missed. */
  onConnected?(): void;
  /** The connection was lost (it is being reconnected). */
  onLost?(): void;
}

/**
 * One connection that LISTENs on one PostgreSQL channel, reconnected with backoff (1 s doubling to
 * 30 s) when it is lost, until closed. The rules cache and the live-event bus each hold one.
 */
export class PostgresListener {
  private client: Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private wanted = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly handlers: ListenerHandlers,
  ) {}

  /** Whether the connection is up now. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** Whether start() was called and close() not since. */
  get started(): boolean {
    return this.wanted;
  }

  /** Connects and listens; a failure is thrown (and retried in the background). */
  async start(): Promise<void> {
    if (this.client) return;
    this.wanted = true;
    await this.connect(RETRY_FIRST_MS);
  }

  private async connect(retryInMs: number): Promise<void> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.handlers.onNotification(message.payload);
    });
    client.on('error', () => undefined);
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = null;
      this.handlers.onLost?.();
      this.scheduleReconnect(RETRY_FIRST_MS);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      if (this.client === null) this.scheduleReconnect(retryInMs);
      throw error;
    }
    if (!this.wanted) {
      await client.end();
      return;
    }
    this.client = client;
    this.handlers.onConnected?.();
  }

  private scheduleReconnect(delayMs: number): void {
    if (!this.wanted || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect(Math.min(delayMs * 2, RETRY_MAX_MS)).catch(() => undefined);
    }, delayMs);
    this.reconnectTimer.unref();
  }

  /** Stops listening; start() may begin again. */
  async close(): Promise<void> {
    this.wanted = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    await client?.end();
  }
}
