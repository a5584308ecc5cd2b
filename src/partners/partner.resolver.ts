import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { ConnectionArgs } from '../common/connection-args';
import { runMutation } from '../common/mutation';
import { paginateQuery } from '../common/sql-pagination';
import { partnerScopeOf } from '../auth/viewer';
import { GraphQLContext } from '../context';
import { Partner } from './partner.entity';
import { createPartner, queryPartners, updatePartner } from './partner.service';
import {
  CreatePartnerInput,
  CreatePartnerPayload,
  PartnerConnection,
  PartnerFilter,
  PartnerOrder,
  UpdatePartnerInput,
  UpdatePartnerPayload,
  partnerSort,
} from './partner.types';

@Resolver(() => Partner)
export class PartnerResolver {
  @Authorized(access.readPartners)
  @Query(() => PartnerConnection, { description: 'Distributors and carriers, filtered and paged.' })
  partners(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => PartnerFilter, { nullable: true, description: 'Conditions the partners must meet.' })
    filter: PartnerFilter | null,
    @Arg('orderBy', () => PartnerOrder, { nullable: true, description: 'Order of the list; by name by default.' })
    orderBy: PartnerOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    return paginateQuery(
      queryPartners(context.dataSource, filter, partnerScopeOf(context.viewer)),
      partnerSort(orderBy),
      context.pageWindow(page),
    );
  }

  @Authorized(access.writePartners)
  @Mutation(() => CreatePartnerPayload, { description: 'Creates a distributor or carrier.' })
  createPartner(
    @Arg('input', () => CreatePartnerInput, { description: 'The new partner.' }) input: CreatePartnerInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => createPartner(manager, context, input));
  }

  @Authorized(access.writePartners)
  @Mutation(() => UpdatePartnerPayload, { description: "Changes a partner's name, kind or contact." })
  updatePartner(
    @Arg('input', () => UpdatePartnerInput, { description: 'The changes.' }) input: UpdatePartnerInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => updatePartner(manager, context, input));
  }
}
