/**
 * A small on-call screen in the terminal: every LOCK decision and every change of the review queue,
 * as they are committed, over the graphql-ws protocol.
 *
 *   API_KEY=cgk_… [URL=ws://localhost:4000/graphql] npx ts-node examples/live-monitor.ts
 *
 * Events are delivered at most once: after a reconnect (graphql-ws retries by itself), read what
 * was missed with queries, as `catchUp` does, then carry on.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.URL ?? 'ws://localhost:4000/graphql';
const apiKey = process.env.API_KEY;
if (!apiKey) {
  process.stderr.write('set API_KEY to an API key (the local admin key printed by `npm start` will do)\n');
  process.exit(1);
}

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${apiKey}` },
  on: {
    closed: (event) => {
      const { code, reason } = event as { code: number; reason: string };
      process.stderr.write(`connection closed: ${code} ${reason}\n`);
    },
    connected: () => void catchUp(),
  },
});

let lastSeen = new Date();

/** What happened while disconnected: the locks since the last one seen, through an ordinary query. */
async function catchUp(): Promise<void> {
  const since = lastSeen.toISOString();
  for await (const result of client.iterate<{ activationAttempts: { nodes: { id: string; occurredAt: string }[] } }>({
    query: `query ($since: DateTime!) {
      activationAttempts(first: 100, filter: { outcomes: [LOCK], occurredFrom: $since }) { nodes { id occurredAt } }
    }`,
    variables: { since },
  })) {
    const missed = result.data?.activationAttempts.nodes ?? [];
    if (missed.length) process.stdout.write(`caught up: ${missed.length} lock(s) since ${since}\n`);
  }
}

async function watchLocks(): Promise<void> {
  for await (const result of client.iterate<{
    activationDecided: {
      committedAt: string;
      attempt: { id: string; device: { imei: string }; resolvedRegion: { code: string } | null };
    };
  }>({
    query: `subscription {
      activationDecided(filter: { outcomes: [LOCK] }) {
        committedAt
        attempt { id device { imei } resolvedRegion { code } }
      }
    }`,
  })) {
    if (result.errors) process.stderr.write(`${JSON.stringify(result.errors)}\n`);
    const event = result.data?.activationDecided;
    if (!event) continue;
    lastSeen = new Date(event.committedAt);
    process.stdout.write(
      `LOCK ${event.attempt.device.imei} in ${event.attempt.resolvedRegion?.code ?? '?'} at ${event.committedAt}\n`,
    );
  }
}

async function watchReviews(): Promise<void> {
  for await (const result of client.iterate<{
    reviewQueueChanged: { change: string; queue: { waiting: number; oldestReceivedAt: string | null } };
  }>({
    query: 'subscription { reviewQueueChanged { change queue { waiting oldestReceivedAt } } }',
  })) {
    const event = result.data?.reviewQueueChanged;
    if (event) process.stdout.write(`review ${event.change}: ${event.queue.waiting} waiting\n`);
  }
}

Promise.all([watchLocks(), watchReviews()]).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
