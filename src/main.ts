import 'reflect-metadata';
import { ConfigurationError, readSettings } from './config';
import { createApp } from './app';
import { openDatabase } from './database';
import { evaluatorFor } from './decisions/evaluator';

async function main(): Promise<void> {
  const settings = readSettings();
  const dataSource = await openDatabase(settings);
  const evaluator = evaluatorFor(dataSource);
  // Compile the rules before the first activation arrives, and follow changes made by other instances.
  await Promise.all([evaluator.current(), evaluator.listen()]);
  const { httpServer: server, apollo } = await createApp(dataSource, settings);
  server.listen(settings.port, () => {
    const where = settings.database.kind === 'postgres' ? 'PostgreSQL' : `SQLite ${settings.database.sqlitePath}`;
    console.log(`compliance-graph serves http://localhost:${settings.port}/graphql (${where})`);
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `port ${settings.port} is in use; set PORT` : error.message);
    process.exit(1);
  });
  const shutdown = async () => {
    await apollo.stop(); // drains the HTTP server: requests in flight finish first
    await evaluator.close();
    await dataSource.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((error) => {
  console.error(error instanceof ConfigurationError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
