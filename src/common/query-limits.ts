import { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { DocumentNode, GraphQLError, Kind, OperationDefinitionNode } from 'graphql';
import { ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { Settings } from '../config';
import { DEFAULT_PAGE_SIZE } from './connection';

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

/** Refuses, before execution, documents whose estimated cost exceeds the limit. */
function costLimit(settings: Settings): ApolloServerPlugin {
  const estimator = pagedListEstimator(settings.maxPageSize);
  // Apollo reuses the parsed document of a repeated query string: a cost that does not depend on
  // the variables is computed once per document and operation, not once per request.
  const fixedCosts = new WeakMap<DocumentNode, Map<string, number>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation }) {
          const operationKey = request.operationName ?? '';
          const fixed = operation !== undefined && !costDependsOnVariables(operation);
          let cost = fixed ? fixedCosts.get(document)?.get(operationKey) : undefined;
          if (cost === undefined) {
            try {
              cost = getComplexity({
                schema,
                query: document,
                operationName: request.operationName ?? undefined,
                variables: request.variables ?? {},
                estimators: [estimator],
              });
            } catch {
              // Variables that do not fit their types: execution refuses them next, naming the field.
              return;
            }
            if (fixed) {
              const costs = fixedCosts.get(document) ?? new Map<string, number>();
              costs.set(operationKey, cost);
              fixedCosts.set(document, costs);
            }
          }
          if (cost > settings.limits.maxCost) {
            throw new GraphQLError(
              `the query would cost ${cost}, more than the limit of ${settings.limits.maxCost}: ask for smaller pages or fewer nested lists`,
              {
                extensions: { code: 'QUERY_TOO_COSTLY', cost, maxCost: settings.limits.maxCost, http: { status: 400 } },
              },
            );
          }
        },
      };
    },
  };
}

/** Depth, aliases, directives and tokens through graphql-armor; cost through our estimator. */
export function queryLimits(settings: Settings) {
  const { limits } = settings;
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    maxTokens: { n: limits.maxTokens, exposeLimits: true },
    // graphql-armor's own cost limit ignores page sizes; ours multiplies by them.
    costLimit: { enabled: false },
    // "Did you mean …" would describe the schema to a caller that may not introspect it.
    blockFieldSuggestion: { enabled: settings.production },
  }).protect();
  return { plugins: [...armor.plugins, costLimit(settings)], validationRules: armor.validationRules };
}
