import { Field, ID, InputType } from 'type-graphql';
import { ConnectionType, SortDirection, defineOrder } from '../common/connection';
import { ActivationAttempt, DecisionOutcome } from './activation-attempt.entity';

export const ActivationAttemptConnection = ConnectionType(
  ActivationAttempt,
  'ActivationAttempt',
  'A page of activation attempts.',
);

export const attemptOrder = defineOrder<ActivationAttempt, 'OCCURRED_AT' | 'RECEIVED_AT'>(
  'ActivationAttempt',
  'activation attempts',
  {
    OCCURRED_AT: {
      property: 'occurredAt',
      description: 'When the activation happened, as the gateway reported it.',
      valueOf: (attempt) => attempt.occurredAt,
    },
    RECEIVED_AT: {
      property: 'receivedAt',
      description: 'When the service received the attempt (later than occurredAt for a delayed report).',
      valueOf: (attempt) => attempt.receivedAt,
    },
  },
  'OCCURRED_AT',
  SortDirection.DESC,
);
export const ActivationAttemptOrder = attemptOrder.OrderInput;
export type ActivationAttemptOrder = InstanceType<typeof ActivationAttemptOrder>;
export const attemptSort = attemptOrder.sortOf;

@InputType({ description: "Narrows a device's activation attempts." })
export class DeviceActivationAttemptFilter {
  @Field(() => [DecisionOutcome], { nullable: true, description: 'Only attempts with one of these outcomes.' })
  outcomes?: DecisionOutcome[] | null;

  @Field(() => Date, { nullable: true, description: 'Only attempts that occurred at or after this instant.' })
  occurredFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only attempts that occurred before this instant.' })
  occurredBefore?: Date | null;
}

@InputType({ description: 'Narrows a list of activation attempts; all given conditions must hold.' })
export class ActivationAttemptFilter extends DeviceActivationAttemptFilter {
  @Field(() => [ID], { nullable: true, description: 'Only attempts of these devices (global IDs).' })
  deviceIds?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Only attempts resolved to these regions or any of their subdivisions (ISO codes).',
  })
  regionCodes?: string[] | null;
}

export interface ResolvedAttemptFilter {
  /** A PARTNER caller's own partner: only attempts of its devices. Set from the caller, never the request. */
  partnerScope?: number;
  deviceIds?: number[];
  regionIds?: number[];
  outcomes?: DecisionOutcome[];
  occurredFrom?: Date;
  occurredBefore?: Date;
}
