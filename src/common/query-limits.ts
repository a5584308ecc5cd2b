import { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { RequestHandler } from 'express';
import {
  DocumentNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  getOperationAST,
  getVariableValues,
  parse,
} from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { Settings } from '../config';
import { DEFAULT_PAGE_SIZE } from './connection';
import { coercionFailedArgument } from './errors';

/**
 * A field costs 1 plus its children; under a paged list (`first`/`last`) or a list of IDs the
 * children count once per item, so nested pages multiply as they do in the database.
 */
const pagedListEstimator =
  (maxPageSize: number): ComplexityEstimator =>
  ({ args, childComplexity, field }) => {
    const isConnection = field.args.some((argument) => argument.name === 'first');
    const items =
      typeof args.first === 'number'
        ? args.first
        : typeof args.last === 'number'
          ? args.last
          : Array.isArray(args.ids)
            ? args.ids.length
            : isConnection
              ? Math.min(DEFAULT_PAGE_SIZE, maxPageSize)
              : 1;
    return 1 + items * childComplexity;
  };

/**
 * Whether an operation's cost can depend on its variables: only an Int (a page size) or a list (of
 * IDs) can change it. Input objects cannot — no page size is read from inside one.
 */
function costDependsOnVariables(operation: OperationDefinitionNode): boolean {
  return (operation.variableDefinitions ?? []).some((definition) => {
    const type = definition.type.kind === Kind.NON_NULL_TYPE ? definition.type.type : definition.type;
    return type.kind === Kind.LIST_TYPE || type.name.value === 'Int';
  });
}

function tooCostly(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COSTLY', ...extensions, http: { status: 400 } } });
}

/**
 * The estimated cost of one operation, or `undefined` when its variables do not fit their types
 * (execution then refuses the operation, naming the variable, before any resolver runs: the same
 * `getVariableValues` decides both). Any other failure to estimate — the node cap reached by nested
 * fragment spreads, an estimator fault — is a refusal: a limit that cannot be evaluated fails closed.
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
  settings: Settings,
  estimator: ComplexityEstimator = pagedListEstimator(settings.maxPageSize),
): number | undefined {
  const operation = getOperationAST(document, operationName);
  if (operation) {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 });
    if (coerced.errors) return undefined;
  }
  try {
    return getComplexity({
      schema,
      query: document,
      operationName,
      variables,
      estimators: [estimator],
      maxQueryNodes: settings.limits.maxCostNodes,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // The estimate coerces arguments as execution would: a value that does not fit its argument is
    // refused here already, as the client error execution would have raised.
    const argument = error instanceof GraphQLError ? coercionFailedArgument(error.message) : undefined;
    if (argument) {
      throw new GraphQLError(reason, {
        extensions: { code: 'BAD_USER_INPUT', field: argument, http: { status: 400 } },
      });
    }
    throw tooCostly(`the cost of the query could not be estimated (${reason}); it is refused: simplify it`, {
      maxCost: settings.limits.maxCost,
      maxCostNodes: settings.limits.maxCostNodes,
    });
  }
}

export function refuseOverBudget(cost: number, maxCost: number, what = 'the query'): GraphQLError {
  return tooCostly(
    `${what} would cost ${cost}, more than the limit of ${maxCost}: ask for smaller pages or fewer nested lists`,
    { cost, maxCost },
  );
}

/**
 * The estimates the batch budget made, by the operation's piece of the request body: Apollo hands
 * each operation of a batch its piece as `request.http.body`, so that the per-operation limit reads
 * the estimate instead of making it again (null: the piece's variables did not fit, no estimate).
 */
type BatchEstimates = WeakMap<object, number | null>;

/** Refuses, before execution, documents whose estimated cost exceeds the limit. */
function costLimit(
  settings: Settings,
  schemaReady: (schema: GraphQLSchema) => void,
  batchEstimates: BatchEstimates,
): ApolloServerPlugin {
  const estimator = pagedListEstimator(settings.maxPageSize);
  // Apollo reuses the parsed document of a repeated query string: a cost that does not depend on
  // the variables is computed once per document and operation, not once per request.
  const fixedCosts = new WeakMap<DocumentNode, Map<string, number>>();
  return {
    async serverWillStart({ schema }) {
      schemaReady(schema);
    },
    async requestDidStart() {
      // This operation's estimate, reported in `extensions.cost` beside the budget the rate limiter
      // left on the context (the same figures as the RateLimit headers: nothing is counted twice).
      let requested: number | null = null;
      return {
        async willSendResponse({ response, contextValue }) {
          const budget = (contextValue as { rateLimit?: { limit: number; remaining: number; resetAt: Date } })
            .rateLimit;
          // Only requests the limiter counted (over HTTP) have a budget to report.
          if (response.body.kind !== 'single' || !budget) return;
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            cost: {
              requested,
              maxCost: settings.limits.maxCost,
              limit: budget.limit,
              remaining: budget.remaining,
              resetAt: budget.resetAt.toISOString(),
            },
          };
        },
        async didResolveOperation({ request, document, schema, operation }) {
          const piece = request.http?.body;
          const estimated = piece !== null && typeof piece === 'object' ? batchEstimates.get(piece) : undefined;
          if (estimated === null) return;
          const operationKey = request.operationName ?? '';
          const fixed = operation !== undefined && !costDependsOnVariables(operation);
          let cost = estimated ?? (fixed ? fixedCosts.get(document)?.get(operationKey) : undefined);
          if (cost === undefined) {
            cost = estimateCost(
              schema,
              document,
              request.operationName ?? undefined,
              request.variables ?? {},
              settings,
              estimator,
            );
            if (cost === undefined) return;
            if (fixed) {
              const costs = fixedCosts.get(document) ?? new Map<string, number>();
              costs.set(operationKey, cost);
              fixedCosts.set(document, costs);
            }
          }
          requested = cost;
          if (cost > settings.limits.maxCost) throw refuseOverBudget(cost, settings.limits.maxCost);
        },
      };
    },
  };
}

