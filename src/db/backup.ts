import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * A consistent copy of a live SQLite database: `VACUUM INTO` copies one read snapshot (WAL), so
 * the server keeps serving and writing meanwhile, and the copy is compact and self-contained (no
 * -wal file needed). Refuses to overwrite an existing file.
 */
export function backupSqlite(sourcePath: string, targetPath: string): { bytes: number; milliseconds: number } {
  if (!existsSync(sourcePath)) throw new Error(`no database at ${sourcePath}`);
  if (existsSync(targetPath)) throw new Error(`${targetPath} exists; choose a new file`);
  const started = Date.now();
  const source = new Database(sourcePath, { fileMustExist: true });
  try {
    // Wait for a writer's transaction instead of failing at once.
    source.pragma('busy_timeout = 10000');
    source.prepare('VACUUM INTO ?').run(targetPath);
  } finally {
    source.close();
  }
  const copy = new Database(targetPath, { readonly: true });
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy fails its integrity check: ${String(check)}`);
    const { page_count: pages, page_size: pageSize } = {
      page_count: copy.pragma('page_count', { simple: true }) as number,
      page_size: copy.pragma('page_size', { simple: true }) as number,
    };
    return { bytes: pages * pageSize, milliseconds: Date.now() - started };
  } finally {
    copy.close();
  }
}
