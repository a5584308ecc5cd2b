/**
 * GraphQL over HTTP as the specification (graphql.github.io/graphql-over-http) says, where Apollo
 * Server's defaults differ. Checked by graphql-http's conformance audit in
 * test/graphql-over-http.test.ts.
 *
 * Terminology
 * - media type: what the response is, chosen from the client's Accept header:
 *   `application/json` (the legacy type, also when Accept is missing or `*\/*`) or
 *   `application/graphql-response+json`.
 * - request error: the document could not be parsed, did not validate against the schema, named no
 *   operation that exists, or its variables did not fit their types. Nothing was executed; the
 *   response has no `data`.
 *
 * Status codes: under `application/graphql-response+json` a request error is 400; under
 * `application/json` the specification asks for 200 for every well-formed request (clients of that
 * type read the body, not the status), so a request error is 200 there. A body that is not JSON is
 * no well-formed request: 400 under both. Refusals of our own with a status of their own
 * (QUERY_TOO_COSTLY, BATCH_TOO_LARGE, RATE_LIMITED, UNAUTHENTICATED) keep it under both.
 */
import { ApolloServerPlugin } from '@apollo/server';
import { GraphQLContext } from './context';

export const APPLICATION_JSON = 'application/json';
export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';

/** Codes Apollo Server gives request errors (see the terminology above). */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_USER_INPUT',
]);

/**
 * The response's media type for an Accept header, as Apollo Server chooses it: the type the client
 * weighs highest, `application/json` on a tie or without a header. Null when it accepts neither.
 */
export function responseMediaType(accept: string | undefined | null): string | null {
  if (!accept) return APPLICATION_JSON;
  const ranges = accept.split(',').map((part) => {
    const [range, ...parameters] = part.trim().toLowerCase().split(';');
    const weight = parameters.map((parameter) => /^\s*q=([0-9.]+)\s*$/.exec(parameter)).find(Boolean);
    return { range: range.trim(), quality: weight ? Number(weight[1]) : 1 };
  });
  // The most specific range that matches a type decides its quality (RFC 9110 §12.5.1).
  const qualityOf = (type: string): number => {
    const [major] = type.split('/');
    const match =
      ranges.find((entry) => entry.range === type) ??
      ranges.find((entry) => entry.range === `${major}/*`) ??
      ranges.find((entry) => entry.range === '*/*');
    return match ? match.quality : 0;
  };
  const json = qualityOf(APPLICATION_JSON);
  const graphqlResponse = qualityOf(GRAPHQL_RESPONSE_JSON);
  if (json === 0 && graphqlResponse === 0) return null;
  return graphqlResponse > json ? GRAPHQL_RESPONSE_JSON : APPLICATION_JSON;
}

/**
 * Request errors answered 200 under `application/json`, and documents refused while parsing logged
 * at warn as the client's mistake (one line, no stack, no document: it may hold coordinates).
 */
export const graphqlOverHttpPlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart({ contextValue }) {
    return {
      async didEncounterErrors({ errors }) {
        const parseFailure = errors.find((error) => error.extensions?.code === 'GRAPHQL_PARSE_FAILED');
        if (parseFailure) {
          contextValue.observation?.log.warn(
            { error: parseFailure.message.split('\n')[0] },
            'document refused while parsing',
          );
        }
      },
      async willSendResponse({ request, response }) {
        if (response.body.kind !== 'single' || response.http.status !== 400) return;
        const { data, errors } = response.body.singleResult;
        if (data !== undefined || !errors?.length) return;
        if (!errors.every((error) => REQUEST_ERROR_CODES.has(String(error.extensions?.code)))) return;
        if (responseMediaType(request.http?.headers.get('accept')) === APPLICATION_JSON) response.http.status = 200;
      },
    };
  },
};
