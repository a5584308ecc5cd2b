import { Router } from 'express';
import { DataSource } from 'typeorm';

/** A check that takes longer than this counts as failed: /readyz must answer quickly. */
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, milliseconds: number): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${milliseconds} ms`)), milliseconds).unref(),
    ),
  ]);
}

/** What readiness asks of the rules cache (the evaluator, handed in by the composition root). */
export interface RulesStatus {
  /** Indicates the rules are compiled. */
  readonly loaded: boolean;
  /** Indicates changes made by other instances are followed (PostgreSQL LISTEN). */
  readonly following: boolean;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Database reachable, migrations current, rules compiled (and, on PostgreSQL, followed). */
export async function readiness(dataSource: DataSource, evaluator: RulesStatus): Promise<Readiness> {
  const checks: Readiness['checks'] = {};
  try {
    await withTimeout(dataSource.query('SELECT 1'), CHECK_TIMEOUT_MS);
    checks.database = { ok: true };
  } catch (error) {
    checks.database = { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
  if (checks.database.ok) {
    try {
      const pending = await withTimeout(dataSource.showMigrations(), CHECK_TIMEOUT_MS);
      checks.migrations = pending ? { ok: false, detail: 'migrations are pending' } : { ok: true };
    } catch (error) {
      checks.migrations = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  } else {
    checks.migrations = { ok: false, detail: 'database unreachable' };
  }
  checks.evaluator = evaluator.loaded
    ? { ok: true, ...(evaluator.following ? {} : { detail: 'not following rule changes; rebuilding every second' }) }
    : { ok: false, detail: 'rules not compiled yet' };
  return { ready: Object.values(checks).every((check) => check.ok), checks };
}

/** GET /healthz: the process answers. GET /readyz: it can serve (a load balancer's routing signal). */
export function healthRoutes(dataSource: DataSource, evaluator: RulesStatus): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const result = await readiness(dataSource, evaluator);
    response
      .status(result.ready ? 200 : 503)
      .json({ status: result.ready ? 'ready' : 'not ready', checks: result.checks });
  });
  return router;
}
