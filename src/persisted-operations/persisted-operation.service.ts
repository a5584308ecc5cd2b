import { createHash } from 'node:crypto';
import { DocumentNode, GraphQLSchema, ValidationRule, parse, specifiedRules, validate } from 'graphql';
import { DataSource, EntityManager, In } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { UserError, UserErrorCode, userError } from '../common/errors';
import { abortOnUserErrors } from '../common/mutation';
import { RequestScope } from '../common/request-scope';
import { PersistedOperation } from './persisted-operation.entity';
import { RegisterPersistedOperationsInput } from './persisted-operation.types';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function documentIdOf(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** A client's id for a document: bare hex, or `sha256:<hex>` as GraphQL-over-HTTP's persisted documents write it. */
export function normalizeDocumentId(id: string): string | null {
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return SHA256_HEX.test(hex) ? hex : null;
}

/** Why a manifest's document cannot run here, or null: it must parse and pass the same validation as any request. */
function operationProblem(body: string, schema: GraphQLSchema, rules: readonly ValidationRule[]): string | null {
  let document: DocumentNode;
  try {
    document = parse(body);
  } catch (error) {
    return `body does not parse: ${(error as Error).message}`;
  }
  const errors = validate(schema, document, [...specifiedRules, ...rules]);
  return errors.length ? `body is not a valid operation: ${errors.map((error) => error.message).join('; ')}` : null;
}

/**
 * Registers a manifest, all or nothing: every operation is checked (its id is its body's SHA-256,
 * it parses and validates against the schema and the query limits) before anything is written.
 * Operations registered already are left as they are: a hash names one document.
 */
export async function registerPersistedOperations(
  manager: EntityManager,
  context: RequestScope,
  input: RegisterPersistedOperationsInput,
  schema: GraphQLSchema,
  rules: readonly ValidationRule[],
): Promise<{ registeredCount: number; alreadyRegisteredCount: number }> {
  const errors: UserError[] = [];
  const firstIndexById = new Map<string, number>();
  input.operations.forEach((operation, index) => {
    const id = normalizeDocumentId(operation.id.toLowerCase());
    if (!id) {
      errors.push(userError(['operations', index, 'id'], UserErrorCode.INVALID, 'id must be a SHA-256 hash in hex'));
      return;
    }
    if (id !== documentIdOf(operation.body)) {
      errors.push(
        userError(['operations', index, 'id'], UserErrorCode.HASH_MISMATCH, 'id is not the SHA-256 hash of body'),
      );
      return;
    }
    if (firstIndexById.has(id)) {
      errors.push(
        userError(
          ['operations', index, 'id'],
          UserErrorCode.DUPLICATE,
          `the operation is listed twice (first at ${firstIndexById.get(id)})`,
        ),
      );
      return;
    }
    firstIndexById.set(id, index);
    const problem = operationProblem(operation.body, schema, rules);
    if (problem) errors.push(userError(['operations', index, 'body'], UserErrorCode.INVALID_OPERATION, problem));
  });
  abortOnUserErrors(errors);
  const ids = [...firstIndexById.keys()];
  const existing = new Set(
    (await manager.find(PersistedOperation, { select: { documentId: true }, where: { documentId: In(ids) } })).map(
      (row) => row.documentId,
    ),
  );
  const now = new Date();
  const rows = ids
    .filter((id) => !existing.has(id))
    .map((id) => ({
      documentId: id,
      body: input.operations[firstIndexById.get(id)!].body,
      clientName: input.clientName.trim(),
      createdAt: now,
      createdBy: context.actor,
    }));
  for (let start = 0; start < rows.length; start += 100)
    await manager.insert(PersistedOperation, rows.slice(start, start + 100));
  const first = await manager.findOneByOrFail(PersistedOperation, { documentId: ids[0] });
  await recordAuditEvent(manager, context, {
    action: 'persistedOperations.register',
    targetType: 'PersistedOperation',
    targetRowId: first.id,
    before: null,
    after: {
      clientName: input.clientName.trim(),
      registered: rows.map((row) => row.documentId),
      alreadyRegistered: [...existing],
    },
  });
  return { registeredCount: rows.length, alreadyRegisteredCount: existing.size };
}

/** Most documents kept in memory; past it the cache starts over (a document is one indexed read away). */
const CACHE_SIZE = 5_000;

/**
 * Finds registered documents by id for the HTTP layer. A registered document never changes, so a
 * found one is cached for the life of the process; an unknown id is not (it may be registered next).
 */
export class PersistedOperationRegistry {
  private readonly documents = new Map<string, string>();

  constructor(private readonly dataSource: DataSource) {}

  async find(documentId: string): Promise<string | null> {
    const cached = this.documents.get(documentId);
    if (cached !== undefined) return cached;
    const row = await this.dataSource
      .getRepository(PersistedOperation)
      .findOne({ select: { body: true }, where: { documentId } });
    if (!row) return null;
    if (this.documents.size >= CACHE_SIZE) this.documents.clear();
    this.documents.set(documentId, row.body);
    return row.body;
  }
}
