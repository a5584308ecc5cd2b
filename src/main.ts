import 'reflect-metadata';
import { ConfigurationError, readSettings } from './config';
import { createApp } from './app';
import { openDatabase } from './database';

async function main(): Promise<void> {
  const settings = readSettings();
  const dataSource = await openDatabase(settings);
  const { express, apollo } = await createApp(dataSource, settings);
  const server = express.listen(settings.port, () => {
    const where = settings.database.kind === 'postgres' ? 'PostgreSQL' : `SQLite ${settings.database.sqlitePath}`;
    console.log(`compliance-graph serves http://localhost:${settings.port}/graphql (${where})`);
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `port ${settings.port} is in use; set PORT` : error.message);
    process.exit(1);
  });
  const shutdown = () => {
    server.close(async () => {
      await apollo.stop();
      await dataSource.destroy();
      process.exit(0);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error) => {
  console.error(error instanceof ConfigurationError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
