import { readDatabaseSettings } from '../config';

/**
 * Column types that differ between the two supported databases. Entities are loaded after the
 * environment is read, so the choice is made once per process, in one place.
 */
const isPostgres = readDatabaseSettings().kind === 'postgres';

/** An instant: `timestamptz` on PostgreSQL, a UTC `datetime` text on SQLite. */
export const timestampType = isPostgres ? 'timestamptz' : 'datetime';

/** Structured values (signals, translations, audit snapshots). */
export const jsonType = 'simple-json' as const;

/**
 * The database's clock as a column default, in milliseconds at least: PostgreSQL's now() keeps
 * microseconds; SQLite's datetime('now') (TypeORM's default for a creation date) keeps whole
 * seconds, so an instant stored that way lies up to a second before the event it records.
 */
export const nowWithMilliseconds = isPostgres ? () => 'now()' : () => "(strftime('%Y-%m-%d %H:%M:%f', 'now'))";
