import { randomUUID } from 'node:crypto';
import { ApolloServerPlugin } from '@apollo/server';
import { ErrorRequestHandler, RequestHandler } from 'express';
import { FieldNode, OperationDefinitionNode } from 'graphql';
import { GraphQLContext } from '../context';
import { isDatabaseUnavailable } from './database-errors';
import { Logger } from './logger';
import { graphqlRequests, httpRequests } from './metrics';
import { APPLICATION_JSON, responseMediaType } from '../graphql-over-http';

/** What one request did, filled in as it goes and logged as one line when it ends. */
export interface RequestObservation {
  requestId: string;
  log: Logger;
  /** The root fields the operation selected, e.g. `decideActivation` (bounded: metric label). */
  operation?: string;
  /** The client's operation name, when it gave one. */
  operationName?: string;
  /** `ok`, or the first error's code. */
  result?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    observation?: RequestObservation;
  }
}

/** Request id (the caller's `x-request-id`, or a new one) and one log line per request. */
export function observeRequests(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    // Read now: inside a mounted router `request.path` becomes relative. The path only: a GET query
    // string can carry variables (coordinates).
    const path = request.path;
    const requestId = (request.headers['x-request-id'] as string | undefined)?.slice(0, 100) || randomUUID();
    response.setHeader('x-request-id', requestId);
    const observation: RequestObservation = { requestId, log: logger.child({ requestId }) };
    request.observation = observation;
    response.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const route =
        request.path === '/graphql' || request.path.startsWith('/ruru-static')
          ? request.path.split('/').slice(0, 2).join('/')
          : request.path;
      httpRequests.inc({
        route: ['/graphql', '/healthz', '/readyz', '/metrics', '/ruru-static'].includes(route) ? route : 'other',
        status: String(response.statusCode),
      });
      if (route === '/healthz' || route === '/readyz' || route === '/metrics') return; // probes would drown the log
      observation.log.info(
        {
          method: request.method,
          path,
          status: response.statusCode,
          durationMs: Math.round(durationMs * 10) / 10,
          operation: observation.operation,
          operationName: observation.operationName,
          result: observation.result,
          keyId: request.viewer?.keyId ?? undefined,
          role: request.viewer?.role,
        },
        'request',
      );
    });
    next();
  };
}

function rootFieldsOf(operation: OperationDefinitionNode): string {
  const names = operation.selectionSet.selections
    .filter((selection): selection is FieldNode => selection.kind === 'Field')
    .map((field) => field.name.value);
  const unique = [...new Set(names)].sort();
  return unique.length > 3 ? `${unique.slice(0, 3).join(',')},…` : unique.join(',') || operation.operation;
}

/** Names each operation for the log and the metrics, and logs faults with the request id. */
export const observationPlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart({ contextValue }) {
    const observation = contextValue.observation;
    return {
      async didResolveOperation({ operation, operationName }) {
        if (!observation) return;
        if (operation) observation.operation = rootFieldsOf(operation);
        observation.operationName = operationName ?? undefined;
      },
      async didEncounterErrors({ errors }) {
        for (const error of errors) {
          const code = error.extensions?.code;
          if (code && code !== 'INTERNAL_SERVER_ERROR') continue;
          const cause = error.originalError ?? error;
          const log = observation?.log;
          // The stack only: a database error also carries its query parameters (coordinates, secrets).
          if (isDatabaseUnavailable(cause)) log?.warn({ error: cause.message }, 'database unavailable');
          else log?.error({ error: cause instanceof Error ? cause.stack : String(cause) }, 'unexpected error');
        }
      },
      async willSendResponse({ response }) {
        const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
        const result = errors?.length ? String(errors[0].extensions?.code ?? 'INTERNAL_SERVER_ERROR') : 'ok';
        const operation = observation?.operation ?? 'unknown';
        if (observation) observation.result = result;
        graphqlRequests.inc({ operation, result });
      },
    };
  },
};

/**
 * Failures outside GraphQL, as JSON with a code and never a stack: a body the JSON parser refused
 * (GRAPHQL_PARSE_FAILED, 400) and other requests refused before GraphQL (BAD_REQUEST) are the
 * client's mistakes, logged at warn without a stack or the body; a database that is down is 503;
 * anything else is a fault, logged with its stack.
 */
export function errorResponses(logger: Logger): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const log = request.observation?.log ?? logger;
    const unavailable = isDatabaseUnavailable(error);
    const status = unavailable ? 503 : ((error as { status?: number }).status ?? 500);
    // body-parser's errors: `type` says what was wrong with the body.
    const bodyError = (error as { type?: string }).type;
    const clientError = !unavailable && status >= 400 && status < 500;
    const code = unavailable
      ? 'DATABASE_UNAVAILABLE'
      : bodyError === 'entity.parse.failed'
        ? 'GRAPHQL_PARSE_FAILED'
        : clientError
          ? 'BAD_REQUEST'
          : 'INTERNAL_SERVER_ERROR';
    if (unavailable) log.warn({ error: (error as Error).message }, 'database unavailable');
    // The parser's message can quote the body (coordinates, secrets): the log names the kind only.
    else if (clientError) log.warn({ code, reason: bodyError ?? 'refused' }, 'request refused before GraphQL');
    else log.error({ error: error instanceof Error ? error.stack : String(error) }, 'unexpected error');
    if (response.headersSent) return;
    const message = unavailable
      ? 'the database is unavailable; retry shortly'
      : code === 'GRAPHQL_PARSE_FAILED'
        ? `the request body is not valid JSON: ${(error as Error).message}`
        : clientError
          ? (error as Error).message
          : 'Internal server error';
    response
      .status(status)
      .type(responseMediaType(request.headers.accept) ?? APPLICATION_JSON)
      .send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  };
}
