import { createClient as createLiveClient } from 'graphql-ws';
import { CombinedError, Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from 'urql';

/** True when the server refused the key itself (revoked, expired, unknown): the person must sign in again. */
export function isUnauthenticated(error: CombinedError): boolean {
  return (
    error.response?.status === 401 ||
    error.graphQLErrors.some((graphQLError) => graphQLError.extensions?.code === 'UNAUTHENTICATED')
  );
}

/**
 * urql with its document cache: a mutation's result invalidates the cached queries that hold objects
 * of the types it returns, so lists refresh after a change. Subscriptions go over graphql-ws on the
 * same /graphql path, its socket opened when a page first subscribes (lazy) and authenticated in
 * connection_init; graphql-ws reconnects by itself, and the pages re-read what they show when it does
 * (events are delivered at most once).
 */
export function createConsoleClient(apiKey: string, onUnauthenticated: (reason: string) => void): Client {
  const live = createLiveClient({
    url: `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`,
    connectionParams: { authorization: `Bearer ${apiKey}` },
    retryAttempts: Infinity,
    // A closed socket that the server refused for the key itself (4401, 4403) is not retried.
    shouldRetry: (event) => !(event instanceof CloseEvent && (event.code === 4401 || event.code === 4403)),
  });
  return new Client({
    url: '/graphql',
    // POST with a JSON body: the server's CSRF prevention refuses simple GET requests from browsers.
    preferGetMethod: false,
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (isUnauthenticated(error)) onUnauthenticated(error.graphQLErrors[0]?.message ?? 'the API key was refused');
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              return { unsubscribe: live.subscribe(input, sink) };
            },
          };
        },
      }),
    ],
    fetchOptions: () => ({ headers: { authorization: `Bearer ${apiKey}` } }),
  });
}
