/**
 * A typed partner client for compliance-graph: operations are sent by their persisted hash (the
 * manifest GraphQL Code Generator writes, registered by an ADMIN), answers are typed by the
 * generated code, and HTTP 429 is retried after the server's Retry-After with exponential backoff.
 * Standard `fetch` only; copy it into your code base.
 */
import type { TypedDocumentString } from './gql/graphql';

export interface PartnerClientOptions {
  /** e.g. `https://compliance.example.com/graphql` */
  url: string;
  apiKey: string;
  /** Tries of a request refused with 429 before giving up (default 6). */
  maxAttempts?: number;
  /** First wait when the server names none, doubled on every retry (default 250 ms). */
  baseDelayMs?: number;
  /** Longest single wait (default 30 s). */
  maxDelayMs?: number;
  /** Send the document text when the server does not know its hash (false for restricted keys). */
  fallbackToText?: boolean;
}

interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string } & Record<string, unknown>;
}

/** A top-level error: a fault of the request (its `code` says which), never a business failure. */
export class GraphQLRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: GraphQLErrorBody[],
  ) {
    super(errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; '));
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

// #region user-errors
export interface UserError {
  field: string[];
  message: string;
  code: string;
}

/** A mutation refused for business reasons: nothing was written; each error names its input field. */
export class UserErrorsError extends Error {
  constructor(readonly userErrors: UserError[]) {
    super(userErrors.map((error) => `${error.field.join('.')}: ${error.message} (${error.code})`).join('\n'));
  }
}

/** Returns a mutation's payload, or throws its userErrors. */
export function payloadOrThrow<T extends { userErrors: UserError[] }>(payload: T): T {
  if (payload.userErrors.length > 0) throw new UserErrorsError(payload.userErrors);
  return payload;
}
// #endregion user-errors

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PartnerClient {
  /** How many 429 answers this client has waited out (for logs and tests). */
  rateLimitedCount = 0;

  constructor(private readonly options: PartnerClientOptions) {}

  /** Runs a generated operation and returns its typed data. */
  async request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
  ): Promise<TResult> {
    const hash = document.__meta__?.hash as string | undefined;
    // #region persisted-request
    const byHash = {
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: hash?.replace(/^sha256:/, '') } },
    };
    // #endregion persisted-request
    try {
      return await this.send<TResult>(hash ? byHash : { query: document.toString(), variables });
    } catch (error) {
      const unknownHash = error instanceof GraphQLRequestError && error.code === 'PERSISTED_QUERY_NOT_FOUND';
      if (!unknownHash || this.options.fallbackToText === false) throw error;
      return this.send<TResult>({ query: document.toString(), variables });
    }
  }

  // #region backoff
  /** POSTs a request; on 429 waits as the server says (Retry-After), else backs off exponentially with jitter. */
  private async send<TResult>(body: unknown): Promise<TResult> {
    const { maxAttempts = 6, baseDelayMs = 250, maxDelayMs = 30_000 } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
        body: JSON.stringify(body),
      });
      if (response.status === 429 && attempt < maxAttempts) {
        this.rateLimitedCount += 1;
        const retryAfterSeconds = Number(response.headers.get('retry-after'));
        const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        const wait = Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : backoff;
        await response.body?.cancel();
        // Jitter: clients refused together do not all come back in the same instant.
        await sleep(wait + Math.random() * baseDelayMs);
        continue;
      }
      const result = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorBody[] };
      if (result.errors?.length) throw new GraphQLRequestError(response.status, result.errors);
      if (!response.ok || !result.data)
        throw new GraphQLRequestError(response.status, [{ message: `HTTP ${response.status}` }]);
      return result.data;
    }
  }
  // #endregion backoff
}
