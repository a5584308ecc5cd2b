import { DataSource } from 'typeorm';
import { ApiKeyAuthenticator } from './auth/api-key.service';
import { createBudgets, requestLimiterOf } from './auth/rate-limit';
import { Settings } from './config';
import { Services } from './context';
import { DecisionStore } from './decisions/decision-store';
import { Evaluator } from './decisions/evaluator';
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
  return {
    dataSource,
    settings,
    evaluator,
    decisionStore: new DecisionStore(dataSource, settings.privacy.storedCoordinateDecimals),
    authenticator: new ApiKeyAuthenticator(dataSource, settings.adminKey, (message) => logger.error(message)),
    limiter,
    registrationConflicts: { spend: (callerId, count) => budgets.consume('registrationConflicts', callerId, count) },
    sweeps,
    webhooks,
    async close() {
      await sweeps.stop();
      await webhooks.stop();
      await limiter.close();
      await evaluator.close();
    },
  };
}
