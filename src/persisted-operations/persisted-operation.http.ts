import { Request, RequestHandler, Response } from 'express';
import { PersistedOperationRegistry, documentIdOf, normalizeDocumentId } from './persisted-operation.service';

/** A GraphQL request as a client sends it, in either persisted form (or neither). */
interface OperationRequest {
  query?: unknown;
  documentId?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown>;
  [key: string]: unknown;
}

class PersistedOperationError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Turns an operation sent by id into the registered document, and holds restricted keys to
 * registered documents. The id comes as Apollo's `extensions.persistedQuery.sha256Hash` or as
 * `documentId` (GraphQL-over-HTTP persisted documents; `sha256:` prefix optional). Nothing is ever
 * registered here (no automatic registration): only `registerPersistedOperations` does.
 */
async function resolveOperation(
  operation: OperationRequest,
  registry: PersistedOperationRegistry,
  registeredOnly: boolean,
): Promise<void> {
  if (operation === null || typeof operation !== 'object') return;
  const given = operation.extensions?.persistedQuery?.sha256Hash ?? operation.documentId;
  const query = typeof operation.query === 'string' ? operation.query : undefined;
  if (given === undefined || given === null) {
    if (registeredOnly && (query === undefined || (await registry.find(documentIdOf(query))) === null))
      throw new PersistedOperationError(
        403,
        'PERSISTED_QUERY_REQUIRED',
        'this API key may only run registered operations: send the operation by its id (extensions.persistedQuery.sha256Hash or documentId)',
      );
    return;
  }
  const documentId = normalizeDocumentId(String(given).toLowerCase());
  if (!documentId)
    throw new PersistedOperationError(
      400,
      'PERSISTED_QUERY_NOT_FOUND',
      'the operation id is not a SHA-256 hash in hex',
    );
  if (query !== undefined) {
    if (documentIdOf(query) !== documentId)
      throw new PersistedOperationError(
        400,
        'PERSISTED_QUERY_HASH_MISMATCH',
        'the operation id is not the SHA-256 hash of the query',
      );
    if (registeredOnly && (await registry.find(documentId)) === null)
      throw new PersistedOperationError(
        403,
        'PERSISTED_QUERY_REQUIRED',
        'this API key may only run registered operations',
      );
  } else {
    const document = await registry.find(documentId);
    if (document === null)
      throw new PersistedOperationError(
        400,
        'PERSISTED_QUERY_NOT_FOUND',
        `no operation is registered with id ${documentId}: an ADMIN registers the client's manifest with registerPersistedOperations`,
      );
    operation.query = document;
  }
  delete operation.documentId;
  if (operation.extensions) {
    delete operation.extensions.persistedQuery;
    if (Object.keys(operation.extensions).length === 0) delete operation.extensions;
  }
}

/** A GET request's operation, from its query string (`extensions` is JSON there). */
function operationOfUrl(request: Request): OperationRequest | null {
  const url = new URL(request.url, 'http://localhost');
  const operation: OperationRequest = {};
  for (const [name, value] of url.searchParams) operation[name] = value;
  if (typeof operation.extensions === 'string') {
    try {
      operation.extensions = JSON.parse(operation.extensions);
    } catch {
      return null; // Apollo answers a malformed extensions parameter itself.
    }
  }
  return operation;
}

function writeOperationToUrl(request: Request, operation: OperationRequest): void {
  const url = new URL(request.url, 'http://localhost');
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(operation))
    if (value !== undefined) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  request.url = `${url.pathname}?${search}`;
}

export function persistedOperations(registry: PersistedOperationRegistry): RequestHandler {
  return async (request: Request, response: Response, next) => {
    const registeredOnly = request.viewer?.registeredOperationsOnly === true;
    try {
      if (request.method === 'GET') {
        const operation = operationOfUrl(request);
        if (operation) {
          await resolveOperation(operation, registry, registeredOnly);
          writeOperationToUrl(request, operation);
        }
      } else {
        const operations: OperationRequest[] = Array.isArray(request.body) ? request.body : [request.body];
        for (const operation of operations) await resolveOperation(operation, registry, registeredOnly);
      }
      next();
    } catch (error) {
      if (!(error instanceof PersistedOperationError)) return next(error);
      response.status(error.status).json({ errors: [{ message: error.message, extensions: { code: error.code } }] });
    }
  };
}
