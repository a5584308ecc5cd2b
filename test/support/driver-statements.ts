import type BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

/**
 * Every statement `work` sends to the database, counted at the driver: the decision path runs
 * prepared statements on better-sqlite3 and on pg's pool directly, which TypeORM's logger never sees.
 */
export async function countDriverStatements<T>(
  dataSource: DataSource,
  work: () => Promise<T>,
): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const restore: (() => void)[] = [];
  const wrap = <O extends object>(owner: O, method: keyof O & string, text: (self: any, args: any[]) => string) => {
    const original = owner[method] as unknown as (...args: unknown[]) => unknown;
    (owner as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
      statements.push(text(this, args));
      return original.apply(this, args);
    };
    restore.push(() => ((owner as Record<string, unknown>)[method] = original));
  };
  if (dataSource.options.type === 'postgres') {
    wrap(Client.prototype, 'query', (_self, [config]) => (typeof config === 'string' ? config : config.text));
  } else {
    const database = (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database })
      .databaseConnection;
    const statementPrototype = Object.getPrototypeOf(database.prepare('SELECT 1'));
    for (const method of ['get', 'all', 'run', 'iterate'] as const) {
      wrap(statementPrototype, method, (self) => self.source);
    }
  }
  try {
    return { result: await work(), statements };
  } finally {
    for (const undo of restore) undo();
  }
}
