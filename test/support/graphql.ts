import { ApolloServer } from '@apollo/server';
import { GraphQLFormattedError } from 'graphql';
import { createApolloServer } from '../../src/app';
import { GraphQLContext, createContext } from '../../src/context';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/ops/logger';
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
    const client = new GraphQLClient(this.apollo, this.database, viewer);
    client.logLines = this.logLines;
    return client;
  }

  /** What the server logged for this client's operations, as parsed JSON lines. */
  logLines: Record<string, unknown>[] = [];
  private get logger() {
    const lines = this.logLines;
    return createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      }),
    );
  }

  static async create(database: TestDatabase): Promise<GraphQLClient> {
    const apollo = await createApolloServer(database.settings);
    await apollo.start();
    return new GraphQLClient(apollo, database);
  }

  async execute<T = any>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResult<T>> {
    const observation = { requestId: 'test-request', log: this.logger.child({ requestId: 'test-request' }) };
    const contextValue = createContext(this.database.services, 'test-request', this.viewer, observation);
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
