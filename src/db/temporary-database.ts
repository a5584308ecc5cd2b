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
  // Both become identifiers in the statements below, where no parameter can stand.
  for (const identifier of [prefix, options.template ?? 'none'])
    if (!/^[a-z_][a-z0-9_]*$/.test(identifier)) throw new Error(`not a plain database name: ${identifier}`);
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const run = async (sql: string): Promise<void> => {
    await onServer(serverUrl, (admin) => admin.query(sql));
  };
  await run(options.template ? `CREATE DATABASE ${name} TEMPLATE ${options.template}` : `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * `work` on a connection of its own to the server `serverUrl` points at, closed afterwards: for
 * statements no pooled connection may run (CREATE and DROP DATABASE, ALTER DATABASE).
 */
export async function onServer<T>(serverUrl: string, work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
