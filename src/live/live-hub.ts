/**
 * Fans committed changes (live events, from every instance) out to this instance's subscriptions.
 *
 * Terminology:
 * - connection: one client's WebSocket, authenticated once by its API key.
 * - group: the subscribers (on any connections) asking the same document with the same variables and
 *   the same rights; it holds one source and executes the document once per event for all of them
 *   (src/live/subscription-groups.ts).
 * - source: a group's queue of payloads, fed by the matcher the subscription's resolver gave.
 * - member: one subscription of one connection in a group, with its own bounded queue of results; a
 *   member whose queue overflows or whose socket backs up (its client reads too slowly) closes its
 *   whole connection with a reason, so a slow client costs neither the decisions nor the other
 *   subscribers anything beyond its bound.
 * - matcher: decides, per payload, whether a group may and wants to receive it (rights first, then
 *   its filter).
 *
 * Rows are read once per batch of events and per kind, and only when someone subscribes to that kind;
 * each group's fields are then resolved with its own loaders and rights.
 */
import { ExecutionResult, GraphQLError } from 'graphql';
import { DataSource, In } from 'typeorm';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { AttemptRef } from '../activations/attempt-refs';
import { internalViewer, Viewer } from '../auth/viewer';
import { Settings } from '../config';
import { createRequestScope } from '../common/request-scope';
import { LiveEvent, LiveEvents } from '../db/live-events';
import { Device } from '../devices/device.entity';
import { DeviceStatusChange } from '../devices/device-status-change.entity';
import { createLoaders } from '../loaders';
import { Logger } from '../ops/logger';
import { liveClosures, liveDeliveries, liveExecutions } from '../ops/metrics';
import { reviewQueueStats } from '../reports/current-state.service';
import { Sweep } from '../sweeps/sweep.entity';
import { ActivationDecided, DeviceStatusChanged, ReviewQueueChange, ReviewQueueChanged } from './live.types';

