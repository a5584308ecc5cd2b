import { Server, createServer } from 'node:http';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { Express } from 'express';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { DataSource } from 'typeorm';
import { authenticate, capBatches, rateLimit } from './auth/http';
import { RequestLimiter } from './auth/rate-limit';
import { QueryLimitHooks, queryLimits } from './common/query-limits';
import { boundEchoesOf, coercionFailedArgument } from './common/errors';
import { Settings } from './config';
import { serveConsole } from './console';
import { GraphQLContext, Services, createContext } from './context';
import { graphqlOverHttpPlugin } from './graphql-over-http';
import { createServices } from './services';
import { ideForBrowsers, serveIdeAssets } from './ide';
import { isDatabaseUnavailable } from './ops/database-errors';
import { healthRoutes } from './ops/health';
import { Logger, createLogger } from './ops/logger';
import { registry } from './ops/metrics';
import { errorResponses, observationPlugin, observeRequests } from './ops/observe';
import { persistedOperations } from './persisted-operations/persisted-operation.http';
import { PersistedOperationRegistry } from './persisted-operations/persisted-operation.service';
import { csvReports } from './reports/report.csv';
import { LiveServer, startLiveServer } from './live/live-server';
import { buildAppSchema } from './schema';

/**
 * Every error leaves with `extensions.code`. A database that cannot be reached is
 * DATABASE_UNAVAILABLE (retryable); other faults (anything not deliberately raised for the client)
 * are logged by the observation plugin and, in production, returned as "Internal server error".
 */
export function formatError(settings: Settings) {
  const format = formatErrorUnbounded(settings);
  // Last: whatever the error became, the values it quotes are bounded.
  return (formatted: GraphQLFormattedError, error: unknown) => boundEchoesOf(format(formatted, error));
}

function formatErrorUnbounded(settings: Settings) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = (formatted.extensions?.code as string | undefined) ?? 'INTERNAL_SERVER_ERROR';
    if (code === 'INTERNAL_SERVER_ERROR') {
      // graphql-js coerces arguments while executing (an explicit null for a non-null argument):
      // the client's mistake, not a fault.
      const argument = coercionFailedArgument(formatted.message);
      const original = (error as { originalError?: Error }).originalError;
      if (argument && (!original || (original instanceof GraphQLError && !original.originalError))) {
        return { ...formatted, extensions: { code: 'BAD_USER_INPUT', field: argument } };
      }
      const cause = (error as { originalError?: Error }).originalError ?? error;
      if (isDatabaseUnavailable(cause)) {
        return {
          message: 'the database is unavailable; retry shortly',
          path: formatted.path,
          extensions: { code: 'DATABASE_UNAVAILABLE' },
        };
      }
      if (settings.production) return { message: 'Internal server error', path: formatted.path, extensions: { code } };
    }
    return { ...formatted, extensions: { ...formatted.extensions, code } };
  };
}

