import { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { Settings } from './config';
import { generateDemoData } from './seeding/demo-data';
import { loadReferenceData } from './seeding/reference-data';
import { Device } from './devices/device.entity';

/** Opens the database and brings it up to date: migrations, reference data, demo data if empty. */
export async function openDatabase(settings: Settings, log: (line: string) => void = console.log): Promise<DataSource> {
  const dataSource = createDataSource(settings.database);
  await dataSource.initialize();
  await oneInstanceAtATime(dataSource, () => prepare(dataSource, settings, log));
  return dataSource;
}

/** Any number: the key of the advisory lock instances take to prepare the database. */
const PREPARE_LOCK_KEY = 7_731_044_201;

/**
 * Instances starting together on one PostgreSQL take turns to migrate and load reference data
 * (an advisory lock); the later ones find the work done. SQLite has one process.
 */
async function oneInstanceAtATime(dataSource: DataSource, work: () => Promise<void>): Promise<void> {
  if (dataSource.options.type !== 'postgres') return work();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [PREPARE_LOCK_KEY]);
    await work();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [PREPARE_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

async function prepare(dataSource: DataSource, settings: Settings, log: (line: string) => void): Promise<void> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  if (applied.length)
    log(`applied ${applied.length} migration(s): ${applied.map((migration) => migration.name).join(', ')}`);
  const loaded = await loadReferenceData(dataSource, settings);
  if (loaded.regions + loaded.deviceModels + loaded.policies > 0) {
    log(
      `loaded reference data: ${loaded.regions} regions, ${loaded.deviceModels} device models, ${loaded.policies} policies`,
    );
  }
  if (settings.seedDemoData && (await dataSource.getRepository(Device).count()) === 0) {
    const report = await generateDemoData(dataSource, {
      devices: 500,
      attempts: 3000,
      seed: 'demo',
      until: new Date(),
      days: 90,
      maxGpsAccuracyMeters: settings.maxGpsAccuracyMeters,
    });
    log(
      `generated demo data: ${report.devices} devices, ${report.attempts} activation attempts (${report.milliseconds} ms)`,
    );
  }
}
