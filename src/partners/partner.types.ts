import { IsEmail, IsOptional } from 'class-validator';
import { TextLength } from '../common/text-length';
import { Field, ID, InputType } from 'type-graphql';
import { ConnectionType, defineOrder } from '../common/connection';
import { MutationPayload } from '../common/payload';
import { Partner, PartnerKind } from './partner.entity';

export const PartnerConnection = ConnectionType(Partner, 'Partner', 'A page of partners.');

const partnerOrder = defineOrder<Partner, 'NAME' | 'CREATED_AT'>(
  'Partner',
  'partners',
  {
    NAME: { property: 'name', description: "The partner's name.", valueOf: (partner) => partner.name },
    CREATED_AT: {
      property: 'createdAt',
      description: 'When the partner was created.',
      valueOf: (partner) => partner.createdAt,
    },
  },
  'NAME',
);
export const PartnerOrder = partnerOrder.OrderInput;
export type PartnerOrder = InstanceType<typeof PartnerOrder>;
export const partnerSort = partnerOrder.sortOf;

@InputType({ description: 'Narrows a list of partners.' })
export class PartnerFilter {
  @Field(() => PartnerKind, { nullable: true, description: 'Only distributors, or only carriers.' })
  kind?: PartnerKind | null;

  @Field(() => String, {
    nullable: true,
    description: 'Only partners whose name contains this text (case-insensitive).',
  })
  nameContains?: string | null;
}

@InputType({ description: 'A new partner.' })
export class CreatePartnerInput {
  @TextLength(1, 200, 'name must be 1 to 200 characters')
  @Field({ description: 'Legal or trading name, unique among partners.' })
  name: string;

  @Field(() => PartnerKind, { description: 'Distributor or carrier.' })
  kind: PartnerKind;

  @IsOptional()
  @IsEmail({}, { message: 'contactEmail must be an email address' })
  @Field(() => String, { nullable: true, description: 'Address the compliance team writes to.' })
  contactEmail?: string | null;
}

@InputType({ description: 'Changes to a partner; omitted fields keep their value.' })
export class UpdatePartnerInput {
  @Field(() => ID, { description: 'Global ID of the partner.' })
  id: string;

  @IsOptional()
  @TextLength(1, 200, 'name must be 1 to 200 characters')
  @Field(() => String, { nullable: true, description: 'New name, unique among partners.' })
  name?: string | null;

  @Field(() => PartnerKind, { nullable: true, description: 'New kind.' })
  kind?: PartnerKind | null;

  @IsOptional()
  @IsEmail({}, { message: 'contactEmail must be an email address' })
  @Field(() => String, { nullable: true, description: 'New contact address.' })
  contactEmail?: string | null;
}

export const CreatePartnerPayload = MutationPayload(Partner, 'partner', 'createPartner');
export const UpdatePartnerPayload = MutationPayload(Partner, 'partner', 'updatePartner');