/** Close codes (4000–4999 are the application's; graphql-ws uses 4400–4499 for protocol faults). */
export const LiveCloseCode = {
  /** The API key was revoked or expired while connected (the reason says which). */
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

export type LiveKind = Kind;

/** What the hub needs of a group: it learns its kind, and is told when its source overflows. */
export interface LiveGroup {
  kind: Kind | null;
  /** The group's executions fell behind its events past the bound: its members are closed. */
  overflow(): void;
}

interface Source<K extends Kind> {
  kind: K;
  group: LiveGroup;
  accepts(payload: Payloads[K]): boolean;
  feed: Feed<Payloads[K]>;
}

/** One subscription of one connection: its share of a group's results. */
export interface LiveMember {
  connection: LiveConnection;
  feed: Feed<ExecutionResult>;
}

/** setTimeout's longest delay (about 24.8 days); a later expiry is waited for in steps. */
const LONGEST_TIMER_MS = 2_147_483_647;

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
  private readonly sources = new Set<Source<Kind>>();
  private readonly members = new Set<LiveMember>();
  private readonly connections = new Set<LiveConnection>();
  /** Connections of keys with an expiry, closed when it comes. */
  private readonly expiryTimers = new Map<LiveConnection, NodeJS.Timeout>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly bus: LiveEvents,
    private readonly dataSource: DataSource,
    private readonly settings: Settings,
    private readonly logger: Logger,
  ) {}

  /** Starts hearing the bus (every instance's committed changes, on PostgreSQL). */
  async start(): Promise<void> {
    const bus = this.bus;
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
    for (const member of this.members) member.feed.end();
    for (const source of this.sources) source.feed.end();
    for (const timer of this.expiryTimers.values()) clearTimeout(timer);
    this.expiryTimers.clear();
    await this.bus.close();
  }

  /** Connections of one API key on this instance (the bound is per key and instance). */
  connectionsOf(keyName: string): number {
    let count = 0;
    for (const connection of this.connections) if (identityOf(connection.viewer) === keyName) count += 1;
    return count;
  }

  subscriptionsOf(keyName: string): number {
    let count = 0;
    for (const member of this.members) if (identityOf(member.connection.viewer) === keyName) count += 1;
    return count;
  }

  /** Subscriptions running on this instance, whatever their groups. */
  subscriptionCount(): number {
    return this.members.size;
  }

  /** Groups with a source, each executing its document once per event. */
  groupCount(): number {
    return this.sources.size;
  }

  /** Registers a connection; one whose key expires is closed when it does, as if revoked then. */
  addConnection(connection: LiveConnection): () => void {
    this.connections.add(connection);
    const expiresAt = connection.viewer.expiresAt?.getTime();
    if (expiresAt !== undefined) this.closeAtExpiry(connection, expiresAt);
    return () => this.removeConnection(connection);
  }

  /** Ends the connection's subscriptions (their queues are dropped now, whatever the socket does). */
  removeConnection(connection: LiveConnection): void {
    this.connections.delete(connection);
    clearTimeout(this.expiryTimers.get(connection));
    this.expiryTimers.delete(connection);
    for (const member of [...this.members]) if (member.connection === connection) member.feed.end();
  }

  /**
   * Why the connection may not start one more subscription (its key's bound), or null. Asked just
   * before a member is added, with nothing awaited in between, so concurrent starts cannot slip past.
   */
  refusal(connection: LiveConnection): GraphQLError | null {
    const bound = this.settings.live.maxSubscriptionsPerKey;
    if (this.subscriptionsOf(identityOf(connection.viewer)) < bound) return null;
    return new GraphQLError(
      `this API key already runs ${bound} subscriptions on this instance (LIVE_MAX_SUBSCRIPTIONS_PER_KEY); complete one first`,
      { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: bound } },
    );
  }

  /** A group's source: the payloads its matcher accepts, once for the whole group. */
  open<K extends Kind>(kind: K, group: LiveGroup, accepts: (payload: Payloads[K]) => boolean) {
    group.kind = kind;
    const source: Source<K> = {
      kind,
      group,
      accepts,
      feed: new Feed<Payloads[K]>(
        this.settings.live.maxQueuedEvents,
        () => group.overflow(),
        () => this.sources.delete(source as unknown as Source<Kind>),
      ),
    };
    this.sources.add(source as unknown as Source<Kind>);
    return source.feed;
  }

  /** A connection's subscription in a group: its own bounded queue of the group's results. */
  join(connection: LiveConnection, onEnd: (member: LiveMember) => void): LiveMember {
    const member: LiveMember = {
      connection,
      feed: new Feed<ExecutionResult>(
        this.settings.live.maxQueuedEvents,
        () => this.closeSlow(connection),
        () => {
          this.members.delete(member);
          onEnd(member);
        },
      ),
    };
    this.members.add(member);
    return member;
  }

  /** Queues one of its group's results for a member, unless its connection has fallen behind. */
  pushTo(member: LiveMember, kind: Kind | null, result: ExecutionResult): void {
    if (member.connection.backlog() > this.settings.live.maxBufferedBytes) {
      this.closeSlow(member.connection);
      return;
    }
    liveDeliveries.inc({ kind: kind ?? 'unknown' });
    member.feed.push(result);
  }

  /** Counts one execution of a group's document for an event. */
  executed(kind: Kind | null): void {
    liveExecutions.inc({ kind: kind ?? 'unknown' });
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
    for (const source of this.sources) if (source.kind === kind) return true;
    return false;
  }

  private deliver<K extends Kind>(kind: K, payload: Payloads[K]): void {
    for (const source of this.sources) {
      if (source.kind !== kind || !(source as unknown as Source<K>).accepts(payload)) continue;
      (source as unknown as Source<K>).feed.push(payload);
    }
  }

  private async dispatch(events: LiveEvent[]): Promise<void> {
    const revoked = events.flatMap((event) => (event.kind === 'apiKey' ? [event.keyId] : []));
    if (revoked.length) this.closeKeys(new Set(revoked));
    // Every read below is one batch for all the events of its kind, shared by this instance's subscribers.
    const loaders = createLoaders(this.dataSource);
    const decisions = events.filter((event) => event.kind === 'decision');
    if (decisions.length && this.hasSubscribers('decision')) {
      const attempts = await loaders.activationAttemptByRef.loadMany(decisions.map(attemptRefOfEvent));
      decisions.forEach((event, index) => {
        const attempt = attempts[index];
        if (!(attempt instanceof ActivationAttempt)) return;
        this.deliver('decision', { attempt, committedAt: new Date(event.committedAt), partnerId: event.partnerId });
      });
    }
    const reviews = events.filter((event) => event.kind === 'review');
    if (reviews.length && this.hasSubscribers('review')) {
      const attempts = await loaders.activationAttemptByRef.loadMany(reviews.map(attemptRefOfEvent));
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

  /** Closes the connection when its key expires (in steps, past setTimeout's longest delay). */
  private closeAtExpiry(connection: LiveConnection, expiresAt: number): void {
    const wait = expiresAt - Date.now();
    const timer = setTimeout(
      () => {
        if (!this.connections.has(connection)) return;
        if (wait > LONGEST_TIMER_MS) return this.closeAtExpiry(connection, expiresAt);
        liveClosures.inc({ reason: 'expired' });
        this.removeConnection(connection);
        connection.close(LiveCloseCode.KEY_REVOKED, 'the API key expired');
      },
      Math.max(0, Math.min(wait, LONGEST_TIMER_MS)),
    );
    timer.unref();
    this.expiryTimers.set(connection, timer);
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

/** The attempt an event names, with its occurredAt when the sender gave it (one month probed). */
function attemptRefOfEvent(event: { attemptId: number; occurredAt?: string }): AttemptRef {
  return { id: event.attemptId, occurredAt: event.occurredAt === undefined ? null : new Date(event.occurredAt) };
}
