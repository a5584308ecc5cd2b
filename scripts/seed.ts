/**
 * `npm run seed -- --devices N --attempts M --seed S [--until ISO] [--days D]`: migrates, loads the
 * reference data, and generates N devices and M activation attempts, deterministically for S and
 * --until (which defaults to the start of the current UTC day).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';
import { generateDemoData } from '../src/seeding/demo-data';
import { startProgress } from '../src/ops/progress';

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number; got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '1000' },
      attempts: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      until: { type: 'string' },
      days: { type: 'string', default: '120' },
    },
  });
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const until = values.until ? new Date(values.until) : today;
  if (Number.isNaN(until.getTime())) throw new Error(`--until must be an ISO timestamp; got "${values.until}"`);
  const settings = { ...readSettings(), seedDemoData: false };
  const dataSource = await openDatabase(settings);
  const attempts = positiveInteger('attempts', values.attempts!);
  const report = await generateDemoData(dataSource, {
    devices: positiveInteger('devices', values.devices!),
    attempts,
    seed: values.seed!,
    until,
    days: Math.max(1, positiveInteger('days', values.days!)),
    progress: startProgress('seeding', attempts, { unit: 'attempts' }),
  });
  const rate = report.attempts / Math.max(report.attemptMilliseconds / 1000, 0.001);
  console.log(
    `seeded ${report.devices} devices, ${report.attempts} attempts, ${report.partners} new partners in ${(report.milliseconds / 1000).toFixed(1)} s ` +
      `(attempts generated, decided and written at ${Math.round(rate).toLocaleString('en')}/s)`,
  );
  await dataSource.destroy();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
