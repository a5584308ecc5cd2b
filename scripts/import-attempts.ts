/**
 * `npm run import-attempts -- FILE [--format csv|ndjson]`: loads historic activation attempts from
 * a file in the export format (/reports/activation-attempts.csv, or NDJSON with the same names)
 * through the bulk path. All or nothing: a file with a bad row writes nothing, and every bad row is
 * listed with its line number.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import {
  countLines,
  formatOfFile,
  importAttempts,
  ImportFormat,
  ImportRejected,
} from '../src/activations/attempt-import';
import { readSettings } from '../src/config';
import { openDatabase } from '../src/database';
import { startProgress } from '../src/ops/progress';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { format: { type: 'string' } },
  });
  const [path] = positionals;
  if (!path || positionals.length > 1) throw new Error('usage: npm run import-attempts -- FILE [--format csv|ndjson]');
  const format = (values.format ?? formatOfFile(path)) as ImportFormat | null;
  if (format !== 'csv' && format !== 'ndjson')
    throw new Error(
      `--format must be csv or ndjson (or the file end in .csv, .ndjson or .jsonl); got "${values.format ?? path}"`,
    );
  const lines = await countLines(path);
  const dataSource = await openDatabase({ ...readSettings(), seedDemoData: false });
  const progress = startProgress('importing', format === 'csv' ? lines - 1 : lines, { unit: 'rows' });
  try {
    const started = Date.now();
    const report = await importAttempts(dataSource, path, { format, progress });
    progress.stop();
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `imported ${report.imported.toLocaleString('en')} attempts from ${path} in ${seconds.toFixed(1)} s (${Math.round(report.imported / Math.max(seconds, 0.001)).toLocaleString('en')}/s)`,
    );
    return 0;
  } catch (error) {
    progress.stop();
    if (!(error instanceof ImportRejected)) throw error;
    for (const bad of error.badRows) console.error(`${path}:${bad.line}: ${bad.message}`);
    console.error(error.message);
    return 2;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
