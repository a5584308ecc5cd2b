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
    });
    log(
      `generated demo data: ${report.devices} devices, ${report.attempts} activation attempts (${report.milliseconds} ms)`,
    );
  }
  return dataSource;
}
