import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSource, statementCounterOf } from '../../ormconfig';
import { DatabaseSettings, Settings, readDatabaseSettings, readSettings } from '../../src/config';
import { StatementCounter } from '../../src/db/statement-counter';
import { createTemporaryDatabase } from '../../src/db/temporary-database';
import { loadReferenceData } from '../../src/seeding/reference-data';

/**
 * A real, private database for one test file: a fresh SQLite file, or a fresh PostgreSQL database
 * on the server DATABASE_URL points at. Migrated and loaded with the reference data.
 */
export interface TestDatabase {
  dataSource: DataSource;
  settings: Settings;
  statements: StatementCounter;
  close(): Promise<void>;
}

export const usingPostgres = readDatabaseSettings().kind === 'postgres';

export function testSettings(database: DatabaseSettings): Settings {
  return { ...readSettings({}), port: 0, database, seedDemoData: false, logLevel: 'silent' };
}

export async function openTestDatabase(
  options: { referenceData?: boolean; migrate?: boolean } = {},
): Promise<TestDatabase> {
  let database: DatabaseSettings;
  let cleanUp: () => Promise<void>;
  if (usingPostgres) {
    const created = await createTemporaryDatabase(readDatabaseSettings().url!, 'cg_test');
    database = { ...readDatabaseSettings(), url: created.url };
    cleanUp = created.drop;
  } else {
    const directory = mkdtempSync(join(tmpdir(), 'compliance-graph-test-'));
    database = { ...readDatabaseSettings(), sqlitePath: join(directory, 'test.sqlite') };
    cleanUp = async () => rmSync(directory, { recursive: true, force: true });
  }
  const settings = testSettings(database);
  const dataSource = createDataSource(database);
  await dataSource.initialize();
  if (options.migrate !== false) await dataSource.runMigrations({ transaction: 'each' });
  if (options.migrate !== false && options.referenceData !== false) await loadReferenceData(dataSource, settings);
  return {
    dataSource,
    settings,
    statements: statementCounterOf(dataSource),
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await cleanUp();
    },
  };
}
