/**
 * Subscribers who would receive the same results share one execution per event. Two subscriptions
 * are in one group when they send the same document (printed, so spacing does not matter), the same
 * operation name and variables, and their keys have the same rights (role and partner scope, all that
 * resolvers and the auth checker read of a viewer). The group runs graphql-js's `subscribe` once, with
 * the first member's context, and hands each result to every member's own bounded queue; 200 monitors
 * showing the same feed cost one execution per decision, not 200.
 *
 * This is graphql-ws's `subscribe` hook: each member still gets its own subscription id, messages and
 * completion from graphql-ws; only the source and the execution are shared.
 */
import { ExecutionArgs, ExecutionResult, print, subscribe } from 'graphql';
import { partnerScopeOf } from '../auth/viewer';
import { GraphQLContext } from '../context';
import { LiveGroup, LiveHub, LiveKind, LiveMember } from './live-hub';

type Subscribed = AsyncIterableIterator<ExecutionResult> | ExecutionResult;

class Group implements LiveGroup {
  kind: LiveKind | null = null;
  ended = false;
  private readonly members = new Set<LiveMember>();
  private source: AsyncGenerator<ExecutionResult> | AsyncIterableIterator<ExecutionResult> | null = null;

  constructor(
    private readonly hub: LiveHub,
    private readonly onEnd: () => void,
  ) {}

  /** Starts the shared execution; a refusal (rights, a bad filter) is returned as graphql-js made it. */
  async start(args: ExecutionArgs): Promise<ExecutionResult | null> {
    const context = args.contextValue as GraphQLContext;
    const result = await subscribe({ ...args, contextValue: { ...context, live: { hub: this.hub, group: this } } });
    if (!(Symbol.asyncIterator in result)) {
      this.end();
      return result;
    }
    this.source = result;
    void this.pump(result);
    return null;
  }

  add(member: LiveMember): void {
    this.members.add(member);
  }

  leave(member: LiveMember): void {
    this.members.delete(member);
    if (this.members.size === 0) this.end();
  }

  /** The executions fell behind the events: every member's connection is closed, as for a slow reader. */
  overflow(): void {
    for (const member of [...this.members]) this.hub.closeSlow(member.connection);
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    void this.source?.return?.(undefined);
    for (const member of [...this.members]) member.feed.end();
  }

  get size(): number {
    return this.members.size;
  }

  private async pump(source: AsyncIterableIterator<ExecutionResult>): Promise<void> {
    try {
      for await (const result of source) {
        this.hub.executed(this.kind);
        for (const member of [...this.members]) this.hub.pushTo(member, this.kind, result);
      }
    } finally {
      this.end();
    }
  }
}

export class SubscriptionGroups {
  private readonly groups = new Map<string, { group: Group; started: Promise<ExecutionResult | null> }>();

  constructor(private readonly hub: LiveHub) {}

  /** graphql-ws's `subscribe`: this subscriber's share of its group's results. */
  readonly subscribe = async (args: ExecutionArgs): Promise<Subscribed> => {
    const context = args.contextValue as GraphQLContext;
    const connection = context.live?.connection;
    // Not over WebSocket: graphql-js answers (the resolvers say where subscriptions are served).
    if (!connection) return subscribe(args);
    const key = groupKeyOf(args, context);
    for (;;) {
      const refused = this.hub.refusal(connection);
      if (refused) return { errors: [refused] };
      let entry = this.groups.get(key);
      if (!entry || entry.group.ended) {
        const group: Group = new Group(this.hub, () => {
          if (this.groups.get(key)?.group === group) this.groups.delete(key);
        });
        entry = { group, started: group.start(args) };
        this.groups.set(key, entry);
      }
      const refusedToStart = await entry.started;
      if (refusedToStart) return refusedToStart;
      // The group may have ended while this subscriber waited (its last member left): start anew.
      if (entry.group.ended) continue;
      // Nothing is awaited from the bound's check to here (a concurrent start may have filled it).
      const refusedNow = this.hub.refusal(connection);
      if (refusedNow) {
        if (entry.group.size === 0) entry.group.end();
        return { errors: [refusedNow] };
      }
      const group = entry.group;
      const member = this.hub.join(connection, (left) => group.leave(left));
      group.add(member);
      return member.feed;
    }
  };

  /** Groups running on this instance (each executes once per event). */
  get size(): number {
    return this.groups.size;
  }
}

/** What makes two subscriptions' results the same: the operation and its variables, and the rights. */
function groupKeyOf(args: ExecutionArgs, context: GraphQLContext): string {
  const viewer = context.viewer;
  return JSON.stringify([
    print(args.document),
    args.operationName ?? null,
    args.variableValues ?? null,
    viewer?.role ?? null,
    partnerScopeOf(viewer),
    viewer?.internal ?? false,
  ]);
}
