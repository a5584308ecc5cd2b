import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { UserErrorCode, UserErrorsAbort, userError } from './errors';
import { rowIdOf } from './global-id';

/** The row a global ID names, when it is an ID of this entity type (the type name is the class name). */
export async function findByGlobalId<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T> & { name: string },
  globalId: string,
): Promise<T | null> {
  const rowId = rowIdOf(globalId, entity.name);
  return rowId === null ? null : manager.findOneBy(entity, { id: rowId } as never);
}

/** Like findByGlobalId, but a missing row aborts the mutation with NOT_FOUND on `field`. */
export async function findOrAbort<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T> & { name: string },
  globalId: string,
  field: string,
  noun: string,
): Promise<T> {
  const row = await findByGlobalId(manager, entity, globalId);
  if (!row) throw new UserErrorsAbort([userError([field], UserErrorCode.NOT_FOUND, `no ${noun} has this ID`)]);
  return row;
}
