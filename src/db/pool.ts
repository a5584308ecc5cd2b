import { Client, Pool, type PoolConfig } from 'pg';
import type BetterSqlite3 from 'better-sqlite3';
import { DataSource } from 'typeorm';

/** The pg pool behind a PostgreSQL data source (TypeORM calls it `master`); null on SQLite. */
export function postgresPoolOf(dataSource: DataSource): Pool | null {
  if (dataSource.options.type !== 'postgres') return null;
  return (dataSource.driver as unknown as { master: Pool }).master;
}

/** The better-sqlite3 connection behind a SQLite data source (its one connection); null on PostgreSQL. */
export function sqliteDatabaseOf(dataSource: DataSource): BetterSqlite3.Database | null {
  if (dataSource.options.type !== 'better-sqlite3') return null;
  return (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
}

/**
 * A connection of its own for a bulk job (a load, an import, a migration of millions of rows) on
 * PostgreSQL: the pool's timeouts guard requests, a bulk statement runs for minutes. The caller
 * ends it.
 */
export async function openBulkConnection(dataSource: DataSource): Promise<Client> {
  const pool = postgresPoolOf(dataSource);
  if (!pool) throw new Error('a bulk connection is for PostgreSQL');
  const { query_timeout: _query, statement_timeout: _statement, ...options } = pool.options as PoolConfig;
  const client = new Client({ ...options, query_timeout: undefined, statement_timeout: 0 });
  await client.connect();
  return client;
}

/**
 * A small pool of its own for a hot path's named statements, on connections that plan each of them
 * once (`plan_cache_mode = force_generic_plan`). PostgreSQL otherwise keeps planning a prepared
 * statement anew at every execution for as long as a plan made for the values looks cheaper than
 * the generic one, which it always does for a statement over the month partitions with its bounds
 * as parameters: the generic plan prunes them only when it runs (initial pruning), which the cost
 * model does not count. For the decision's device read that planning cost three times what running
 * it did. Only named statements belong here: on these connections an unnamed statement (every
 * TypeORM query) would get a generic plan too, without the partition pruning and the estimates its
 * values give. Opens no connection until the first statement; the caller ends it.
 */
export function openGenericPlanPool(dataSource: DataSource, max: number): Pool {
  const pool = postgresPoolOf(dataSource);
  if (!pool) throw new Error('a generic-plan pool is for PostgreSQL');
  const options = pool.options as PoolConfig;
  const serverOptions = [options.options, '-c plan_cache_mode=force_generic_plan'].filter(Boolean).join(' ');
  // Idle connections do not keep a process alive whose services were never closed (a test's app).
  const generic = new Pool({ ...options, max, options: serverOptions, allowExitOnIdle: true });
  // An idle connection that fails (the server restarted, the database was dropped) leaves the pool;
  // the next statement opens another. Unheard, the error would end the process.
  generic.on('error', () => undefined);
  return generic;
}
