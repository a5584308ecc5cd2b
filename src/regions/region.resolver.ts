import { asOfCopy } from '../policies/policy-history';
import { access } from '../auth/roles';
import { Arg, Args, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { paginateArray } from '../common/connection';
import { ConnectionArgs } from '../common/connection-args';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Region } from './region.entity';
import { queryRegions } from './region.service';
import { RegionConnection, RegionFilter, RegionOrder, regionSort } from './region.types';

@Resolver(() => Region)
export class RegionResolver {
  @Authorized(access.readReferenceData)
  @Query(() => RegionConnection, { description: 'Countries and subdivisions, filtered and paged.' })
  regions(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => RegionFilter, { nullable: true, description: 'Conditions the regions must meet.' })
    filter: RegionFilter | null,
    @Arg('orderBy', () => RegionOrder, { nullable: true, description: 'Order of the list; by code by default.' })
    orderBy: RegionOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    return paginateQuery(queryRegions(context.dataSource, filter), regionSort(orderBy), context.pageWindow(page));
  }

  @Authorized(access.readReferenceData)
  @Query(() => Region, { nullable: true, description: 'The region with this ISO code, e.g. `CU` or `UA-43`.' })
  async region(
    @Arg('code', { description: 'ISO 3166-1 alpha-2 or ISO 3166-2 code.' }) code: string,
    @Arg('asOf', () => Date, {
      nullable: true,
      description: "An instant: the region's `policies` are then the versions in force at that instant.",
    })
    asOf: Date | null,
    @Ctx() context: GraphQLContext,
  ) {
    const region = await context.loaders.regionByCode.load(code.trim().toUpperCase());
    return region && asOf ? asOfCopy(region, asOf) : region;
  }

  @FieldResolver(() => Region, {
    nullable: true,
    description: 'The country a subdivision belongs to; null for a country.',
  })
  parent(@Root() region: Region, @Ctx() context: GraphQLContext) {
    return region.parentId === null ? null : context.loaders.regionById.load(region.parentId);
  }

  @FieldResolver(() => RegionConnection, { description: 'Subdivisions of this region that the service knows.' })
  async children(
    @Root() region: Region,
    @Args() page: ConnectionArgs,
    @Arg('orderBy', () => RegionOrder, { nullable: true, description: 'Order of the list; by code by default.' })
    orderBy: RegionOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    return paginateArray(await context.loaders.regionChildren.load(region.id), regionSort(orderBy), window);
  }
}