/**
 * One budget for all the operations of a batched request: their estimates are added up before any
 * of them runs, and a batch over the limit is refused whole (otherwise a batch of ten would get ten
 * budgets). An operation that does not parse is left to Apollo, which refuses it without running it.
 */
function batchCostLimit(
  settings: Settings,
  schemaOf: () => GraphQLSchema | undefined,
  batchEstimates: BatchEstimates,
): RequestHandler {
  const estimator = pagedListEstimator(settings.maxPageSize);
  return (request, response, next) => {
    const schema = schemaOf();
    if (!Array.isArray(request.body) || request.body.length < 2 || !schema) {
      next();
      return;
    }
    let total = 0;
    try {
      for (const piece of request.body as unknown[]) {
        const { query, operationName, variables } = (piece ?? {}) as Record<string, unknown>;
        if (typeof query !== 'string') continue;
        let document: DocumentNode;
        try {
          document = parse(query, { maxTokens: settings.limits.maxTokens });
        } catch {
          continue;
        }
        const cost = estimateCost(
          schema,
          document,
          typeof operationName === 'string' ? operationName : undefined,
          variables !== null && typeof variables === 'object' ? (variables as Record<string, unknown>) : {},
          settings,
          estimator,
        );
        total += cost ?? 0;
        batchEstimates.set(piece as object, cost ?? null);
      }
      if (total > settings.limits.maxCost) {
        throw refuseOverBudget(
          total,
          settings.limits.maxCost,
          `the ${request.body.length} operations of the batch together`,
        );
      }
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const { http: _http, ...extensions } = error.extensions;
      response.status(400).json({ errors: [{ message: error.message, extensions }] });
      return;
    }
    next();
  };
}

/** Depth, aliases and directives through graphql-armor; cost through our estimator. */
export type QueryLimitHooks = ReturnType<typeof queryLimits>;

export function queryLimits(settings: Settings) {
  const { limits } = settings;
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    // Tokens are counted by graphql-js's parser (Apollo's parseOptions): graphql-armor's token plugin
    // parses in an Apollo hook whose errors (syntax errors too) become HTTP 500.
    maxTokens: { enabled: false },
    // graphql-armor's own cost limit ignores page sizes; ours multiplies by them.
    costLimit: { enabled: false },
    // "Did you mean …" would describe the schema to a caller that may not introspect it.
    blockFieldSuggestion: { enabled: settings.production },
  }).protect();
  let schema: GraphQLSchema | undefined;
  const batchEstimates: BatchEstimates = new WeakMap();
  return {
    plugins: [...armor.plugins, costLimit(settings, (started) => (schema = started), batchEstimates)],
    validationRules: armor.validationRules,
    /** Express middleware for the GraphQL route, after the body is parsed: one budget per batch. */
    batchBudget: batchCostLimit(settings, () => schema, batchEstimates),
  };
}
