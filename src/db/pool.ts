import type { Pool } from 'pg';
import { DataSource } from 'typeorm';

/** The pg pool behind a PostgreSQL data source (TypeORM calls it `master`); null on SQLite. */
export function postgresPoolOf(dataSource: DataSource): Pool | null {
  if (dataSource.options.type !== 'postgres') return null;
  return (dataSource.driver as unknown as { master: Pool }).master;
}
