import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createDataSource, statementCounterOf } from '../../ormconfig';
import { DatabaseSettings, Settings, readDatabaseSettings, readSettings } from '../../src/config';
import { StatementCounter } from '../../src/db/statement-counter';
import { createTemporaryDatabase, onServer } from '../../src/db/temporary-database';
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

/**
 * What Jest's global setup (test/support/global-setup.ts) made for the run, in an environment variable
 * its worker processes inherit:
 * - `template`: a database migrated and loaded with the reference data once, which every test file's
 *   own database starts as a copy of. Migrating costs 1.4–2 s on PostgreSQL and 150–350 ms on SQLite, for
 *   each of the 80-odd databases a suite opens; a copy costs 50–500 ms (`CREATE DATABASE … TEMPLATE`) or a
 *   file copy. The migrations and the reference data load still run on the copy and find nothing to do.
 * - `prefix` (PostgreSQL): the run's databases are named with it and dropped together by the global
 *   teardown, not one by one as each file ends: each DROP DATABASE waits for a checkpoint (0.2–1.3 s while
 *   other files write), which at the end of the run has nothing left to write.
 */
export interface TestRun {
  template: string;
  prefix?: string;
}

export const TEST_RUN_VARIABLE = 'COMPLIANCE_GRAPH_TEST_RUN';

function currentTestRun(): TestRun | undefined {
  const value = process.env[TEST_RUN_VARIABLE];
  return value ? (JSON.parse(value) as TestRun) : undefined;
}

export async function openTestDatabase(
  options: { referenceData?: boolean; migrate?: boolean; settings?: Partial<Settings> } = {},
): Promise<TestDatabase> {
  const run = currentTestRun();
  const template = options.migrate !== false && options.referenceData !== false ? run?.template : undefined;
  let database: DatabaseSettings;
  let cleanUp: () => Promise<void>;
  if (usingPostgres) {
    const created = await createTemporaryDatabase(readDatabaseSettings().url!, run?.prefix ?? 'cg_test', { template });
    database = { ...readDatabaseSettings(), url: created.url };
    cleanUp = run?.prefix ? async () => undefined : created.drop;
  } else {
    const directory = mkdtempSync(join(tmpdir(), 'compliance-graph-test-'));
    database = { ...readDatabaseSettings(), sqlitePath: join(directory, 'test.sqlite') };
    if (template) copyFileSync(template, database.sqlitePath);
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
 * The run's template (see TestRun), and a way to drop it with every database named with the run's
 * prefix.
 */
export async function startTestRun(): Promise<{ run: TestRun; end(): Promise<void> }> {
  const server = readDatabaseSettings();
  const migrateWithReferenceData = async (database: DatabaseSettings) => {
    const dataSource = createDataSource(database);
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
      await loadReferenceData(dataSource, testSettings(database));
    } finally {
      // Closing the last connection merges SQLite's write-ahead log into the file that is copied.
      await dataSource.destroy();
    }
  };
  if (usingPostgres) {
    const prefix = `cg_run_${process.pid}_${Date.now().toString(36)}`;
    const template = await createTemporaryDatabase(server.url!, `${prefix}_template`);
    await migrateWithReferenceData({ ...server, url: template.url });
    const name = new URL(template.url).pathname.slice(1);
    // Nobody connects to it, autovacuum included: each copy has the statistics a freshly migrated
    // database has (none), whenever in the run it is made.
    await onServer(server.url!, (admin) => admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`));
    const end = () =>
      onServer(server.url!, async (admin) => {
        const { rows } = await admin.query<{ datname: string }>(
          'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
          [`${prefix}_`],
        );
        // Each drop waits for a checkpoint; drops waiting together share one.
        const names = rows.map((row) => row.datname);
        const dropNext = async (): Promise<void> => {
          const name = names.pop();
          if (!name) return;
          await onServer(server.url!, (other) => other.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
          await dropNext();
        };
        await Promise.all(Array.from({ length: 8 }, dropNext));
      });
    return { run: { template: name, prefix }, end };
  }
  const directory = mkdtempSync(join(tmpdir(), 'compliance-graph-template-'));
  const file = join(directory, 'template.sqlite');
  await migrateWithReferenceData({ ...server, sqlitePath: file });
  return { run: { template: file }, end: async () => rmSync(directory, { recursive: true, force: true }) };
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
