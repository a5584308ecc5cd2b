import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { DatabaseSettings, readDatabaseSettings } from './src/config';
import { entities } from './src/db/entities';
import { migrations } from './src/db/migrations';
import { StatementCounter } from './src/db/statement-counter';

/**
 * The TypeORM data source. SQLite (better-sqlite3, WAL journal) by default; PostgreSQL (pg) when
 * DATABASE_URL is set. The schema only ever changes through the committed migrations.
 */
export function createDataSource(settings: DatabaseSettings = readDatabaseSettings()): DataSource {
  const common = {
    entities,
    migrations,
    migrationsTableName: 'schema_migration',
    synchronize: false,
    logger: new StatementCounter(settings.sqlLog),
    logging: ['query', 'error', 'warn'],
  } satisfies Partial<DataSourceOptions>;

  if (settings.kind === 'postgres') {
    return new DataSource({
      ...common,
      type: 'postgres',
      url: settings.url,
      poolSize: settings.poolSize,
      // A database that is down or stuck fails a request within the timeout instead of hanging it.
      extra: {
        connectionTimeoutMillis: settings.timeoutMs,
        query_timeout: settings.timeoutMs,
        statement_timeout: settings.timeoutMs,
      },
    } as DataSourceOptions);
  }
  if (settings.sqlitePath !== ':memory:') mkdirSync(dirname(settings.sqlitePath), { recursive: true });
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: settings.sqlitePath,
    enableWAL: true,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma(`synchronous = ${settings.sqliteSynchronous}`);
      db.pragma(`wal_autocheckpoint = ${settings.sqliteWalAutocheckpoint}`);
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    },
  } as DataSourceOptions);
}

export function statementCounterOf(dataSource: DataSource): StatementCounter {
  return dataSource.logger as StatementCounter;
}

/** Used by the TypeORM CLI (`npx typeorm -d ormconfig.ts …`). */
export const AppDataSource = createDataSource();
export default AppDataSource;
