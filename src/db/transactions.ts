import { DataSource, EntityManager } from 'typeorm';

const queues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` in a transaction. SQLite (better-sqlite3) has one connection and TypeORM does not
 * serialise transactions on it — a second BEGIN while one is open fails — so on SQLite they queue
 * here, one at a time. PostgreSQL transactions run concurrently on pooled connections.
 */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type === 'postgres') return dataSource.transaction(work);
  return onSqliteConnection(dataSource, () => dataSource.transaction(work));
}

/**
 * Runs `work` when no transaction is open on SQLite's one connection: the way to write on it
 * outside TypeORM (a write now could land inside another request's open transaction).
 */
export function onSqliteConnection<T>(dataSource: DataSource, work: () => T | Promise<T>): Promise<T> {
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  queues.set(dataSource, next);
  return next;
}
