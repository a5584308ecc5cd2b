/**
 * Committed changes announced to every instance, for live subscriptions and for caches that must
 * not outlive a change (API keys).
 *
 * Terminology:
 * - live event: a small record naming what changed by ids only (`{ kind: 'decision', attemptId }`);
 *   whoever receives it reads the rows it needs, with the reader's rights.
 * - announce: an event inside a transaction; it is published when (and only if) the transaction
 *   commits. Writes outside a TypeORM transaction (the decision hot path) publish once their own
 *   commit has returned.
 * - delivery: on PostgreSQL, `pg_notify` on one channel, heard by every instance's LISTEN
 *   connection (this one's too), so all instances see the same stream; on SQLite (one instance)
 *   in-process. At most once: an instance that is not listening when an event is sent misses it
 *   (clients resume from queries).
 */
import { Pool } from 'pg';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { postgresPoolOf } from './pool';
import { PostgresListener } from './postgres-listener';

export type LiveEvent =
  | {
      kind: 'decision';
      attemptId: number;
      /**
       * The attempt's occurredAt (ISO), so receivers find it in one month's partition; missing
       * from an instance that predates it (then every month is probed).
       */
      occurredAt?: string;
      partnerId: number;
      /** Milliseconds since the epoch when the decision's commit returned (for delay measurements). */
      committedAt: number;
    }
  | { kind: 'review'; attemptId: number; occurredAt?: string; change: 'OPENED' | 'RESOLVED' }
  | { kind: 'device'; deviceId: number }
  | { kind: 'sweep'; sweepId: number }
  /** An API key was revoked or changed: caches drop it, its connections are closed. */
  | { kind: 'apiKey'; keyId: number };

export type LiveEventListener = (events: LiveEvent[]) => void;

const CHANNEL = 'compliance_live';
/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more: larger batches are split. */
const MAX_PAYLOAD_BYTES = 7_000;
/** Where a transaction's announced events wait for its commit. */
const PENDING = 'liveEvents';

/**
 * The live-event bus of one database, attached to its DataSource as a TypeORM subscriber so that
 * events announced inside a transaction leave after its commit and are dropped on its rollback.
 */
export class LiveEvents implements EntitySubscriberInterface {
  private readonly listeners = new Set<LiveEventListener>();
  private outgoing: LiveEvent[] = [];
  private listener: PostgresListener | null = null;
  /** Events published by this instance / received from the bus (for tests and metrics). */
  published = 0;
  received = 0;

  private constructor(private readonly dataSource: DataSource) {}

  /**
   * The bus of a database, attached to it as a TypeORM subscriber (so that a transaction's events
   * leave at its commit). Built by the composition root; a database has one bus, whoever asks.
   */
  static attach(dataSource: DataSource): LiveEvents {
    const attached = busOf(dataSource);
    if (attached) return attached;
    const bus = new LiveEvents(dataSource);
    dataSource.subscribers.push(bus);
    return bus;
  }

  private get pool(): Pool | null {
    return postgresPoolOf(this.dataSource);
  }

  /** Whether other instances' events reach this one now (always on SQLite, where there are none). */
  get following(): boolean {
    return !this.pool || this.listener?.connected === true;
  }

  subscribe(listener: LiveEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes events whose writes have committed. Batched per turn of the event loop. */
  publish(events: LiveEvent[]): void {
    if (events.length === 0) return;
    this.published += events.length;
    if (this.outgoing.length === 0) setImmediate(() => this.flush());
    this.outgoing.push(...events);
  }

  afterTransactionCommit(event: { queryRunner: QueryRunner }): void {
    const pending = event.queryRunner.data?.[PENDING] as LiveEvent[] | undefined;
    // A savepoint's release is no commit: the events wait for the outermost one.
    if (!pending || event.queryRunner.isTransactionActive) return;
    delete event.queryRunner.data[PENDING];
    this.publish(pending);
  }

  /** Any rollback, a savepoint's too, drops the transaction's events: at most once, never an uncommitted change. */
  afterTransactionRollback(event: { queryRunner: QueryRunner }): void {
    if (event.queryRunner.data) delete event.queryRunner.data[PENDING];
  }

  private flush(): void {
    const events = this.outgoing;
    this.outgoing = [];
    const pool = this.pool;
    if (!pool) {
      this.deliver(events);
      return;
    }
    for (const payload of payloadsOf(events)) {
      pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]).catch(() => undefined);
    }
  }

  private deliver(events: LiveEvent[]): void {
    this.received += events.length;
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch {
        // One listener's fault must not keep the events from the others.
      }
    }
  }

  /** On PostgreSQL, hears every instance's events; a lost connection is reconnected with backoff. */
  async listen(): Promise<void> {
    const options = this.dataSource.options as { type: string; url?: string };
    if (options.type !== 'postgres' || this.listener?.started) return;
    this.listener ??= new PostgresListener(options.url!, CHANNEL, {
      onNotification: (payload) => {
        if (!payload) return;
        try {
          this.deliver(JSON.parse(payload) as LiveEvent[]);
        } catch {
          // Not ours (a hand-sent NOTIFY): ignored.
        }
      },
    });
    await this.listener.start();
  }

  /** Stops hearing other instances (the server stops); listen() may start again. */
  async close(): Promise<void> {
    await this.listener?.close();
  }
}

/** The bus attached to a database, if the composition root made one. */
function busOf(dataSource: DataSource): LiveEvents | undefined {
  return dataSource.subscribers.find((subscriber): subscriber is LiveEvents => subscriber instanceof LiveEvents);
}

/** JSON arrays of events, each under the NOTIFY payload limit. */
function payloadsOf(events: LiveEvent[]): string[] {
  const payloads: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const event of events) {
    const text = JSON.stringify(event);
    if (current.length && size + text.length + 1 > MAX_PAYLOAD_BYTES) {
      payloads.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length) payloads.push(`[${current.join(',')}]`);
  return payloads;
}

/**
 * Inside a transaction: the events leave when it commits, and nothing leaves on a rollback — on
 * PostgreSQL as a NOTIFY in the transaction itself (delivered to every instance at its commit, before
 * the caller hears of it), on SQLite queued until the commit. Outside one: at once, the write having
 * committed.
 */
export async function announceLive(manager: EntityManager, ...events: LiveEvent[]): Promise<void> {
  const bus = busOf(manager.connection);
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    bus?.publish(events);
    return;
  }
  if (manager.connection.options.type === 'postgres') {
    if (bus) bus.published += events.length;
    const payloads = payloadsOf(events);
    // A sweep batch's thousand devices are five payloads: one statement, not a round trip each.
    if (payloads.length === 1) await manager.query('SELECT pg_notify($1, $2)', [CHANNEL, payloads[0]]);
    else if (payloads.length > 1)
      await manager.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) p', [CHANNEL, payloads]);
    return;
  }
  // Without a bus (a script with no services) nobody in this process listens.
  if (!bus) return;
  runner.data ??= {};
  ((runner.data[PENDING] as LiveEvent[] | undefined) ?? (runner.data[PENDING] = [])).push(...events);
}
