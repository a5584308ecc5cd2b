import { EntityManager } from 'typeorm';
import { MutationOutcome, runMutation } from '../common/mutation';
import { RequestScope } from '../common/request-scope';
import { announceRuleChange, evaluatorFor } from './evaluator';

/**
 * A mutation that changes what decisions depend on (a policy, an exemption, a region): every
 * instance's evaluator is rebuilt once it commits — this one at once, the others through the
 * PostgreSQL notification sent inside the transaction.
 */
export async function runRuleChange<T>(
  context: RequestScope,
  input: object,
  work: (manager: EntityManager) => Promise<T>,
): Promise<MutationOutcome<T>> {
  const outcome = await runMutation(context, input, async (manager) => {
    const result = await work(manager);
    await announceRuleChange(manager);
    return result;
  });
  if (outcome.userErrors.length === 0) evaluatorFor(context.dataSource).invalidate();
  return outcome;
}
