import { Arg, Authorized, Ctx, Info, Mutation, Resolver } from 'type-graphql';
import { GraphQLResolveInfo } from 'graphql';
import { access } from '../auth/roles';
import { runMutation } from '../common/mutation';
import { queryLimits } from '../common/query-limits';
import { GraphQLContext } from '../context';
import { registerPersistedOperations } from './persisted-operation.service';
import { RegisterPersistedOperationsInput, RegisterPersistedOperationsPayload } from './persisted-operation.types';

@Resolver()
export class PersistedOperationResolver {
  @Authorized(access.registerPersistedOperations)
  @Mutation(() => RegisterPersistedOperationsPayload, {
    description:
      'Registers a client build manifest of operations, all or nothing, so that clients send them by hash (`extensions.persistedQuery.sha256Hash` or `documentId`); keys with `registeredOperationsOnly` may run nothing else.',
  })
  async registerPersistedOperations(
    @Arg('input', () => RegisterPersistedOperationsInput, { description: 'The manifest.' })
    input: RegisterPersistedOperationsInput,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<RegisterPersistedOperationsPayload> {
    // The same limits (depth, aliases, directives, tokens) a request meets, checked once at registration.
    const rules = queryLimits(context.settings).validationRules;
    const { result, userErrors } = await runMutation(context, input, (manager) =>
      registerPersistedOperations(manager, context, input, info.schema, rules),
    );
    return {
      registeredCount: result?.registeredCount ?? null,
      alreadyRegisteredCount: result?.alreadyRegisteredCount ?? null,
      userErrors,
    };
  }
}
