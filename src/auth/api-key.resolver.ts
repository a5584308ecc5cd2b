import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ConnectionArgs } from '../common/connection-args';
import { encodeGlobalId } from '../common/global-id';
import { runMutation } from '../common/mutation';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Partner } from '../partners/partner.entity';
import { ApiKey } from './api-key.entity';
import { createApiKey, queryApiKeys, revokeApiKey } from './api-key.service';
import {
  ApiKeyConnection,
  ApiKeyFilter,
  ApiKeyOrder,
  CreateApiKeyInput,
  CreateApiKeyPayload,
  RevokeApiKeyInput,
  RevokeApiKeyPayload,
  ViewerType,
  apiKeySort,
} from './api-key.types';
import { access, anyRole } from './roles';

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Authorized(anyRole)
  @Query(() => ViewerType, { description: 'Who the caller is: its key, role and partner.' })
  async viewer(@Ctx() context: GraphQLContext): Promise<ViewerType> {
    const viewer = context.viewer!;
    return {
      apiKey: viewer.keyId === null ? null : await context.loaders.apiKeyById.load(viewer.keyId),
      name: viewer.name,
      role: viewer.role,
      partnerId: viewer.partnerId === null ? null : encodeGlobalId('Partner', viewer.partnerId),
    };
  }

  @Authorized(access.manageApiKeys)
  @Query(() => ApiKeyConnection, { description: 'API keys, newest first by default.' })
  apiKeys(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ApiKeyFilter, { nullable: true, description: 'Conditions the keys must meet.' })
    filter: ApiKeyFilter | null,
    @Arg('orderBy', () => ApiKeyOrder, { nullable: true, description: 'Order of the list; newest first by default.' })
    orderBy: ApiKeyOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    return paginateQuery(queryApiKeys(context.dataSource, filter), apiKeySort(orderBy), context.pageWindow(page));
  }

  @FieldResolver(() => Partner, {
    nullable: true,
    description: 'The partner a PARTNER key acts for; null for the other roles.',
  })
  partner(@Root() apiKey: ApiKey, @Ctx() context: GraphQLContext) {
    return apiKey.partnerId === null ? null : context.loaders.partnerById.load(apiKey.partnerId);
  }

  @Authorized(access.manageApiKeys)
  @Mutation(() => CreateApiKeyPayload, { description: 'Creates an API key and returns its secret, this once.' })
  async createApiKey(
    @Arg('input', () => CreateApiKeyInput, { description: 'The new key.' }) input: CreateApiKeyInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreateApiKeyPayload> {
    const { result, userErrors } = await runMutation(context, input, (manager) =>
      createApiKey(manager, context, input),
    );
    return { apiKey: result?.apiKey ?? null, secret: result?.secret ?? null, userErrors };
  }

  @Authorized(access.manageApiKeys)
  @Mutation(() => RevokeApiKeyPayload, { description: 'Revokes an API key: it is refused from then on.' })
  async revokeApiKey(
    @Arg('input', () => RevokeApiKeyInput, { description: 'The key to revoke.' }) input: RevokeApiKeyInput,
    @Ctx() context: GraphQLContext,
  ) {
    const outcome = await runMutation(context, input, (manager) => revokeApiKey(manager, context, input));
    if (outcome.result) context.services.authenticator.forget(outcome.result.secretHash);
    return outcome;
  }
}
