import { InitialSchema1764100000000 } from './1764100000000-InitialSchema';

/** Every migration, in order. New ones are appended; committed ones are never edited. */
export const migrations = [InitialSchema1764100000000];
