import { CombinedError, Client, cacheExchange, fetchExchange, mapExchange } from 'urql';

/** True when the server refused the key itself (revoked, expired, unknown): the person must sign in again. */
export function isUnauthenticated(error: CombinedError): boolean {
  return (
    error.response?.status === 401 ||
    error.graphQLErrors.some((graphQLError) => graphQLError.extensions?.code === 'UNAUTHENTICATED')
  );
}

/**
 * urql with its document cache: a mutation's result invalidates the cached queries that hold objects
 * of the types it returns, so lists refresh after a change.
 */
export function createConsoleClient(apiKey: string, onUnauthenticated: (reason: string) => void): Client {
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
    ],
    fetchOptions: () => ({ headers: { authorization: `Bearer ${apiKey}` } }),
  });
}
