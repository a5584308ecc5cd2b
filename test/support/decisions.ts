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

/** Sends a document with its variables the way a test talks to its server, and answers what that answers. */
export type Post<T> = (query: string, variables: { input: Record<string, unknown> }) => Promise<T>;

/**
 * Decides an activation through `post` — a server process's `graphql` (status and errors in its
 * answer), a fetch to a listening server, a client that may be refused — and answers what `post`
 * answers, so that a test of a failure reads the failure.
 */
export function decideActivationWith<T>(
  post: Post<T>,
  input: Record<string, unknown>,
  payload = DECISION_PAYLOAD,
): Promise<T> {
  return post(decideActivationDocument(payload), { input });
}

/** The previewDecision query with its input as `$input` (and `$asOf` when asked), answering `payload` (fields of ActivationDecision). */
export function previewDecisionDocument(payload: string, { asOf = false } = {}): string {
  return asOf
    ? `query ($input: DecideActivationInput!, $asOf: DateTime) { previewDecision(input: $input, asOf: $asOf) { ${payload} } }`
    : `query ($input: DecideActivationInput!) { previewDecision(input: $input) { ${payload} } }`;
}
