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
  /** The groupings loaded ahead for all rows at once (`loadGroups`), by field. */
  loaded?: LoadedGroups;
}

interface LoadedGroups {
  region?: Region;
  country?: Region;
  model?: DeviceModel;
  partner?: Partner;
  policy?: Policy;
}

/**
 * Loads the groupings a report's rows name, for the fields the request selects, through the same
 * loaders (one statement per kind, as before) before the rows are returned, and keeps them on the
 * rows. The fields then answer with a value instead of a promise per row: thousands of rows (90
 * days by region) each completed asynchronously cost GraphQL execution more than the report's SQL.
 */
export async function loadGroups<T extends GroupedRow>(
  context: GraphQLContext,
  rows: T[],
  selected: (field: keyof LoadedGroups) => boolean,
): Promise<T[]> {
  const { regionById, deviceModelById, partnerById, policyById } = context.loaders;
  const kinds = [
    ['region', 'regionId', regionById],
    ['country', 'countryId', regionById],
    ['model', 'modelId', deviceModelById],
    ['partner', 'partnerId', partnerById],
    ['policy', 'policyId', policyById],
  ] as const;
  await Promise.all(
    kinds.map(async ([field, key, loader]) => {
      if (!selected(field)) return;
      const ids = [...new Set(rows.flatMap((row) => (row[key] === null ? [] : [row[key]!])))];
      if (ids.length === 0) return;
      const found = await (loader as { loadMany(ids: number[]): Promise<unknown[]> }).loadMany(ids);
      const byId = new Map(ids.map((id, index) => [id, found[index]]));
      for (const row of rows) {
        const value = row[key] === null ? undefined : byId.get(row[key]!);
        // A missing or failed one is left to the field's own load, which reports it as before.
        if (value && !(value instanceof Error)) (row.loaded ??= {})[field] = value as never;
      }
    }),
  );
  return rows;
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
      return row.regionId === null ? null : (row.loaded?.region ?? context.loaders.regionById.load(row.regionId));
    }

    @FieldResolver(() => Region, { nullable: true, description: 'The country, when grouped by COUNTRY.' })
    country(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.countryId === null ? null : (row.loaded?.country ?? context.loaders.regionById.load(row.countryId));
    }

    @FieldResolver(() => DeviceModel, { nullable: true, description: 'The device model, when grouped by MODEL.' })
    model(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.modelId === null ? null : (row.loaded?.model ?? context.loaders.deviceModelById.load(row.modelId));
    }

    @FieldResolver(() => Partner, { nullable: true, description: 'The partner, when grouped by PARTNER.' })
    partner(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.partnerId === null ? null : (row.loaded?.partner ?? context.loaders.partnerById.load(row.partnerId));
    }

    @FieldResolver(() => Policy, { nullable: true, description: policy })
    policy(@Root() row: GroupedRow, @Ctx() context: GraphQLContext) {
      return row.policyId === null ? null : (row.loaded?.policy ?? context.loaders.policyById.load(row.policyId));
    }
  }
  return ReportGroups;
}
