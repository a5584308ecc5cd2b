import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource, statementCounterOf } from '../../ormconfig';
import { DatabaseSettings, Settings, readDatabaseSettings } from '../../src/config';
import { StatementCounter } from '../../src/db/statement-counter';
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
  return { port: 0, production: false, database, maxPageSize: 100, seedDemoData: false };
}

async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = readDatabaseSettings().url!;
  const name = `cg_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function openTestDatabase(
  options: { referenceData?: boolean; migrate?: boolean } = {},
): Promise<TestDatabase> {
  let database: DatabaseSettings;
  let cleanUp: () => Promise<void>;
  if (usingPostgres) {
    const created = await createPostgresDatabase();
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
