import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LockCause } from '../devices/device.entity';

export enum LockedDevicesGroupBy {
  REGION = 'REGION',
  COUNTRY = 'COUNTRY',
  POLICY = 'POLICY',
  CAUSE = 'CAUSE',
  MODEL = 'MODEL',
  PARTNER = 'PARTNER',
}
registerEnumType(LockedDevicesGroupBy, {
  name: 'LockedDevicesGroupBy',
  description: 'What the rows of the locked-devices report are broken down by.',
  valuesConfig: {
    REGION: { description: 'The region the locking activation was resolved to (UA-43, not UA).' },
    COUNTRY: { description: 'The country of that region.' },
    POLICY: { description: 'The policy that locked: whose version decided, or whose sweep locked.' },
    CAUSE: { description: 'What locked: a decision, a review, a sweep.' },
    MODEL: { description: "The device's model." },
    PARTNER: { description: 'The partner that distributed the device.' },
  },
});

/** Defined with the device's column; reports group by it. */
export { LockCause };

@InputType({ description: 'Which devices a current-state report covers; all given conditions must hold.' })
export class DeviceScopeFilter {
  @Field(() => [String], {
    nullable: true,
    description: 'Only where the activation was resolved to these regions or their subdivisions (ISO codes).',
  })
  regionCodes?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description:
      "Leaves out, of the regions regionCodes names, these regions and their subdivisions (ISO codes): `UA` without `UA-43` and `UA-40` is Ukraine without Crimea and Sevastopol, as the console's map draws them. Only with regionCodes.",
  })
  excludeRegionCodes?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Only devices of these models (codes).' })
  modelCodes?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'Only devices of this partner (global ID).' })
  partnerId?: string | null;
}

@ObjectType({ description: 'Locked devices counted, with the oldest lock among them.' })
export class LockedDeviceCounts {
  @Field(() => Int, { description: 'Devices locked now.' })
  devices: number;

  @Field(() => Date, { nullable: true, description: 'When the longest-standing of these locks was made.' })
  oldestLockedAt: Date | null;
}

@ObjectType({ description: 'One row of the locked-devices report. Unrequested groupings are null.' })
export class LockedDevicesRow extends LockedDeviceCounts {
  regionId: number | null;
  countryId: number | null;
  policyId: number | null;
  modelId: number | null;
  partnerId: number | null;

  @Field(() => LockCause, { nullable: true, description: 'What locked them, when grouped by CAUSE.' })
  cause: LockCause | null;
}

@ObjectType({ description: 'The devices locked now, counted by the chosen groupings.' })
export class LockedDeviceStats {
  @Field(() => [LockedDevicesRow], { description: 'The rows, ordered by the groupings.' })
  rows: LockedDevicesRow[];

  @Field(() => LockedDeviceCounts, { description: 'Over all the rows.' })
  totals: LockedDeviceCounts;
}

export enum ReviewQueueGroupBy {
  REGION = 'REGION',
  COUNTRY = 'COUNTRY',
  POLICY = 'POLICY',
  MODEL = 'MODEL',
  PARTNER = 'PARTNER',
}
registerEnumType(ReviewQueueGroupBy, {
  name: 'ReviewQueueGroupBy',
  description: 'What the rows of the review-queue report are broken down by.',
  valuesConfig: {
    REGION: { description: 'The region the activation was resolved to.' },
    COUNTRY: { description: 'The country of that region.' },
    POLICY: { description: 'The policy that sent the activation to review.' },
    MODEL: { description: "The device's model." },
    PARTNER: { description: 'The partner that distributed the device.' },
  },
});

@ObjectType({ description: 'Open reviews counted by how long they have waited since the attempt was received.' })
export class ReviewQueueCounts {
  @Field(() => Int, { description: 'Open reviews.' })
  waiting: number;

  @Field(() => Int, { description: 'Of those, waiting more than an hour.' })
  waitingOverHour: number;

  @Field(() => Int, { description: 'Waiting more than a day.' })
  waitingOverDay: number;

  @Field(() => Int, { description: 'Waiting more than a week.' })
  waitingOverWeek: number;

  @Field(() => Date, { nullable: true, description: 'When the longest-waiting of them was received.' })
  oldestReceivedAt: Date | null;
}

@ObjectType({ description: 'One row of the review-queue report. Unrequested groupings are null.' })
export class ReviewQueueRow extends ReviewQueueCounts {
  regionId: number | null;
  countryId: number | null;
  policyId: number | null;
  modelId: number | null;
  partnerId: number | null;
}

@ObjectType({ description: 'The open review queue: its size and age, by the chosen groupings.' })
export class ReviewQueueStats {
  @Field({ description: 'The instant the ages are measured from.' })
  asOf: Date;

  @Field(() => [ReviewQueueRow], { description: 'The rows, ordered by the groupings.' })
  rows: ReviewQueueRow[];

  @Field(() => ReviewQueueCounts, { description: 'Over all the rows.' })
  totals: ReviewQueueCounts;
}
