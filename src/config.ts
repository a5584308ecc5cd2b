/**
 * Settings read from the environment once, at start. Every value has a documented default so that
 * `npm start` works on a fresh clone with no configuration at all.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding package.json, whether running from src/ (ts-node) or dist/src/ (built). */
export function projectRoot(): string {
  let directory = __dirname;
  while (!existsSync(join(directory, 'package.json')) && dirname(directory) !== directory)
    directory = dirname(directory);
  return directory;
}

export interface DatabaseSettings {
  /** `postgres` when DATABASE_URL is a postgres:// URL, otherwise the embedded SQLite file. */
  kind: 'sqlite' | 'postgres';
  url?: string;
  sqlitePath: string;
  /** SQLite `synchronous` pragma: NORMAL keeps WAL commits durable against process crashes. */
  sqliteSynchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
}

export interface Settings {
  port: number;
  production: boolean;
  database: DatabaseSettings;
  /** Largest `first`/`last` a connection accepts (GitHub's public API uses 100). */
  maxPageSize: number;
  /** Seed the demo data set (partners, devices, attempts) when the database has no devices. */
  seedDemoData: boolean;
}

export class ConfigurationError extends Error {}

function readInteger(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be an integer from ${min} to ${max}; got "${raw}"`);
  }
  return value;
}

export function readDatabaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  const url = env.DATABASE_URL || undefined;
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigurationError(
      `DATABASE_URL must start with postgres:// or postgresql://; got "${url.split('@').pop()}"`,
    );
  }
  const synchronous = (env.SQLITE_SYNCHRONOUS || 'NORMAL').toUpperCase();
  if (!['OFF', 'NORMAL', 'FULL', 'EXTRA'].includes(synchronous)) {
    throw new ConfigurationError(`SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA; got "${synchronous}"`);
  }
  return {
    kind: url ? 'postgres' : 'sqlite',
    url,
    sqlitePath: env.SQLITE_PATH || 'data/compliance.sqlite',
    sqliteSynchronous: synchronous as DatabaseSettings['sqliteSynchronous'],
  };
}

export function readSettings(): Settings {
  return {
    port: readInteger('PORT', 4000, 0, 65535),
    production: process.env.NODE_ENV === 'production',
    database: readDatabaseSettings(),
    maxPageSize: readInteger('MAX_PAGE_SIZE', 100, 1, 1000),
    seedDemoData: (process.env.SEED_DEMO_DATA ?? 'true') !== 'false',
  };
}
