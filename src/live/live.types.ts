import { ArrayMaxSize } from 'class-validator';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ActivationAttempt, DecisionOutcome } from '../activations/activation-attempt.entity';
import { Device } from '../devices/device.entity';
import { DeviceStatusChange } from '../devices/device-status-change.entity';
import { ReviewQueueCounts } from '../reports/current-state.types';

/** Longest list in a subscription filter. */
const MAX_FILTER_ITEMS = 100;

@InputType({
  description: 'Which decisions an activationDecided subscription receives; all given conditions must hold.',
})
export class ActivationDecidedFilter {
  @ArrayMaxSize(MAX_FILTER_ITEMS)
  @Field(() => [DecisionOutcome], { nullable: true, description: 'Only decisions with one of these outcomes.' })
  outcomes?: DecisionOutcome[] | null;

  @ArrayMaxSize(MAX_FILTER_ITEMS)
  @Field(() => [String], {
    nullable: true,
    description: 'Only decisions resolved to these regions or their subdivisions (ISO codes, e.g. `CU`, `UA-43`).',
  })
  regionCodes?: string[] | null;

  @Field(() => ID, {
    nullable: true,
    description:
      "Only this partner's devices (a PARTNER key receives its own devices' decisions only, whatever this says).",
  })
  partnerId?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Indicates enforced decisions only (true) or monitor-mode ones only (false); both when absent.',
  })
  enforced?: boolean | null;
}

@ObjectType({ description: 'A decision, delivered once it has been committed.' })
export class ActivationDecided {
  @Field(() => ActivationAttempt, { description: 'The attempt with its decision, as a graph node.' })
  attempt: ActivationAttempt;

  @Field({ description: 'Timestamp when the decision was committed (the delivery follows it).' })
  committedAt: Date;
}

export enum ReviewQueueChange {
  OPENED = 'OPENED',
  RESOLVED = 'RESOLVED',
}
registerEnumType(ReviewQueueChange, {
  name: 'ReviewQueueChange',
  description: 'How the review queue changed.',
  valuesConfig: {
    OPENED: { description: 'An activation was sent to review.' },
    RESOLVED: { description: 'A person resolved a review.' },
  },
});

@ObjectType({ description: 'The review queue after one review was opened or resolved.' })
export class ReviewQueueChanged {
  @Field(() => ReviewQueueChange, { description: 'Opened or resolved.' })
  change: ReviewQueueChange;

  @Field(() => ActivationAttempt, { description: 'The attempt whose review was opened or resolved.' })
  attempt: ActivationAttempt;

  @Field(() => ReviewQueueCounts, {
    description: "The queue's size and ages as read after the change (other changes may have followed it).",
  })
  queue: ReviewQueueCounts;
}

@InputType({ description: 'Which devices a deviceStatusChanged subscription follows; all given conditions must hold.' })
export class DeviceStatusChangedFilter {
  @ArrayMaxSize(MAX_FILTER_ITEMS)
  @Field(() => [ID], { nullable: true, description: 'Only these devices.' })
  deviceIds?: string[] | null;

  @Field(() => ID, {
    nullable: true,
    description: "Only this partner's devices (a PARTNER key follows its own devices only, whatever this says).",
  })
  partnerId?: string | null;
}

@ObjectType({ description: "A device's status changed (a decision, a review, an unlock, a sweep)." })
export class DeviceStatusChanged {
  @Field(() => Device, { description: 'The device as it is after the change.' })
  device: Device;

  @Field(() => DeviceStatusChange, {
    nullable: true,
    description: "The device's latest status change when it was read (null if its history was purged).",
  })
  change: DeviceStatusChange | null;
}