export async function createApolloServer(
  settings: Settings,
  httpServer?: Server,
  limits: QueryLimitHooks = queryLimits(settings),
  plugins: ApolloServerPlugin<GraphQLContext>[] = [],
): Promise<ApolloServer<GraphQLContext>> {
  return new ApolloServer<GraphQLContext>({
    schema: await buildAppSchema(),
    formatError: formatError(settings),
    includeStacktraceInErrorResponses: !settings.production,
    introspection: settings.introspection,
    // The stop is ours (main.ts: drain, stop the workers, close the database, exit 0). Left on, Apollo
    // catches SIGTERM and SIGINT itself outside NODE_ENV=test and re-raises them after its own stop,
    // killing the process with 143 before the database is closed.
    stopOnTerminationSignals: false,
    // Queries over GET too (Apollo refuses mutations there), keeping Apollo's CSRF prevention: a
    // request must carry a header a browser cannot send cross-site without a CORS preflight, which
    // this server never grants. The API key's Authorization header is one (every request but
    // introspection carries it), so GET works for clients with a key; a bare GET is refused (400).
    // The first two are Apollo's recommended headers.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    // The token limit is graphql-js's own, so a document over it is a parse failure
    // (GRAPHQL_PARSE_FAILED, 400) like a syntax error: graphql-armor's token plugin threw inside an
    // Apollo hook and answered 500.
    parseOptions: { maxTokens: settings.limits.maxTokens },
    // Batches are accepted, up to MAX_BATCH_SIZE operations (capBatches).
    allowBatchedHttpRequests: true,
    // Operations sent by hash are registered ahead and resolved before Apollo (persistedOperations):
    // Apollo's automatic persisted queries would register any document a caller sends.
    persistedQueries: false,
    validationRules: limits.validationRules,
    // The IDE is our own page, served from node_modules; Apollo's landing page would load a CDN.
    plugins: [
      observationPlugin,
      graphqlOverHttpPlugin,
      ...limits.plugins,
      ApolloServerPluginLandingPageDisabled(),
      // Responses depend on the caller's key and are never cached: the default cache-control plugin
      // would only cost a hook on every resolved field (about a third of a 3,000-row report).
      ApolloServerPluginCacheControlDisabled(),
      // On stop: refuse new connections and wait for the requests in flight before the database closes.
      ...(httpServer ? [ApolloServerPluginDrainHttpServer({ httpServer })] : []),
      ...plugins,
    ],
  });
}

export interface App {
  express: Express;
  httpServer: Server;
  apollo: ApolloServer<GraphQLContext>;
  /** Request budgets of /graphql and /reports together (one budget per key, not one per route). */
  limiter: RequestLimiter;
  /** The instance's long-lived services (the ones handed in, or built for this app). */
  services: Services;
  /** Subscriptions (graphql-ws on /graphql); closed when `apollo` stops. */
  live: LiveServer;
}

export async function createApp(
  dataSource: DataSource,
  settings: Settings,
  logger: Logger = createLogger(settings.logLevel),
  services: Services = createServices(dataSource, settings, logger),
): Promise<App> {
  const app = express();
  const httpServer = createServer(app);
  const limits = queryLimits(settings);
  const live = await startLiveServer({ httpServer, schema: await buildAppSchema(), services, logger });
  const apollo = await createApolloServer(settings, httpServer, limits, [live.plugin]);
  await apollo.start();
  app.disable('x-powered-by');
  // Express hashes every body it sends into an ETag (a SHA-1 per answer, about 1 % of a decision's
  // processor time in a profile). An answer depends on the caller's key and is never cached, so
  // nobody revalidates one; the IDE's assets (ruru's handler) and the console's (express.static)
  // keep their own validators, and the two pages are no-store.
  app.set('etag', false);
  app.use(observeRequests(logger));
  app.use(healthRoutes(dataSource, services.evaluator));
  app.get('/metrics', async (_request, response) => {
    response.type(registry.contentType).send(await registry.metrics());
  });
  app.get('/', (_request, response) => response.redirect('/graphql'));
  app.use(serveIdeAssets);
  app.use(serveConsole(settings));
  const { limiter } = services;
  app.use(
    '/reports',
    authenticate(services.authenticator),
    rateLimit(limiter, settings.limits.maxCost, { graphql: false }),
  );
  app.use(csvReports(dataSource, settings));
  app.use(
    '/graphql',
    // Outside production, the IDE served to this machine comes with the admin key in its headers.
    ideForBrowsers('/graphql', settings.production ? undefined : settings.adminKey),
    authenticate(services.authenticator),
    // Counted before the body is read (only a small one is, to see whether it asks just for its budget).
    rateLimit(limiter, settings.limits.maxCost, { graphql: true }),
    express.json({ limit: '5mb' }),
    capBatches(settings),
    // Before the batch budget: an operation sent by hash is costed as the registered document.
    persistedOperations(new PersistedOperationRegistry(dataSource)),
    limits.batchBudget,
    expressMiddleware(apollo, {
      context: async ({ req }) => ({
        ...createContext(services, req.observation!.requestId, req.viewer ?? null, req.observation),
        rateLimit: req.rateLimit,
      }),
    }),
  );
  app.use(errorResponses(logger));
  return { express: app, httpServer, apollo, limiter, services, live };
}
