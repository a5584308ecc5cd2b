import { GraphQLClient } from './graphql';

/** What most tests read of a decision: its outcome and reasons, the attempt's ID and any user errors. */
export const DECISION_PAYLOAD = 'decision { outcome reasonCodes } attempt { id } userErrors { field message code }';

/** The decideActivation mutation with its input as `$input`, answering `payload` (fields of DecideActivationPayload). */
export function decideActivationDocument(payload = DECISION_PAYLOAD): string {
  return `mutation ($input: DecideActivationInput!) { decideActivation(input: $input) { ${payload} } }`;
}

/** Decides an activation as `client` (any client with `data`; a top-level error fails the test) and answers the payload. */
export async function decideActivation(
  client: Pick<GraphQLClient, 'data'>,
  input: Record<string, unknown>,
  payload = DECISION_PAYLOAD,
): Promise<any> {
  return (await client.data(decideActivationDocument(payload), { input })).decideActivation;
}
