import { EntityManager, ObjectLiteral } from 'typeorm';
import { UserError, UserErrorsAbort } from './errors';

/** True when `error` is a unique-constraint violation, on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const candidate = error as { code?: string; driverError?: { code?: string } };
  const code = candidate?.driverError?.code ?? candidate?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * Saves `entity`; a unique violation (a concurrent writer took the name or code after our check)
 * becomes the given user error instead of an internal error.
 */
export async function saveOrReportTaken<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: T,
  taken: UserError,
): Promise<T> {
  try {
    return await manager.save(entity);
  } catch (error) {
    if (isUniqueViolation(error)) throw new UserErrorsAbort([taken]);
    throw error;
  }
}
