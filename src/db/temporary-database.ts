import { Client } from 'pg';

export interface TemporaryDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL database on the server `serverUrl` points at (for tests and benchmarks, which
 * each need a database of their own): empty, or a copy of `template`. `drop` removes it, closing its
 * sessions.
 */
export async function createTemporaryDatabase(
  serverUrl: string,
  prefix: string,
  options: { template?: string } = {},
): Promise<TemporaryDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const run = async (sql: string) => {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  // The template's name comes from our own test setup, never from input.
  await run(options.template ? `CREATE DATABASE ${name} TEMPLATE ${options.template}` : `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
