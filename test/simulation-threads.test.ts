/**
 * A what-if replay decided on worker threads gives the same figures and sample devices as one
 * decided on the request's thread (large windows start threads; small ones never reach them, so
 * this forces them on a small window).
 */
import { internalViewer } from '../src/auth/viewer';
import { createRequestScope } from '../src/common/request-scope';
import { Evaluator } from '../src/decisions/evaluator';
import { DecisionOutcome } from '../src/activations/activation-attempt.entity';
import { SimulatePolicyInput } from '../src/reports/report.types';
import { simulatePolicy } from '../src/reports/simulation.service';
import { openTestDatabase, TestDatabase } from './support/database';
import { FIXED_UNTIL, seedDemo } from './support/fixtures';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
  await seedDemo(database.dataSource, 300, 4000, 'threads');
}, 180_000);
afterAll(() => database.close());

it('decides the same on worker threads as on the request thread', async () => {
  const rules = await new Evaluator(database.dataSource).compile();
  const scope = createRequestScope(database.dataSource, database.settings, 'test', internalViewer('test'));
  const input = Object.assign(new SimulatePolicyInput(), {
    policy: {
      policyKey: 'turkey',
      action: 'LOCK',
      mode: 'ENFORCE',
      regionCodes: ['TR', 'DE'],
      effectiveFrom: new Date('2020-01-01T00:00:00Z'),
    },
    from: new Date(FIXED_UNTIL.getTime() - 60 * 86_400_000),
    to: FIXED_UNTIL,
  }) as SimulatePolicyInput;
  const here = await simulatePolicy(scope, rules, input, { threads: 0 });
  const threaded = await simulatePolicy(scope, rules, input, { threads: 2, threadedFrom: 0 });
  expect(here.changedAttempts).toBeGreaterThan(0);
  expect(here.transitions.some((transition) => transition.to === DecisionOutcome.LOCK)).toBe(true);
  expect(threaded).toEqual(here);
  // Starting threads under ts-jest compiles the engine's modules in each: slow on a loaded machine.
}, 180_000);
