/**
 * Fans committed changes (live events, from every instance) out to this instance's subscriptions.
 *
 * Terminology:
 * - connection: one client's WebSocket, authenticated once by its API key.
 * - feed: one subscription's queue of payloads, bounded; a feed that overflows (its client reads
 *   too slowly) closes its whole connection with a reason, so a slow client costs neither the
 *   decisions nor the other subscribers anything beyond its bound.
 * - matcher: decides, per payload, whether a subscriber may and wants to receive it (rights first,
 *   then its filter).
 *
 * Rows are read once per batch of events and per kind, and only when someone subscribes to that kind;
 * each subscriber's fields are then resolved with its own loaders and rights.
 */
import { GraphQLError } from 'graphql';
import { DataSource, In } from 'typeorm';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { internalViewer, Viewer } from '../auth/viewer';
import { Settings } from '../config';
import { createRequestScope } from '../common/request-scope';
import { LiveEvent, LiveEvents } from '../db/live-events';
import { Device } from '../devices/device.entity';
import { DeviceStatusChange } from '../devices/device-status-change.entity';
import { createLoaders } from '../loaders';
import { Logger } from '../ops/logger';
import { liveClosures, liveDeliveries } from '../ops/metrics';
import { reviewQueueStats } from '../reports/current-state.service';
import { Sweep } from '../sweeps/sweep.entity';
import { ActivationDecided, DeviceStatusChanged, ReviewQueueChange, ReviewQueueChanged } from './live.types';

/** Close codes (4000–4999 are the application's; graphql-ws uses 4400–4499 for protocol faults). */
export const LiveCloseCode = {
  /** The API key was revoked (or expired) while connected. */
  KEY_REVOKED: 4403,
  /** The key already holds as many connections as it may. */
  TOO_MANY_CONNECTIONS: 4029,
  /** The client read too slowly: its events piled up past the bound. */
  SLOW_CONSUMER: 4008,
} as const;

/** One client's WebSocket, as the hub sees it. */
export interface LiveConnection {
  viewer: Viewer;
  /** Bytes written to the socket but not yet sent (the client reads slower than events come). */
  backlog(): number;
  /** Closes the socket with a reason; the connection's feeds end at once. */
  close(code: number, reason: string): void;
}

interface Payloads {
  decision: ActivationDecided & { partnerId: number };
  review: ReviewQueueChanged;
  device: DeviceStatusChanged;
  sweep: Sweep;
}
type Kind = keyof Payloads;

interface Subscriber<K extends Kind> {
  kind: K;
  connection: LiveConnection;
  accepts(payload: Payloads[K]): boolean;
  feed: Feed<Payloads[K]>;
}

/**
 * A subscription's queue as an async iterator (what graphql-js's `subscribe` consumes). Holds at most
 * `capacity` payloads; one more calls `overflow` instead of growing.
 */
