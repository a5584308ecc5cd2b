import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderInputType, SortDirection, SortSpec } from '../common/connection';
import { ActivationAttempt, DecisionOutcome } from './activation-attempt.entity';

export const ActivationAttemptConnection = ConnectionType(
  ActivationAttempt,
  'ActivationAttempt',
  'A page of activation attempts.',
);

export enum ActivationAttemptOrderField {
  OCCURRED_AT = 'OCCURRED_AT',
  RECEIVED_AT = 'RECEIVED_AT',
}
registerEnumType(ActivationAttemptOrderField, {
  name: 'ActivationAttemptOrderField',
  description: 'Fields activation attempts can be ordered by.',
});

export const ActivationAttemptOrder = OrderInputType<ActivationAttemptOrderField>(
  ActivationAttemptOrderField,
  'ActivationAttempt',
  ActivationAttemptOrderField.OCCURRED_AT,
  SortDirection.DESC,
);
export type ActivationAttemptOrder = InstanceType<typeof ActivationAttemptOrder>;

export function attemptSort(order?: ActivationAttemptOrder | null): SortSpec<ActivationAttempt> {
  const direction = order?.direction ?? SortDirection.DESC;
  return order?.field === ActivationAttemptOrderField.RECEIVED_AT
    ? { property: 'receivedAt', direction, valueOf: (attempt) => attempt.receivedAt }
    : { property: 'occurredAt', direction, valueOf: (attempt) => attempt.occurredAt };
}

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
  deviceIds?: number[];
  regionIds?: number[];
  outcomes?: DecisionOutcome[];
  occurredFrom?: Date;
  occurredBefore?: Date;
}
