/**
 * `npm run backup -- FILE`: a consistent online copy of the SQLite database (SQLITE_PATH) while
 * the server keeps serving. On PostgreSQL use pg_dump or the server's own backups instead.
 */
import { readDatabaseSettings } from '../src/config';
import { backupSqliteWithProgress } from '../src/db/backup';
import { startProgress } from '../src/ops/progress';

async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) throw new Error('usage: npm run backup -- FILE');
  const settings = readDatabaseSettings();
  if (settings.kind === 'postgres') throw new Error('DATABASE_URL points at PostgreSQL: back it up with pg_dump');
  const { bytes, milliseconds } = await backupSqliteWithProgress(
    settings.sqlitePath,
    target,
    startProgress('copying', 0, { unit: 'MB' }),
  );
  console.log(
    `copied ${settings.sqlitePath} to ${target}: ${(bytes / 1e6).toFixed(1)} MB in ${milliseconds} ms, integrity ok`,
  );
}

main().catch((error: unknown) => {
  console.error(`backup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
