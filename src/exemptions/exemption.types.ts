import { Field, ID, InputType } from 'type-graphql';
import { TextLength } from '../common/text-length';
import { MutationPayload } from '../common/payload';
import { ConnectionType, SortDirection, defineOrder } from '../common/connection';
import { Exemption } from './exemption.entity';

export const ExemptionConnection = ConnectionType(Exemption, 'Exemption', 'A page of exemptions.');

const exemptionOrder = defineOrder<Exemption, 'CREATED_AT'>(
  'Exemption',
  'exemptions',
  {
    CREATED_AT: {
      property: 'createdAt',
      description: 'When the exemption was granted.',
      valueOf: (exemption) => exemption.createdAt,
    },
  },
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

@InputType({ description: 'Exempts one device, or every device of one partner, from a policy.' })
export class CreateExemptionInput {
  @Field({ description: 'Key of the policy.' })
  policyKey: string;

  @Field(() => ID, { nullable: true, description: 'Global ID of the exempt device (or give partnerId).' })
  deviceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Global ID of the exempt partner (or give deviceId).' })
  partnerId?: string | null;

  @TextLength(1, 1000, 'reason must be 1 to 1000 characters')
  @Field({ description: 'Why (kept with the exemption and in the audit trail).' })
  reason: string;

  @Field(() => Date, { nullable: true, description: 'Timestamp when the exemption ends; null means until revoked.' })
  expiresAt?: Date | null;
}

@InputType({ description: 'The exemption to revoke.' })
export class RevokeExemptionInput {
  @Field(() => ID, { description: 'Global ID of the exemption.' })
  id: string;

  @TextLength(1, 1000, 'reason must be 1 to 1000 characters')
  @Field({ description: 'Why it is revoked (kept in the audit trail).' })
  reason: string;
}

export const CreateExemptionPayload = MutationPayload(Exemption, 'exemption', 'createExemption');
export const RevokeExemptionPayload = MutationPayload(Exemption, 'exemption', 'revokeExemption');
