import type { LiveEvents } from './db/live-events';
import { ApiKeyAuthenticator } from './auth/api-key.service';
import { RateLimitResult, RequestLimiter } from './auth/rate-limit';
import { Viewer } from './auth/viewer';
import { RequestScope, createRequestScope } from './common/request-scope';
import { DataSource } from 'typeorm';
import { Settings } from './config';
import { DecisionStore } from './decisions/decision-store';
import type { RegistrationConflictBudget } from './devices/registration-conflicts';
import { Evaluator } from './decisions/evaluator';
import { Loaders, createLoaders } from './loaders';
import { RequestObservation } from './ops/observe';
import { SweepRunner } from './sweeps/sweep-runner';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';

/**
 * The long-lived services of one server instance, built once from settings by the composition
 * root (`createServices` in src/services.ts) and handed to main, the app, tests and benchmarks.
 */
export interface Services {
  dataSource: DataSource;
  settings: Settings;
  /** The rules cache: compiled policies and exemptions, rebuilt after a rule change. */
  evaluator: Evaluator;
  /** Writes a decision's attempt and consequences on the hot path. */
  decisionStore: DecisionStore;
  /** API keys (with their short cache) and the bootstrap admin key. */
  authenticator: ApiKeyAuthenticator;
  /** Request budgets of /graphql and /reports together (one budget per key, not one per route). */
  limiter: RequestLimiter;
  /** Each partner key's daily budget of conflicts with other partners' devices (same counters as `limiter`). */
  registrationConflicts: RegistrationConflictBudget;
  sweeps: SweepRunner;
  webhooks: WebhookDispatcher;
  /** Committed changes announced to every instance (live subscriptions, API-key caches). */
  liveEvents: LiveEvents;
  /** Stops the background work and closes what the services hold (not the database). */
  close(): Promise<void>;
}

/**
 * The transport edge's request: the scope services take, plus every module's loaders (per request:
 * caches never outlive it), the instance's services and the request's log line.
 */
export interface GraphQLContext extends RequestScope {
  loaders: Loaders;
  services: Services;
  /** The request's log line in the making (HTTP requests only). */
  observation?: RequestObservation;
  /** This request's count against its budget (HTTP requests only): `rateLimit`, `extensions.cost`. */
  rateLimit?: RateLimitResult;
}

export function createContext(
  services: Services,
  requestId: string,
  viewer: Viewer | null,
  observation?: RequestObservation,
): GraphQLContext {
  const { dataSource, settings } = services;
  return {
    ...createRequestScope(dataSource, settings, requestId, viewer),
    loaders: createLoaders(dataSource),
    services,
    onRulesChanged: () => services.evaluator.invalidate(),
    observation,
  };
}
