import { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, FieldResolver, Info, Query, Resolver, Root } from 'type-graphql';
import { isSelected } from '../common/selection';
import { access } from '../auth/roles';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import { activationStats, policyImpact } from './report.service';
import {
  ActivationStats,
  ActivationStatsFilter,
  ActivationStatsRow,
  PolicyImpactRow,
  PolicySimulation,
  RegionTransition,
  SimulatePolicyInput,
  StatsGroupBy,
  StatsInterval,
} from './report.types';
import { simulatePolicy } from './simulation.service';
import { loadGroups, ReportGroupsResolver } from './report-groups.resolver';

@Resolver(() => ActivationStatsRow)
export class ActivationStatsResolver extends ReportGroupsResolver(
  ActivationStatsRow,
  'The deciding policy, when grouped by POLICY (null: none applied).',
) {
  @Authorized(access.readReports)
  @Query(() => ActivationStats, {
    description:
      'Activation attempts counted by the chosen groupings and time buckets: attempts, distinct devices, locks, reviews and MONITOR-mode would-locks. A partner sees its own devices only. Reports by region, country and outcome on whole hours are read from hourly counts (on whole UTC days, daily counts); distinct devices are read from daily counts for UTC days by region or country, for UTC days, weeks and months in all, and for the totals of a window of whole UTC days, otherwise they cost a pass over the attempts.',
  })
  async activationStats(
    @Arg('filter', () => ActivationStatsFilter, {
      description: 'Which attempts to count: a time window and optional conditions.',
    })
    filter: ActivationStatsFilter,
    @Arg('groupBy', () => [StatsGroupBy], { defaultValue: [], description: 'What to break the counts down by.' })
    groupBy: StatsGroupBy[],
    @Arg('interval', () => StatsInterval, { nullable: true, description: 'Time buckets; none when omitted.' })
    interval: StatsInterval | null,
    @Arg('timeZone', { defaultValue: 'UTC', description: 'IANA time zone of the buckets, e.g. `Europe/Berlin`.' })
    timeZone: string,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ) {
    // Distinct devices not asked for are not counted: some can only be counted in a pass over the attempts.
    const stats = await activationStats(context, filter, groupBy, interval, timeZone, {
      rows: isSelected(info, ['rows', 'devices']),
      totals: isSelected(info, ['totals', 'devices']),
    });
    await loadGroups(context, stats.rows, (field) => isSelected(info, ['rows', field]));
    return stats;
  }
}

@Resolver(() => PolicyImpactRow)
export class PolicyImpactResolver {
  @Authorized(access.readReports)
  @Query(() => [PolicyImpactRow], {
    description:
      'What each version of a policy decided since it became effective: attempts and devices by outcome and region. Attempts of devices it had locked before, refused as locked already, are lines of their own (`alreadyLocked`).',
  })
  policyImpact(
    @Arg('policyKey', { description: "The policy's key." }) policyKey: string,
    @Arg('to', () => Date, {
      nullable: true,
      description: 'Count attempts before this instant only; up to now when omitted.',
    })
    to: Date | null,
    @Ctx() context: GraphQLContext,
  ) {
    return policyImpact(context, policyKey, to);
  }

  @FieldResolver(() => PolicyVersion, { description: 'The version that decided.' })
  policyVersion(@Root() row: PolicyImpactRow, @Ctx() context: GraphQLContext) {
    return context.loaders.policyVersionById.load(row.policyVersionId);
  }

  @FieldResolver(() => Region, {
    nullable: true,
    description: 'The region the attempts were resolved to; null when no signal placed them.',
  })
  region(@Root() row: PolicyImpactRow, @Ctx() context: GraphQLContext) {
    return row.regionId === null ? null : context.loaders.regionById.load(row.regionId);
  }
}

@Resolver(() => PolicySimulation)
export class PolicySimulationResolver {
  @Authorized(access.simulatePolicies)
  @Query(() => PolicySimulation, {
    description:
      'What-if: replays the recorded attempts of a window through the decision engine with a policy changed or added, and counts whose outcome would change. Writes nothing.',
  })
  async simulatePolicy(
    @Arg('input', () => SimulatePolicyInput, { description: 'The policy and the window.' }) input: SimulatePolicyInput,
    @Ctx() context: GraphQLContext,
  ) {
    return simulatePolicy(context, await context.services.evaluator.current(), input, {
      onProgress: (done, expected) => context.observation?.log.info({ done, expected }, 'simulatePolicy in progress'),
    });
  }

  @FieldResolver(() => [Device], {
    description:
      'Up to 20 devices whose outcome would change: those with the lowest ids, the same however the window was read.',
  })
  async sampleDevices(@Root() simulation: PolicySimulation, @Ctx() context: GraphQLContext) {
    const devices = await context.loaders.deviceById.loadMany(simulation.sampleDeviceIds);
    return devices.filter((device): device is Device => device instanceof Device);
  }
}

@Resolver(() => RegionTransition)
export class RegionTransitionResolver {
  @FieldResolver(() => Region, {
    nullable: true,
    description: 'The region resolved with the simulated policy (null: none).',
  })
  region(@Root() transition: RegionTransition, @Ctx() context: GraphQLContext) {
    return transition.regionCode === null ? null : context.loaders.regionByCode.load(transition.regionCode);
  }
}
