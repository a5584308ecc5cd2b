import { ClassType, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { GraphQLContext } from '../context';
import { DeviceModel } from '../device-models/device-model.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { Region } from '../regions/region.entity';

/** A report row's groupings as IDs: null when not grouped by it (or none, e.g. no region resolved). */
export interface GroupedRow {
  regionId: number | null;
  countryId: number | null;
  modelId: number | null;
  partnerId: number | null;
  policyId: number | null;
}

/**
 * The grouping fields every report row has (region, country, model, partner, policy), resolved
 * through the request's loaders. A report's resolver extends this for its row type; `policy` says
 * which policy its rows mean.
 */
export function ReportGroupsResolver(rowType: ClassType<GroupedRow>, policy: string) {
  @Resolver(() => rowType)
  abstract class ReportGroups {
    @FieldResolver(() => Region, {
      nullable: true,
      description: 'The region, when grouped by REGION (null: none resolved).',
    })
    region(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.regionId === null ? null : context.loaders.regionById.load(row.regionId);
    }

    @FieldResolver(() => Region, { nullable: true, description: 'The country, when grouped by COUNTRY.' })
    country(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.countryId === null ? null : context.loaders.regionById.load(row.countryId);
    }

    @FieldResolver(() => DeviceModel, { nullable: true, description: 'The device model, when grouped by MODEL.' })
    model(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.modelId === null ? null : context.loaders.deviceModelById.load(row.modelId);
    }

    @FieldResolver(() => Partner, { nullable: true, description: 'The partner, when grouped by PARTNER.' })
    partner(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.partnerId === null ? null : context.loaders.partnerById.load(row.partnerId);
    }

    @FieldResolver(() => Policy, { nullable: true, description: policy })
    policy(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.policyId === null ? null : context.loaders.policyById.load(row.policyId);
    }
  }
  return ReportGroups;
}
