/**
 * `npm run retire-attempt-months -- --keep-months N [--detach]` (PostgreSQL): drops the monthly
 * partitions of attempts older than N full months before the current one (default
 * ATTEMPT_RETENTION_MONTHS), or with --detach keeps each as a table of its own to archive
 * (pg_dump -t …, then DROP TABLE). Rollups and distinct-device counts keep those months' figures;
 * a month holding an OPEN review or the attempt that locked a device still LOCKED is kept, and
 * said so. The server does this hourly when ATTEMPT_RETENTION_MONTHS is set.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { retireAttemptMonths } from '../src/activations/attempt-partitions';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';

async function main(): Promise<void> {
  const settings = { ...readSettings(), seedDemoData: false };
  const { values } = parseArgs({ options: { 'keep-months': { type: 'string' }, detach: { type: 'boolean' } } });
  const keepMonths =
    values['keep-months'] === undefined ? settings.privacy.attemptRetentionMonths : Number(values['keep-months']);
  if (!Number.isInteger(keepMonths) || keepMonths < 1)
    throw new Error(
      `--keep-months must be a whole number of months, at least 1; got "${values['keep-months'] ?? keepMonths}"`,
    );
  const dataSource = await openDatabase(settings);
  try {
    const { retired, kept } = await retireAttemptMonths(dataSource, { keepMonths, detach: values.detach });
    for (const month of retired)
      console.log(`${month.detached ? 'detached' : 'dropped'} ${month.name}: ${month.attempts} attempts`);
    for (const month of kept) console.log(`kept ${month.name}: ${month.reason}`);
    if (!retired.length && !kept.length) console.log(`no month of attempts is older than ${keepMonths} months`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
