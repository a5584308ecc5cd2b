import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderInputType, SortDirection, SortSpec } from '../common/connection';
import { Exemption } from './exemption.entity';

export const ExemptionConnection = ConnectionType(Exemption, 'Exemption', 'A page of exemptions.');

export enum ExemptionOrderField {
  CREATED_AT = 'CREATED_AT',
}
registerEnumType(ExemptionOrderField, {
  name: 'ExemptionOrderField',
  description: 'Fields exemptions can be ordered by.',
});

export const ExemptionOrder = OrderInputType<ExemptionOrderField>(
  ExemptionOrderField,
  'Exemption',
  ExemptionOrderField.CREATED_AT,
  SortDirection.DESC,
);
export type ExemptionOrder = InstanceType<typeof ExemptionOrder>;

/** Newest first by default. */
export function exemptionSort(order?: ExemptionOrder | null): SortSpec<Exemption> {
  return {
    property: 'createdAt',
    direction: order?.direction ?? SortDirection.DESC,
    valueOf: (exemption) => exemption.createdAt,
  };
}

@InputType({ description: 'Narrows a list of exemptions.' })
export class ExemptionFilter {
  @Field(() => String, { nullable: true, description: 'Only exemptions from the policy with this key.' })
  policyKey?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only exemptions of this device (global ID).' })
  deviceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only exemptions of this partner (global ID).' })
  partnerId?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Indicates that only exemptions in force now (not revoked, not expired) are listed.',
  })
  activeOnly?: boolean | null;
}
