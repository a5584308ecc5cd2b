import { internalViewer } from '../../src/auth/viewer';
import { GraphQLClient } from './graphql';

/** A second person: change requests that could lock devices need one besides their author. */
export const SECOND_REVIEWER = internalViewer('second reviewer');

const APPROVE = `mutation ($id: ID!) {
  approvePolicyChange(input: { id: $id, comment: "checked" }) { changeRequest { status } userErrors { field message code } }
}`;

/** Approves a change request as the second reviewer, failing the test on any user error. */
export async function approveAsSecondPerson(client: GraphQLClient, changeRequestId: string): Promise<void> {
  const data = await client.as(SECOND_REVIEWER).data(APPROVE, { id: changeRequestId });
  if (data.approvePolicyChange.userErrors.length) {
    throw new Error(`approval failed: ${JSON.stringify(data.approvePolicyChange.userErrors)}`);
  }
}

/**
 * Runs a policy mutation (activatePolicy or updatePolicy) and, when it opened a change request,
 * has the second reviewer approve it: the way a change that can lock devices takes effect.
 */
export async function applyWithApproval(
  client: GraphQLClient,
  mutation: 'activatePolicy' | 'updatePolicy',
  input: Record<string, unknown>,
): Promise<{ changeRequestId: string | null }> {
  const inputType = mutation === 'activatePolicy' ? 'ActivatePolicyInput' : 'UpdatePolicyInput';
  const data = await client.data(
    `mutation ($input: ${inputType}!) { ${mutation}(input: $input) { changeRequest { id } userErrors { field message code } } }`,
    { input },
  );
  const payload = data[mutation];
  if (payload.userErrors.length) throw new Error(`${mutation} failed: ${JSON.stringify(payload.userErrors)}`);
  const changeRequestId: string | null = payload.changeRequest?.id ?? null;
  if (changeRequestId) await approveAsSecondPerson(client, changeRequestId);
  return { changeRequestId };
}
