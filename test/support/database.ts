import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSource, statementCounterOf } from '../../ormconfig';
import { DatabaseSettings, Settings, readDatabaseSettings, readSettings } from '../../src/config';
import { StatementCounter } from '../../src/db/statement-counter';
import { createTemporaryDatabase } from '../../src/db/temporary-database';
import { loadReferenceData } from '../../src/seeding/reference-data';
import { Services } from '../../src/context';
import { createServices } from '../../src/services';

/**
 * A real, private database for one test file: a fresh SQLite file, or a fresh PostgreSQL database
 * on the server DATABASE_URL points at. Migrated and loaded with the reference data.
 */
export interface TestDatabase {
  dataSource: DataSource;
  settings: Settings;
  statements: StatementCounter;
  /** The instance's long-lived services (made on first use, as main makes them), shared by the file's clients. */
  readonly services: Services;
  close(): Promise<void>;
}

export const usingPostgres = readDatabaseSettings().kind === 'postgres';

export function testSettings(database: DatabaseSettings): Settings {
  return { ...readSettings({}), port: 0, database, seedDemoData: false, logLevel: 'silent' };
}

export async function openTestDatabase(
  options: { referenceData?: boolean; migrate?: boolean; settings?: Partial<Settings> } = {},
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
  const settings = { ...testSettings(database), ...options.settings };
  const dataSource = createDataSource(database);
  await dataSource.initialize();
  if (options.migrate !== false) await dataSource.runMigrations({ transaction: 'each' });
  if (options.migrate !== false && options.referenceData !== false) await loadReferenceData(dataSource, settings);
  let services: Services | undefined;
  return {
    dataSource,
    settings,
    statements: statementCounterOf(dataSource),
    get services() {
      services ??= createServices(dataSource, settings);
      return services;
    },
    close: async () => {
      await services?.close();
      if (dataSource.isInitialized) await dataSource.destroy();
      await cleanUp();
    },
  };
}

/**
 * Takes a migrated database back to the schema as it stood before `migration`: undoes the latest
 * migrations, `migration` last. Rows made with today's code stay (each undo carries them back), so a
 * test can fill the database first, roll it back, and run the migrations it tests on what it made.
 * Answers the names undone, oldest first.
 */
export async function rollBackMigrations(dataSource: DataSource, migration: string): Promise<string[]> {
  const names = dataSource.migrations.map((known) => known.name);
  if (!names.includes(migration)) throw new Error(`no migration is named ${migration}`);
  const executed = async (): Promise<string[]> =>
    (await dataSource.query('SELECT "name" FROM "schema_migration" ORDER BY "timestamp"')).map(
      (row: { name: string }) => row.name,
    );
  const undone: string[] = [];
  while ((await executed()).includes(migration)) {
    const [last] = (await executed()).slice(-1);
    await dataSource.undoLastMigration({ transaction: 'each' });
    undone.unshift(last);
  }
  return undone;
}