export class Feed<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private ended = false;

  constructor(
    private readonly capacity: number,
    private readonly overflow: () => void,
    private readonly onEnd: () => void,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
    } else if (this.items.length >= this.capacity) {
      this.overflow();
    } else {
      this.items.push(item);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the feed: what waits is dropped (at most once), a pending read finishes. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.items.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    this.onEnd();
  }

  get size(): number {
    return this.items.length;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

export class LiveHub {
  private readonly subscribers = new Set<Subscriber<Kind>>();
  private readonly connections = new Set<LiveConnection>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: Settings,
    private readonly logger: Logger,
  ) {}

  /** Starts hearing the bus (every instance's committed changes, on PostgreSQL). */
  async start(): Promise<void> {
    const bus = LiveEvents.of(this.dataSource);
    this.unsubscribe ??= bus.subscribe((events) => {
      this.dispatch(events).catch((error: unknown) =>
        this.logger.error({ err: error }, 'live events could not be delivered'),
      );
    });
    await bus.listen();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const subscriber of this.subscribers) subscriber.feed.end();
    await LiveEvents.of(this.dataSource).close();
  }

  /** Connections of one API key on this instance (the bound is per key and instance). */
  connectionsOf(keyName: string): number {
    let count = 0;
    for (const connection of this.connections) if (identityOf(connection.viewer) === keyName) count += 1;
    return count;
  }

  subscriptionsOf(keyName: string): number {
    let count = 0;
    for (const subscriber of this.subscribers) if (identityOf(subscriber.connection.viewer) === keyName) count += 1;
    return count;
  }

  addConnection(connection: LiveConnection): () => void {
    this.connections.add(connection);
    return () => this.removeConnection(connection);
  }

  /** Ends the connection's feeds (their queues are dropped now, whatever the socket does). */
  removeConnection(connection: LiveConnection): void {
    this.connections.delete(connection);
    for (const subscriber of [...this.subscribers]) if (subscriber.connection === connection) subscriber.feed.end();
  }

  /**
   * A new subscription's feed, fed with the payloads its matcher accepts. Past the key's bound the
   * subscription is refused (counted here, where feeds are made, so concurrent starts cannot slip past).
   */
  open<K extends Kind>(kind: K, connection: LiveConnection, accepts: (payload: Payloads[K]) => boolean) {
    const bound = this.settings.live.maxSubscriptionsPerKey;
    if (this.subscriptionsOf(identityOf(connection.viewer)) >= bound) {
      throw new GraphQLError(
        `this API key already runs ${bound} subscriptions on this instance (LIVE_MAX_SUBSCRIPTIONS_PER_KEY); complete one first`,
        { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: bound } },
      );
    }
    const subscriber: Subscriber<K> = {
      kind,
      connection,
      accepts,
      feed: new Feed<Payloads[K]>(
        this.settings.live.maxQueuedEvents,
        () => this.closeSlow(connection),
        () => this.subscribers.delete(subscriber as unknown as Subscriber<Kind>),
      ),
    };
    this.subscribers.add(subscriber as unknown as Subscriber<Kind>);
    return subscriber.feed;
  }

  /** Closes a connection whose client does not keep up; its queues are dropped at once. */
  closeSlow(connection: LiveConnection): void {
    if (!this.connections.has(connection)) return;
    liveClosures.inc({ reason: 'slow' });
    this.removeConnection(connection);
    connection.close(
      LiveCloseCode.SLOW_CONSUMER,
      'events arrived faster than this connection read them; reconnect and resume from queries',
    );
  }

  private hasSubscribers(kind: Kind): boolean {
    for (const subscriber of this.subscribers) if (subscriber.kind === kind) return true;
    return false;
  }

  private deliver<K extends Kind>(kind: K, payload: Payloads[K]): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.kind !== kind) continue;
      if (subscriber.connection.backlog() > this.settings.live.maxBufferedBytes) {
        this.closeSlow(subscriber.connection);
        continue;
      }
      if (!(subscriber as unknown as Subscriber<K>).accepts(payload)) continue;
      liveDeliveries.inc({ kind });
      (subscriber as unknown as Subscriber<K>).feed.push(payload);
    }
  }

  private async dispatch(events: LiveEvent[]): Promise<void> {
    const revoked = events.flatMap((event) => (event.kind === 'apiKey' ? [event.keyId] : []));
    if (revoked.length) this.closeKeys(new Set(revoked));
    // Every read below is one batch for all the events of its kind, shared by this instance's subscribers.
    const loaders = createLoaders(this.dataSource);
    const decisions = events.filter((event) => event.kind === 'decision');
    if (decisions.length && this.hasSubscribers('decision')) {
      const attempts = await loaders.activationAttemptById.loadMany(decisions.map((event) => event.attemptId));
      decisions.forEach((event, index) => {
        const attempt = attempts[index];
        if (!(attempt instanceof ActivationAttempt)) return;
        this.deliver('decision', { attempt, committedAt: new Date(event.committedAt), partnerId: event.partnerId });
      });
    }
    const reviews = events.filter((event) => event.kind === 'review');
    if (reviews.length && this.hasSubscribers('review')) {
      const attempts = await loaders.activationAttemptById.loadMany(reviews.map((event) => event.attemptId));
      const internal = {
        ...createRequestScope(this.dataSource, this.settings, 'live', internalViewer('live')),
        loaders,
      };
      const { totals } = await reviewQueueStats(internal, {}, []);
      reviews.forEach((event, index) => {
        const attempt = attempts[index];
        if (!(attempt instanceof ActivationAttempt)) return;
        this.deliver('review', { change: event.change as ReviewQueueChange, attempt, queue: totals });
      });
    }
    const devices = [...new Set(events.flatMap((event) => (event.kind === 'device' ? [event.deviceId] : [])))];
    if (devices.length && this.hasSubscribers('device')) {
      const rows = await this.dataSource.getRepository(Device).findBy({ id: In(devices) });
      const changes = await latestChanges(this.dataSource, devices);
      for (const device of rows) this.deliver('device', { device, change: changes.get(device.id) ?? null });
    }
    const sweeps = [...new Set(events.flatMap((event) => (event.kind === 'sweep' ? [event.sweepId] : [])))];
    if (sweeps.length && this.hasSubscribers('sweep')) {
      for (const sweep of await this.dataSource.getRepository(Sweep).findBy({ id: In(sweeps) }))
        this.deliver('sweep', sweep);
    }
  }

  /** Closes every connection of revoked keys at once. */
  private closeKeys(keyIds: Set<number>): void {
    for (const connection of [...this.connections]) {
      if (connection.viewer.keyId === null || !keyIds.has(connection.viewer.keyId)) continue;
      liveClosures.inc({ reason: 'revoked' });
      this.removeConnection(connection);
      connection.close(LiveCloseCode.KEY_REVOKED, 'the API key was revoked');
    }
  }
}

/** Whose bounds a connection counts against: the key's row id, or the bootstrap key's name. */
export function identityOf(viewer: Viewer): string {
  return viewer.keyId === null ? `name:${viewer.name}` : `key:${viewer.keyId}`;
}

/** Each device's newest status change, in one query. */
async function latestChanges(dataSource: DataSource, deviceIds: number[]): Promise<Map<number, DeviceStatusChange>> {
  const newest = dataSource
    .getRepository(DeviceStatusChange)
    .createQueryBuilder('c')
    .select('MAX(c.id)')
    .where('c.deviceId IN (:...deviceIds)')
    .groupBy('c.deviceId');
  const rows = await dataSource
    .getRepository(DeviceStatusChange)
    .createQueryBuilder('change')
    .where(`change.id IN (${newest.getQuery()})`)
    .setParameters({ deviceIds })
    .getMany();
  return new Map(rows.map((row) => [row.deviceId, row]));
}
