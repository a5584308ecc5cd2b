import { DataSource } from 'typeorm';
import { ApiKeyAuthenticator } from './auth/api-key.service';
import { createBudgets, requestLimiterOf } from './auth/rate-limit';
import { Settings } from './config';
import { Services } from './context';
import { DecisionStore } from './decisions/decision-store';
import { Evaluator } from './decisions/evaluator';
import { LiveEvents } from './db/live-events';
import { Logger, createLogger } from './ops/logger';
import { SweepRunner } from './sweeps/sweep-runner';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';

/**
 * The composition root: every long-lived service of an instance, built once from its settings.
 * Nothing is looked up in a module-level map: whoever needs a service is handed it (the app puts
 * them on each request's GraphQLContext; tests and benchmarks build their own).
 */
export function createServices(
  dataSource: DataSource,
  settings: Settings,
  logger: Logger = createLogger(settings.logLevel),
): Services {
  const evaluator = new Evaluator(dataSource, {
    maxGpsAccuracyMeters: settings.maxGpsAccuracyMeters,
    evidence: settings.evidence,
  });
  const sweeps = new SweepRunner(dataSource, settings, evaluator, logger);
  const webhooks = new WebhookDispatcher(dataSource, settings, logger);
  // One set of counters (one Redis connection) for the request budgets and the conflict budget.
  const budgets = createBudgets(settings, logger);
  const limiter = requestLimiterOf(budgets);
  // One bus per database: a second set of services on it (a test's second instance) shares it.
  const liveEvents = LiveEvents.attach(dataSource);
  const authenticator = new ApiKeyAuthenticator(dataSource, settings.adminKey, (message) => logger.error(message));
  // A revoked or changed key leaves every instance's cache at once.
  const stopForgetting = liveEvents.subscribe((events) => {
    for (const event of events) if (event.kind === 'apiKey') authenticator.forgetKey(event.keyId);
  });
  const decisionStore = new DecisionStore(dataSource, settings.privacy.storedCoordinateDecimals);
  return {
    dataSource,
    settings,
    evaluator,
    decisionStore,
    authenticator,
    limiter,
    registrationConflicts: { spend: (callerId, count) => budgets.consume('registrationConflicts', callerId, count) },
    sweeps,
    webhooks,
    liveEvents,
    async close() {
      stopForgetting();
      await sweeps.stop();
      await webhooks.stop();
      await limiter.close();
      await evaluator.close();
      await liveEvents.close();
      await decisionStore.close();
    },
  };
}
