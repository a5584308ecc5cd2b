import BetterSqlite3 from 'better-sqlite3';

/**
 * A read-only connection of its own to a SQLite file, for a worker thread reading beside the
 * service's one connection (WAL: it reads committed rows while the service writes). Its own module
 * so that a worker thread loads the driver alone, not the ORM or pg. A simulation's worker keeps
 * its one for the run; the pool's close ends the thread, and better-sqlite3 closes the thread's
 * connections as it ends.
 */
export function openSqliteReader(file: string): BetterSqlite3.Database {
  return new BetterSqlite3(file, SQLITE_READER_OPTIONS);
}

/** How a reader opens the file (the driver's options; a sweep's reader thread gives them to its ORM). */
export const SQLITE_READER_OPTIONS = {
  readonly: true,
  fileMustExist: true,
  // Waits out a checkpoint's moment of exclusive access instead of failing at once.
  timeout: 10_000,
} as const;
