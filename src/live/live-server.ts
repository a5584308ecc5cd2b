/**
 * Subscriptions over WebSocket: the graphql-ws protocol on /graphql, on the HTTP server's own port.
 * The client authenticates once, in its `connection_init` payload: `{ "authorization": "Bearer <key>" }`.
 */
import { Server } from 'node:http';
import { ApolloServerPlugin } from '@apollo/server';
import { ExecutionArgs, GraphQLError, GraphQLSchema, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import { Role } from '../auth/roles';
import { Viewer } from '../auth/viewer';
import { boundEchoesOf } from '../common/errors';
import { estimateCost, queryLimits, refuseOverBudget } from '../common/query-limits';
import { Services, createContext } from '../context';
import { Logger } from '../ops/logger';
import { liveClosures } from '../ops/metrics';
import { PersistedOperationRegistry, documentIdOf } from '../persisted-operations/persisted-operation.service';
import { LiveCloseCode, LiveConnection, LiveHub, identityOf } from './live-hub';
import { SubscriptionGroups } from './subscription-groups';

/** graphql-ws's own code for a refused connection_init (no key, a bad one). */
const UNAUTHORIZED = 4401;
const FORBIDDEN = 4403;
/** Largest message a client may send (a subscribe with its document). */
const MAX_MESSAGE_BYTES = 256 * 1024;

type Extra = {
  socket: WebSocket;
  connection?: LiveConnection;
};

export interface LiveServer {
  hub: LiveHub;
  /** For Apollo: closes every subscription connection before the HTTP server drains. */
  plugin: ApolloServerPlugin;
}

/** Closes with a reason, and drops the socket if the client does not finish the close within `graceMs`. */
function closeSocket(socket: WebSocket, code: number, reason: string, graceMs: number): void {
  socket.close(code, reason);
  setTimeout(() => {
    if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  }, graceMs).unref();
}

export async function startLiveServer(options: {
  httpServer: Server;
  schema: GraphQLSchema;
  services: Services;
  logger: Logger;
}): Promise<LiveServer> {
  const { httpServer, schema, services, logger } = options;
  const { dataSource, settings, authenticator } = services;
  const hub = new LiveHub(services.liveEvents, dataSource, settings, logger);
  await hub.start();
  const groups = new SubscriptionGroups(hub);
  const rules = [...specifiedRules, ...queryLimits(settings).validationRules];
  const webSocketServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: MAX_MESSAGE_BYTES });

  /**
   * A document over the cost limit is refused as over HTTP (QUERY_TOO_COSTLY): it would run once per
   * event, for as long as it is subscribed. A cost that cannot be estimated is refused too.
   */
  const costRefusal = (args: ExecutionArgs): GraphQLError | null => {
    let refusal: GraphQLError | null;
    try {
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const cost = estimateCost(args.schema, args.document, args.operationName ?? undefined, variables, settings);
      const { maxCost } = settings.limits;
      refusal = cost !== undefined && cost > maxCost ? refuseOverBudget(cost, maxCost) : null;
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      refusal = error;
    }
    if (!refusal) return null;
    // The HTTP status the extensions carry for Apollo means nothing on a socket.
    const { http: _http, ...extensions } = refusal.extensions;
    return new GraphQLError(refusal.message, { extensions });
  };

  const registeredOperations = new PersistedOperationRegistry(services.dataSource);

  const refuse = (socket: WebSocket, code: number, reason: string) => {
    closeSocket(socket, code, reason, settings.live.closeGraceMs);
    return false;
  };

  const cleanup = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      // One execution per event for each group of subscribers asking the same thing with the same rights.
      subscribe: (args) => {
        const refused = costRefusal(args);
        return refused ? { errors: [refused] } : groups.subscribe(args);
      },
      // Queries and mutations are HTTP's: there the request budget, the cost limit and a key's
      // registered-operations rule hold, and none of them does here (graphql-ws runs any operation).
      execute: () => ({
        errors: [
          new GraphQLError(
            'queries and mutations are served over HTTP (POST /graphql); this socket carries subscriptions only',
            { extensions: { code: 'BAD_REQUEST' } },
          ),
        ],
      }),
      // A key held to registered operations is held to them here too, as over HTTP: the document
      // sent must be one an ADMIN registered (the socket takes documents by their text only).
      onSubscribe: async (ctx, _id, payload) => {
        if (!ctx.extra.connection?.viewer.registeredOperationsOnly) return;
        if ((await registeredOperations.find(documentIdOf(payload.query))) !== null) return;
        return [
          new GraphQLError(
            'this API key may only run registered operations: an ADMIN registers the document with registerPersistedOperations',
            { extensions: { code: 'PERSISTED_QUERY_REQUIRED' } },
          ),
        ];
      },
      validate: (validationSchema, document) => validate(validationSchema, document, rules),
      onConnect: async (ctx) => {
        const { socket } = ctx.extra;
        const header = ctx.connectionParams?.authorization;
        const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
        if (!match) {
          return refuse(socket, UNAUTHORIZED, 'connection_init must carry { "authorization": "Bearer <api key>" }');
        }
        let viewer: Viewer;
        try {
          viewer = await authenticator.authenticate(match[1]);
        } catch (error) {
          if (error instanceof GraphQLError) return refuse(socket, UNAUTHORIZED, error.message);
          throw error;
        }
        if (viewer.role === Role.GATEWAY) return refuse(socket, FORBIDDEN, 'a GATEWAY key cannot subscribe');
        const bound = settings.live.maxConnectionsPerKey;
        if (hub.connectionsOf(identityOf(viewer)) >= bound) {
          liveClosures.inc({ reason: 'too_many' });
          return refuse(
            socket,
            LiveCloseCode.TOO_MANY_CONNECTIONS,
            `this API key already holds ${bound} connections to this instance (LIVE_MAX_CONNECTIONS_PER_KEY)`,
          );
        }
        const connection: LiveConnection = {
          viewer,
          backlog: () => socket.bufferedAmount,
          close: (code, reason) => closeSocket(socket, code, reason, settings.live.closeGraceMs),
        };
        ctx.extra.connection = connection;
        hub.addConnection(connection);
        return true;
      },
      context: (ctx, id) => ({
        ...createContext(services, `ws:${id}`, ctx.extra.connection!.viewer),
        live: { hub, connection: ctx.extra.connection! },
      }),
      onNext: (ctx, _id, _payload, _args, result) => {
        // A client that does not read lets the socket's buffer grow: past the bound it is closed.
        const { socket, connection } = ctx.extra;
        if (connection && socket.bufferedAmount > settings.live.maxBufferedBytes) hub.closeSlow(connection);
        // Refused variables come back as a result with errors: the values they quote are bounded.
        if (result.errors?.length)
          return { ...result, errors: result.errors.map((error) => boundEchoesOf(error.toJSON())) };
      },
      // Documents refused by validation, the same.
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => boundEchoesOf(error.toJSON())),
      onClose: (ctx) => {
        if (ctx.extra.connection) hub.removeConnection(ctx.extra.connection);
      },
    },
    webSocketServer,
    settings.live.keepAliveMs,
  );

  return {
    hub,
    plugin: {
      async serverWillStart() {
        return {
          async drainServer() {
            await cleanup.dispose();
            await hub.stop();
          },
        };
      },
    },
  };
}
