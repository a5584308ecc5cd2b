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
