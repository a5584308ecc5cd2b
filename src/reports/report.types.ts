import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DecisionOutcome } from '../activations/activation-attempt.entity';
import { PolicyAction, PolicyMode } from '../policies/policy-version.entity';
import { StatsInterval } from './time-buckets';

export { StatsInterval };

export enum StatsGroupBy {
  REGION = 'REGION',
  COUNTRY = 'COUNTRY',
  OUTCOME = 'OUTCOME',
  MODEL = 'MODEL',
  PARTNER = 'PARTNER',
  POLICY = 'POLICY',
  REASON_FAMILY = 'REASON_FAMILY',
}
registerEnumType(StatsGroupBy, {
  name: 'StatsGroupBy',
  description: 'What the rows of an activation report are broken down by.',
  valuesConfig: {
    REGION: { description: 'The most specific region resolved (UA-43, not UA).' },
    COUNTRY: { description: 'The country of the region resolved (UA for UA-43).' },
    OUTCOME: { description: "The decision's outcome." },
    MODEL: { description: "The device's model." },
    PARTNER: { description: 'The partner that distributed the device.' },
    POLICY: {
      description:
        'The policy whose version decided; none for attempts no policy decided, including attempts refused because the device was locked already (`DEVICE_ALREADY_LOCKED`).',
    },
    REASON_FAMILY: {
      description:
        'The evidence the decision did not take at face value (ReasonFamily); attempts with none are in the row with a null reasonFamily.',
    },
  },
});

/**
 * Families of reason codes about doubtful evidence. An attempt is in at most one: a mocked, stale or
 * impossible fix is not usable, and only a usable fix can disagree with the serving cell.
 */
export enum ReasonFamily {
  GPS_MOCKED = 'GPS_MOCKED',
  GPS_STALE = 'GPS_STALE',
  IMPOSSIBLE_TRAVEL = 'IMPOSSIBLE_TRAVEL',
  CELL_DISAGREES = 'CELL_DISAGREES',
}
registerEnumType(ReasonFamily, {
  name: 'ReasonFamily',
  description: 'A family of reason codes about evidence the decision did not take at face value.',
  valuesConfig: {
    GPS_MOCKED: { description: 'The fix came from a mock location provider (reason code GPS_MOCKED).' },
    GPS_STALE: { description: 'The fix was taken too long before the attempt (GPS_STALE).' },
    IMPOSSIBLE_TRAVEL: { description: "The fix was too far from the device's neighbouring fix (IMPOSSIBLE_TRAVEL)." },
    CELL_DISAGREES: {
      description: 'The fix and the serving cell disagreed about a restricted region (CELL_DISAGREES).',
    },
  },
});

@InputType({ description: 'Which attempts a report counts; all given conditions must hold.' })
export class ActivationStatsFilter {
  @Field({ description: 'Attempts that occurred at or after this instant.' })
  from: Date;

  @Field({ description: 'Attempts that occurred before this instant.' })
  to: Date;

  @Field(() => [String], {
    nullable: true,
    description: 'Only attempts resolved to these regions or their subdivisions (ISO codes).',
  })
  regionCodes?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description:
      "Leaves out, of the regions regionCodes names, these regions and their subdivisions (ISO codes): `UA` without `UA-43` and `UA-40` is Ukraine without Crimea and Sevastopol, as the console's map draws them. Only with regionCodes.",
  })
  excludeRegionCodes?: string[] | null;

  @Field(() => [DecisionOutcome], { nullable: true, description: 'Only attempts with these outcomes.' })
  outcomes?: DecisionOutcome[] | null;

  @Field(() => [String], { nullable: true, description: 'Only devices of these models (codes).' })
  modelCodes?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'Only devices of this partner (global ID).' })
  partnerId?: string | null;

  @Field(() => [ReasonFamily], {
    nullable: true,
    description: 'Only attempts whose reason codes are of one of these families (faked or weak evidence).',
  })
  reasonFamilies?: ReasonFamily[] | null;
}

@ObjectType({ description: 'The counts of a report row.' })
export class ActivationCounts {
  @Field(() => Int, { description: 'Activation attempts.' })
  attempts: number;

  @Field(() => Int, { description: 'Distinct devices among them.' })
  devices: number;

  @Field(() => Int, { description: 'Attempts locked by an enforced policy.' })
  locks: number;

  @Field(() => Int, { description: 'Attempts sent to review by an enforced policy.' })
  reviews: number;

  @Field(() => Int, { description: 'Attempts a MONITOR-mode policy would have locked (not locked).' })
  monitorWouldLocks: number;
}

@ObjectType({
  description: 'One row of an activation report: its group and its counts. Unrequested groupings are null.',
})
export class ActivationStatsRow extends ActivationCounts {
  @Field(() => Date, {
    nullable: true,
    description: 'Start of the time bucket (midnight etc. in the report time zone), as an instant.',
  })
  bucketStart: Date | null;

  regionId: number | null;
  countryId: number | null;
  modelId: number | null;
  partnerId: number | null;
  policyId: number | null;

  @Field(() => DecisionOutcome, { nullable: true, description: 'The outcome, when grouped by OUTCOME.' })
  outcome: DecisionOutcome | null;

