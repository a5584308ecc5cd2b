/**
 * `npm run purge-signals [-- --days N]`: erases the raw signals of attempts older than N days
 * (default SIGNAL_RETENTION_DAYS), keeping each decision. The server also does this hourly.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { countExpiredSignals, purgeExpiredSignals } from '../src/activations/signal-retention';
import { startProgress } from '../src/ops/progress';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';

async function main(): Promise<void> {
  const settings = { ...readSettings(), seedDemoData: false };
  const { values } = parseArgs({ options: { days: { type: 'string' } } });
  const days = values.days === undefined ? settings.privacy.signalRetentionDays : Number(values.days);
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`--days must be a whole number of days, at least 1; got "${values.days}"`);
  const dataSource = await openDatabase(settings);
  try {
    const now = new Date();
    const progress = startProgress('purging', await countExpiredSignals(dataSource, days, now), { unit: 'attempts' });
    const purged = await purgeExpiredSignals(dataSource, days, now, progress).finally(() => progress.stop());
    console.log(`purged the raw signals of ${purged} attempts older than ${days} days`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
