import BetterSqlite3 from 'better-sqlite3';

/**
 * A read-only connection of its own to a SQLite file, for a worker thread reading beside the
 * service's one connection (WAL: it reads committed rows while the service writes). Its own module
 * so that a worker thread loads the driver alone, not the ORM or pg. A simulation's worker keeps
 * its one for the run; the pool's close ends the thread, and better-sqlite3 closes the thread's
 * connections as it ends.
 */
export function openSqliteReader(file: string): BetterSqlite3.Database {
  // Waits out a checkpoint's moment of exclusive access instead of failing at once.
  return new BetterSqlite3(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
}
