import { randomUUID } from 'node:crypto';
import { Server, createServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { Express } from 'express';
import { GraphQLFormattedError } from 'graphql';
import { DataSource } from 'typeorm';
import { authenticate, capBatches, rateLimit } from './auth/http';
import { queryLimits } from './common/query-limits';
import { Settings } from './config';
import { GraphQLContext, createContext } from './context';
import { ideForBrowsers, serveIdeAssets } from './ide';
import { buildAppSchema } from './schema';

/**
 * Every error leaves with `extensions.code`. Faults (anything not deliberately raised for the
 * client) are logged in full and, in production, returned as "Internal server error".
 */
export function formatError(settings: Settings) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = (formatted.extensions?.code as string | undefined) ?? 'INTERNAL_SERVER_ERROR';
    if (code === 'INTERNAL_SERVER_ERROR') {
      // The stack only: a database error also carries its query parameters (coordinates, secrets).
      const cause = (error as { originalError?: Error }).originalError ?? error;
      console.error('Unexpected error:', cause instanceof Error ? cause.stack : String(cause));
      if (settings.production) return { message: 'Internal server error', path: formatted.path, extensions: { code } };
    }
    return { ...formatted, extensions: { ...formatted.extensions, code } };
  };
}

export async function createApolloServer(
  settings: Settings,
  httpServer?: Server,
): Promise<ApolloServer<GraphQLContext>> {
  const limits = queryLimits(settings);
  return new ApolloServer<GraphQLContext>({
    schema: await buildAppSchema(),
    formatError: formatError(settings),
    includeStacktraceInErrorResponses: !settings.production,
    introspection: settings.introspection,
    // Batches are accepted, up to MAX_BATCH_SIZE operations (capBatches).
    allowBatchedHttpRequests: true,
    validationRules: limits.validationRules,
    // The IDE is our own page, served from node_modules; Apollo's landing page would load a CDN.
    plugins: [
      ...limits.plugins,
      ApolloServerPluginLandingPageDisabled(),
      // On stop: refuse new connections and wait for the requests in flight before the database closes.
      ...(httpServer ? [ApolloServerPluginDrainHttpServer({ httpServer })] : []),
    ],
  });
}

export interface App {
  express: Express;
  httpServer: Server;
  apollo: ApolloServer<GraphQLContext>;
}

export async function createApp(dataSource: DataSource, settings: Settings): Promise<App> {
  const app = express();
  const httpServer = createServer(app);
  const apollo = await createApolloServer(settings, httpServer);
  await apollo.start();
  app.disable('x-powered-by');
  app.get('/', (_request, response) => response.redirect('/graphql'));
  app.use(serveIdeAssets);
  app.use(
    '/graphql',
    // Outside production, the IDE served to this machine comes with the admin key in its headers.
    ideForBrowsers('/graphql', settings.production ? undefined : settings.adminKey),
    authenticate(dataSource, settings),
    rateLimit(settings),
    express.json({ limit: '5mb' }),
    capBatches(settings),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const requestId = (req.headers['x-request-id'] as string | undefined)?.slice(0, 100) || randomUUID();
        return createContext(dataSource, settings, requestId, req.viewer ?? null);
      },
    }),
  );
  return { express: app, httpServer, apollo };
}
