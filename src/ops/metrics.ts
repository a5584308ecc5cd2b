import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client), served at /metrics. One registry per process:
 * several apps in one process (tests) add to the same series.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const graphqlRequests = new Counter({
  name: 'graphql_requests_total',
  help: 'GraphQL operations by operation name and result (ok, or the first error code).',
  labelNames: ['operation', 'result'] as const,
  registers: [registry],
});

export const decisions = new Counter({
  name: 'activation_decisions_total',
  help: 'Recorded activation decisions by outcome, resolved region and whether enforced.',
  labelNames: ['outcome', 'region', 'enforced'] as const,
  registers: [registry],
});

export const decisionLatency = new Histogram({
  name: 'activation_decision_duration_seconds',
  help: 'Time to decide and commit one activation, from resolver start to commit.',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests by route and status code.',
  labelNames: ['route', 'status'] as const,
  registers: [registry],
});

export const webhookTries = new Counter({
  name: 'webhook_delivery_tries_total',
  help: 'Tries of webhook deliveries by result: delivered, retry (it will be tried again) or failed (given up).',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const sweepDevices = new Counter({
  name: 'sweep_devices_total',
  help: 'Devices examined by re-screening sweeps, by action and whether they were changed.',
  labelNames: ['action', 'changed'] as const,
  registers: [registry],
});

export const rateLimitInsurance = new Counter({
  name: 'rate_limit_insurance_total',
  help: "Requests whose rate limit was counted in this instance's memory because Redis (REDIS_URL) was unreachable.",
  registers: [registry],
});

export const registrationConflicts = new Counter({
  name: 'device_registration_conflicts_total',
  help: "IMEIs of a valid manifest that another partner's device holds, by whether the caller was told (false: its conflict budget was spent).",
  labelNames: ['reported'] as const,
  registers: [registry],
});

export const registrationBudgetRefusals = new Counter({
  name: 'device_registration_budget_refusals_total',
  help: 'registerDevices calls refused (RATE_LIMITED) because the key spent its daily budget of conflicts with other partners.',
  registers: [registry],
});

export const liveDeliveries = new Counter({
  name: 'live_events_delivered_total',
  help: 'Subscription payloads queued for delivery on this instance, by kind (decision, review, device, sweep).',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const liveExecutions = new Counter({
  name: 'live_executions_total',
  help: "Subscription documents executed for an event on this instance, by kind: once per group of subscribers asking the same document with the same variables and rights, whatever the group's size.",
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const liveClosures = new Counter({
  name: 'live_connections_closed_total',
  help: 'Subscription connections closed by the server, by reason (slow, revoked, expired, too_many).',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/** The databases this process serves; their pools and evaluators are read when scraped. */
const watched = new Set<{ pool(): Record<string, number>; rebuilds(): number }>();

/** Reports a database's pool and its evaluator's rebuilds from now on; returns a function that stops it. */
export function watchDatabase(source: { pool(): Record<string, number>; rebuilds(): number }): () => void {
  watched.add(source);
  return () => watched.delete(source);
}

new Gauge({
  name: 'db_pool_connections',
  help: 'Database connections by state (PostgreSQL pool: total, idle, waiting clients; SQLite: one connection).',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    const totals: Record<string, number> = {};
    for (const source of watched) {
      for (const [state, count] of Object.entries(source.pool())) totals[state] = (totals[state] ?? 0) + count;
    }
    for (const [state, count] of Object.entries(totals)) this.set({ state }, count);
  },
});

new Gauge({
  name: 'policy_evaluator_rebuilds',
  help: 'How many times the compiled policy evaluator was built since the process started.',
  registers: [registry],
  collect() {
    let total = 0;
    for (const source of watched) total += source.rebuilds();
    this.set(total);
  },
});
