import { createApolloServer } from '../src/app';
import { internalViewer } from '../src/auth/viewer';
import { createContext } from '../src/context';
import { Services } from '../src/context';

/**
 * A GraphQL operation run in this process, as the viewer named (an internal ADMIN-like viewer for
 * benches): its data, or a throw carrying its errors, so that a refused step never passes as a fast one.
 */
export function inProcessGraphql(apollo: Awaited<ReturnType<typeof createApolloServer>>, services: Services) {
  return async (viewer: string, query: string, variables?: Record<string, unknown>) => {
    const contextValue = createContext(services, 'bench', internalViewer(viewer));
    const response = await apollo.executeOperation({ query, variables }, { contextValue });
    const result = response.body.kind === 'single' ? response.body.singleResult : null;
    if (result?.errors) throw new Error(JSON.stringify(result.errors));
    return result?.data as Record<string, any>;
  };
}