  @Field(() => ReasonFamily, {
    nullable: true,
    description: 'The reason-code family, when grouped by REASON_FAMILY; null for attempts of none.',
  })
  reasonFamily: ReasonFamily | null;
}

@ObjectType({ description: 'An activation report: its rows, and the counts over all of them.' })
export class ActivationStats {
  @Field(() => [ActivationStatsRow], {
    description:
      'The rows, ordered by bucket and then by the groupings. A report is one answer, not a paged list: at most MAX_REPORT_ROWS rows; narrow the filter or coarsen the grouping beyond that.',
  })
  rows: ActivationStatsRow[];

  @Field(() => ActivationCounts, {
    description: 'The counts over all the attempts the filter selects (devices counted once).',
  })
  totals: ActivationCounts;

  @Field({ description: 'The IANA time zone of the buckets.' })
  timeZone: string;
}

@ObjectType({ description: 'What one version of a policy decided since it became effective, by outcome and region.' })
export class PolicyImpactRow {
  policyVersionId: number;
  regionId: number | null;

  @Field(() => DecisionOutcome, {
    description: 'The outcome the version decided (the would-be outcome when not enforced).',
  })
  outcome: DecisionOutcome;

  @Field({ description: 'Whether the outcome was enforced (false: MONITOR mode).' })
  enforced: boolean;

  @Field({
    description:
      'Indicates attempts of devices this version had locked before, refused as locked already (`DEVICE_ALREADY_LOCKED`): the version did not decide them where they happened. False: what the version decided at the attempt.',
  })
  alreadyLocked: boolean;

  @Field(() => Int, { description: 'Activation attempts in this line.' })
  attempts: number;

  @Field(() => Int, { description: 'Distinct devices among those attempts.' })
  devices: number;
}

@InputType({
  description:
    'A policy as the simulation should see it: a new draft (with `policyKey` unknown or omitted), or changes to an existing policy (fields left out keep the values of its latest version).',
})
export class SimulatedPolicyInput {
  @Field(() => String, { nullable: true, description: 'The policy to change; omitted or unknown for a new policy.' })
  policyKey?: string | null;

  @Field(() => PolicyAction, { nullable: true, description: 'LOCK or REVIEW.' })
  action?: PolicyAction | null;

  @Field(() => PolicyMode, { nullable: true, description: 'ENFORCE or MONITOR.' })
  mode?: PolicyMode | null;

  @Field(() => Int, { nullable: true, description: 'Priority; higher wins.' })
  priority?: number | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Regions covered (ISO codes); a country covers its subdivisions.',
  })
  regionCodes?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Device model codes in scope; empty for all models.' })
  productScope?: string[] | null;

  @Field(() => Date, { nullable: true, description: 'When the policy takes effect.' })
  effectiveFrom?: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "When it stops: null for open-ended; omitted, as the changed policy's version in force says (never, for a new policy).",
  })
  effectiveUntil?: Date | null;
}

@InputType({ description: 'A what-if: the recorded attempts of a window replayed with a policy changed or added.' })
export class SimulatePolicyInput {
  @Field(() => SimulatedPolicyInput, { description: 'The policy to put in place.' })
  policy: SimulatedPolicyInput;

  @Field({ description: 'Replay attempts that occurred at or after this instant.' })
  from: Date;

  @Field({ description: 'Replay attempts that occurred before this instant.' })
  to: Date;
}

@ObjectType({ description: 'How many attempts and devices would move from one effective outcome to another.' })
export class OutcomeTransition {
  @Field(() => DecisionOutcome, {
    description: 'The effective outcome under the rules in force (a MONITOR-mode LOCK counts as ALLOW).',
  })
  from: DecisionOutcome;

  @Field(() => DecisionOutcome, { description: 'The effective outcome with the simulated policy.' })
  to: DecisionOutcome;

  @Field(() => Int, { description: 'Attempts whose effective outcome would move from `from` to `to`.' })
  attempts: number;

  @Field(() => Int, { description: 'Distinct devices among those attempts.' })
  devices: number;
}

@ObjectType({ description: 'Changed outcomes in one region.' })
export class RegionTransition extends OutcomeTransition {
  regionCode: string | null;
}

@ObjectType({ description: 'The result of simulatePolicy. Nothing was written.' })
export class PolicySimulation {
  @Field(() => Int, { description: 'Attempts replayed.' })
  attempts: number;

  @Field(() => Int, {
    description: 'Attempts of the window that could not be replayed: their raw signals were purged.',
  })
  skippedAttempts: number;

  @Field(() => Int, { description: 'Attempts whose effective outcome would change.' })
  changedAttempts: number;

  @Field(() => Int, { description: 'Distinct devices with at least one changed attempt.' })
  changedDevices: number;

  @Field(() => [OutcomeTransition], { description: 'The changes, by from and to outcome.' })
  transitions: OutcomeTransition[];

  @Field(() => [RegionTransition], { description: 'The changes by region, from and to outcome.' })
  byRegion: RegionTransition[];

  /** The changed devices' lowest ids, at most 20, whatever order the window was read in. */
  sampleDeviceIds: number[];
}
