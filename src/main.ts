import 'reflect-metadata';
import { ConfigurationError, readSettings } from './config';
import { createApp } from './app';
import { openDatabase } from './database';
import { evaluatorFor } from './decisions/evaluator';
import { generateSecret } from './auth/api-key.service';
import { schedulePurge } from './activations/signal-retention';

async function main(): Promise<void> {
  const settings = readSettings();
  // A fresh install needs a first key. Outside production, one is made up for this run (and the IDE
  // served to this machine comes with it); production never invents credentials.
  const localAdminKey = !settings.production && !settings.adminKey;
  if (localAdminKey) settings.adminKey = generateSecret();
  const dataSource = await openDatabase(settings);
  const evaluator = evaluatorFor(dataSource);
  // Compile the rules before the first activation arrives, and follow changes made by other instances.
  await Promise.all([evaluator.current(), evaluator.listen()]);
  const { httpServer: server, apollo } = await createApp(dataSource, settings);
  const stopPurging = schedulePurge(dataSource, settings.privacy.signalRetentionDays);
  server.listen(settings.port, () => {
    const where = settings.database.kind === 'postgres' ? 'PostgreSQL' : `SQLite ${settings.database.sqlitePath}`;
    console.log(`compliance-graph serves http://localhost:${settings.port}/graphql (${where})`);
    if (localAdminKey) {
      console.log(`local admin key for this run (the IDE on this machine has it already): ${settings.adminKey}`);
      console.log('set COMPLIANCE_ADMIN_KEY to choose your own; create further keys with createApiKey');
    } else if (!settings.adminKey) {
      console.log('no COMPLIANCE_ADMIN_KEY set: only existing API keys are accepted');
    }
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `port ${settings.port} is in use; set PORT` : error.message);
    process.exit(1);
  });
  const shutdown = async () => {
    await apollo.stop(); // drains the HTTP server: requests in flight finish first
    await stopPurging();
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
