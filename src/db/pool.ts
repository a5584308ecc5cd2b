import { Client, type Pool, type PoolConfig } from 'pg';
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
