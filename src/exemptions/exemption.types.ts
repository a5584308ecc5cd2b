import { Field, ID, InputType } from 'type-graphql';
import { ConnectionType, SortDirection, defineOrder } from '../common/connection';
import { Exemption } from './exemption.entity';

export const ExemptionConnection = ConnectionType(Exemption, 'Exemption', 'A page of exemptions.');

const exemptionOrder = defineOrder<Exemption, 'CREATED_AT'>(
  'Exemption',
  'exemptions',
  { CREATED_AT: { property: 'createdAt', valueOf: (exemption) => exemption.createdAt } },
  'CREATED_AT',
  SortDirection.DESC,
);
export const ExemptionOrder = exemptionOrder.OrderInput;
export type ExemptionOrder = InstanceType<typeof ExemptionOrder>;
export const exemptionSort = exemptionOrder.sortOf;

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
