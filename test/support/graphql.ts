import { ApolloServer } from '@apollo/server';
import { GraphQLFormattedError } from 'graphql';
import { createApolloServer } from '../../src/app';
import { GraphQLContext, createContext } from '../../src/context';
import { TestDatabase } from './database';
import { Viewer, internalViewer } from '../../src/auth/viewer';

export interface GraphQLResult<T = any> {
  data?: T | null;
  errors?: readonly GraphQLFormattedError[];
}

/** Runs real operations through the same Apollo server and context the HTTP endpoint uses. */
export class GraphQLClient {
  private constructor(
    private readonly apollo: ApolloServer<GraphQLContext>,
    private readonly database: TestDatabase,
    /** Who the operations run as: full rights by default, like the seeds. */
    readonly viewer: Viewer | null = internalViewer('test'),
  ) {}

  /** The same server, acting as another caller (null: no API key). */
  as(viewer: Viewer | null): GraphQLClient {
    return new GraphQLClient(this.apollo, this.database, viewer);
  }

  static async create(database: TestDatabase): Promise<GraphQLClient> {
    const apollo = await createApolloServer(database.settings);
    await apollo.start();
    return new GraphQLClient(apollo, database);
  }

  async execute<T = any>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResult<T>> {
    const contextValue = createContext(this.database.dataSource, this.database.settings, 'test-request', this.viewer);
    const response = await this.apollo.executeOperation<T>({ query, variables }, { contextValue });
    if (response.body.kind !== 'single') throw new Error('incremental delivery is not used');
    return response.body.singleResult as GraphQLResult<T>;
  }

  /** Executes and fails the test on any top-level error. */
  async data<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const result = await this.execute<T>(query, variables);
    if (result.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(result.errors, null, 1)}`);
    return result.data as T;
  }

  stop(): Promise<void> {
    return this.apollo.stop();
  }
}
