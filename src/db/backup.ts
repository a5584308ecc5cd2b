import { existsSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Progress } from '../ops/progress';

/**
 * A consistent copy of a live SQLite database: `VACUUM INTO` copies one read snapshot (WAL), so
 * the server keeps serving and writing meanwhile, and the copy is compact and self-contained (no
 * -wal file needed). Refuses to overwrite an existing file.
 */
export function backupSqlite(sourcePath: string, targetPath: string): { bytes: number; milliseconds: number } {
  checkPaths(sourcePath, targetPath);
  const started = Date.now();
  const source = new Database(sourcePath, { fileMustExist: true });
  try {
    // Wait for a writer's transaction instead of failing at once.
    source.pragma('busy_timeout = 10000');
    source.prepare('VACUUM INTO ?').run(targetPath);
  } finally {
    source.close();
  }
  return { bytes: checkCopy(targetPath), milliseconds: Date.now() - started };
}

/**
 * The same copy for the backup command, with progress: `VACUUM INTO` is one synchronous statement,
 * so it runs on a worker thread while this one watches the copy grow towards the pages in use.
 */
export async function backupSqliteWithProgress(
  sourcePath: string,
  targetPath: string,
  progress: Progress,
): Promise<{ bytes: number; milliseconds: number }> {
  checkPaths(sourcePath, targetPath);
  const started = Date.now();
  const source = new Database(sourcePath, { fileMustExist: true, readonly: true });
  try {
    const pages =
      Number(source.pragma('page_count', { simple: true })) - Number(source.pragma('freelist_count', { simple: true }));
    progress.setTotal(Math.ceil((pages * Number(source.pragma('page_size', { simple: true }))) / 1e6));
  } finally {
    source.close();
  }
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const Database = require(workerData.driver);
     const source = new Database(workerData.source, { fileMustExist: true });
     try {
       source.pragma('busy_timeout = 10000');
       source.prepare('VACUUM INTO ?').run(workerData.target);
     } finally {
       source.close();
     }`,
    { eval: true, workerData: { driver: require.resolve('better-sqlite3'), source: sourcePath, target: targetPath } },
  );
  let shown = 0;
  const watch = setInterval(() => {
    const megabytes = existsSync(targetPath) ? Math.floor(statSync(targetPath).size / 1e6) : 0;
    if (megabytes > shown) progress.advance(megabytes - shown);
    shown = Math.max(shown, megabytes);
  }, 250);
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the copy stopped (exit ${code})`))));
    });
    // The copy is compacted, so it ends below the estimate: the bar ends at what was written.
    const megabytes = Math.floor(statSync(targetPath).size / 1e6);
    progress.setTotal(megabytes);
    progress.advance(megabytes - shown);
  } finally {
    clearInterval(watch);
    progress.stop();
  }
  return { bytes: checkCopy(targetPath), milliseconds: Date.now() - started };
}

function checkPaths(sourcePath: string, targetPath: string): void {
  if (!existsSync(sourcePath)) throw new Error(`no database at ${sourcePath}`);
  if (existsSync(targetPath)) throw new Error(`${targetPath} exists; choose a new file`);
}

/** Runs the copy's integrity check and returns its size in bytes. */
function checkCopy(targetPath: string): number {
  const copy = new Database(targetPath, { readonly: true });
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy fails its integrity check: ${String(check)}`);
    return Number(copy.pragma('page_count', { simple: true })) * Number(copy.pragma('page_size', { simple: true }));
  } finally {
    copy.close();
  }
}
