import 'reflect-metadata';
import { AddressInfo } from 'node:net';
import { ConfigurationError, readSettings } from './config';
import { createApp } from './app';
import { openDatabase } from './database';
import { generateSecret } from './auth/api-key.service';
import { scheduleAttemptMaintenance } from './activations/attempt-maintenance';
import { schedulePurge } from './activations/signal-retention';
import { createServices } from './services';
import { createLogger } from './ops/logger';
import { watchDatabase } from './ops/metrics';
import { postgresPoolOf } from './db/pool';

/** How long a SIGTERM waits for requests in flight before closing anyway. */
const SHUTDOWN_GRACE_MS = 15_000;

async function main(): Promise<void> {
  const settings = readSettings();
  const logger = createLogger(settings.logLevel);
  // A fresh install needs a first key. Outside production, one is made up for this run (and the IDE
  // served to this machine comes with it); production never invents credentials.
  const localAdminKey = !settings.production && !settings.adminKey;
  if (localAdminKey) settings.adminKey = generateSecret();

  const dataSource = await openDatabase(settings, (line) => logger.info(line));
  const services = createServices(dataSource, settings, logger);
  const { evaluator, sweeps, webhooks } = services;
  // Compile the rules before the first activation arrives, and follow changes made by other instances.
  await Promise.all([evaluator.current(), evaluator.listen()]);
  const stopWatching = watchDatabase({
    pool: (): Record<string, number> => {
      const pool = postgresPoolOf(dataSource);
      return pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : { total: 1 };
    },
    rebuilds: () => evaluator.rebuilds,
  });
  const { httpServer: server, apollo } = await createApp(dataSource, settings, logger, services);
  const stopPurging = schedulePurge(dataSource, settings.privacy.signalRetentionDays, logger);
  const stopMaintaining = scheduleAttemptMaintenance(dataSource, settings.privacy, logger);
  // Sweeps left RUNNING by a restart (or by an instance that died) carry on here.
  sweeps.startPolling();
  // Partner events waiting in the outbox (from any instance) are delivered from here.
  webhooks.startPolling(1_000);

  server.on('error', (error: NodeJS.ErrnoException) => {
    logger.fatal(
      error.code === 'EADDRINUSE' ? `port ${settings.port} is in use; set PORT to a free one` : error.message,
    );
    process.exit(1);
  });
  server.listen(settings.port, () => {
    const where = settings.database.kind === 'postgres' ? 'PostgreSQL' : `SQLite ${settings.database.sqlitePath}`;
    // The port bound, not the one asked for: PORT=0 takes a free one, and this line says which.
    const { port } = server.address() as AddressInfo;
    logger.info(`compliance-graph serves http://localhost:${port}/graphql (${where})`);
    if (localAdminKey) {
      // For the person at the terminal, not the log: a secret never goes into a log line.
      process.stderr.write(
        `\nlocal admin key for this run (the IDE on this machine has it already):\n  ${settings.adminKey}\n` +
          'set COMPLIANCE_ADMIN_KEY to choose your own; create further keys with createApiKey\n\n',
      );
    } else if (!settings.adminKey) {
      logger.info('no COMPLIANCE_ADMIN_KEY set: only existing API keys are accepted');
    }
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: no new connections; finishing requests in flight`);
    const force = setTimeout(() => {
      logger.error(`requests still running after ${SHUTDOWN_GRACE_MS} ms; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    await apollo.stop(); // drains the HTTP server: requests in flight finish first
    await stopPurging();
    await stopMaintaining();
    stopWatching();
    await services.close(); // sweeps and deliveries stop after their batch in flight
    await dataSource.destroy();
    logger.info('stopped');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(0);
  };
  // `on`, not `once`: under `npm start` a Ctrl-C reaches the server twice (from the terminal to the
  // whole process group, and forwarded by npm), and a second signal without a listener would kill
  // the process in the middle of its stop. Repeats are ignored; the grace period bounds the stop.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  // A bad setting or an unreachable database is a one-line message, not a stack dump.
  const message =
    error instanceof ConfigurationError
      ? `configuration error: ${error.message}`
      : `cannot start: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
