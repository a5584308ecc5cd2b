import { ArrayMaxSize, ArrayMinSize, IsInt, IsOptional, Matches, Max, Min, ValidateNested } from 'class-validator';
import { TextLength } from '../common/text-length';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType, SortDirection, SortSpec, byId, defineOrder } from '../common/connection';
import { UserError } from '../common/errors';
import { MutationPayload } from '../common/payload';
import { PolicyChangeRequest, PolicyChangeStatus } from './policy-change-request.entity';
import { Policy, PolicyStatus } from './policy.entity';
import { PolicyAction, PolicyMode, PolicyVersion } from './policy-version.entity';

export const PolicyConnection = ConnectionType(Policy, 'Policy', 'A page of policies.');
export const PolicyVersionConnection = ConnectionType(PolicyVersion, 'PolicyVersion', 'A page of policy versions.');

const policyOrder = defineOrder<Policy, 'KEY' | 'CREATED_AT'>(
  'Policy',
  'policies',
  {
    KEY: { property: 'key', description: "The policy's stable key.", valueOf: (policy) => policy.key },
    CREATED_AT: {
      property: 'createdAt',
      description: 'When the policy was created.',
      valueOf: (policy) => policy.createdAt,
    },
  },
  'KEY',
);
export const PolicyOrder = policyOrder.OrderInput;
export type PolicyOrder = InstanceType<typeof PolicyOrder>;
export const policySort = policyOrder.sortOf;

/** Versions are listed newest first. */
export const versionSort: SortSpec<PolicyVersion> = {
  property: 'number',
  direction: SortDirection.DESC,
  valueOf: (version) => version.number,
};

/** Which version a policy filter's conditions on what a policy says read. */
const DESCRIBED_VERSION =
  "read from the version the policy's fields describe (see `Policy.title`): in force now, or the latest when none is.";

@InputType({ description: 'Narrows a list of policies; all given conditions must hold.' })
export class PolicyFilter {
  @Field(() => [PolicyStatus], { nullable: true, description: 'Only policies in one of these states.' })
  statuses?: PolicyStatus[] | null;

  @Field(() => [PolicyAction], {
    nullable: true,
    description: `Only policies whose action is one of these; ${DESCRIBED_VERSION}`,
  })
  actions?: PolicyAction[] | null;

  @Field(() => [PolicyMode], {
    nullable: true,
    description: `Only policies whose mode is one of these; ${DESCRIBED_VERSION}`,
  })
  modes?: PolicyMode[] | null;

  @Field(() => String, {
    nullable: true,
    description: `Only policies that cover this region, directly or through its country; ${DESCRIBED_VERSION}`,
  })
  coversRegionCode?: string | null;
}

@InputType({ description: 'A message in one language.' })
export class LocalizedMessageInput {
  @Matches(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, {
    message: 'locale must be a BCP 47 language tag such as "ru" or "pt-BR"',
  })
  @Field({ description: 'BCP 47 language tag, e.g. `ru`, `pt-BR`.' })
  locale: string;

  @TextLength(1, 1000, 'text must be 1 to 1000 characters')
  @Field({ description: 'The message text.' })
  text: string;
}

const KEY_RULE = /^[a-z0-9][a-z0-9-]{1,99}$/;

@InputType({ description: 'A new policy. It starts as a DRAFT with version 1 and decides nothing until activated.' })
export class CreatePolicyInput {
  @Matches(KEY_RULE, { message: 'key must be 2 to 100 lower-case letters, digits or dashes' })
  @Field({ description: 'Stable key, e.g. `export-restricted-territories`.' })
  key: string;

  @TextLength(1, 200, 'title must be 1 to 200 characters')
  @Field({ description: 'Short title.' })
  title: string;

  @TextLength(0, 10000, 'description must be at most 10000 characters')
  @Field({ description: 'What the policy is for.' })
  description: string;

  @TextLength(1, 10000, 'legalBasis must be 1 to 10000 characters')
  @Field({ description: 'The law, regulation or commitment the policy implements.' })
  legalBasis: string;

  @Field(() => PolicyAction, { description: 'What happens to a device the policy applies to.' })
  action: PolicyAction;

  @Field(() => PolicyMode, { description: 'ENFORCE acts; MONITOR only records what would have happened.' })
  mode: PolicyMode;

  @ArrayMinSize(1, { message: 'regionCodes must name at least one region' })
  @ArrayMaxSize(500, { message: 'regionCodes can name at most 500 regions' })
  @Field(() => [String], { description: 'ISO codes of the regions covered; a country covers its subdivisions.' })
  regionCodes: string[];

  @ArrayMaxSize(500, { message: 'productScope can name at most 500 models' })
  @Field(() => [String], {
    defaultValue: [],
    description: 'Codes of the device models the policy is limited to; empty means every model.',
  })
  productScope: string[];

  @Field({ description: "Timestamp from which the policy applies (by the attempt's occurredAt)." })
  effectiveFrom: Date;

  @Field(() => Date, { nullable: true, description: 'Timestamp from which it no longer applies; null for open-ended.' })
  effectiveUntil?: Date | null;

  @IsInt({ message: 'priority must be an integer' })
  @Min(-1000, { message: 'priority must be at least -1000' })
  @Max(1000, { message: 'priority must be at most 1000' })
  @Field(() => Int, { defaultValue: 0, description: 'Higher wins when several policies apply (-1000 to 1000).' })
  priority: number;

  @TextLength(1, 1000, 'lockMessage must be 1 to 1000 characters')
  @Field({ description: 'Message shown on a locked device, in English.' })
  lockMessage: string;

  @ArrayMaxSize(100, { message: 'lockMessageTranslations can hold at most 100 locales' })
  @ValidateNested({ each: true })
  @Field(() => [LocalizedMessageInput], { defaultValue: [], description: 'The lock message in other languages.' })
  lockMessageTranslations: LocalizedMessageInput[];
}

@InputType({
  description:
    'Changes to a policy; omitted fields keep their value. A DRAFT is edited in place; an ACTIVE policy gets a new version.',
})
export class UpdatePolicyInput {
  @Field(() => ID, { description: 'Global ID of the policy.' })
  id: string;

  @IsOptional()
  @TextLength(1, 1000, 'note must be 1 to 1000 characters')
  @Field(() => String, {
    nullable: true,
    description: 'Why: kept with the change request when the change needs approval.',
  })
  note?: string | null;

  @IsOptional()
  @TextLength(1, 200, 'title must be 1 to 200 characters')
  @Field(() => String, { nullable: true, description: 'New title.' })
  title?: string | null;

  @IsOptional()
  @TextLength(0, 10000, 'description must be at most 10000 characters')
  @Field(() => String, { nullable: true, description: 'New description.' })
  description?: string | null;

  @IsOptional()
  @TextLength(1, 10000, 'legalBasis must be 1 to 10000 characters')
  @Field(() => String, { nullable: true, description: 'New legal basis.' })
  legalBasis?: string | null;

  @Field(() => PolicyAction, { nullable: true, description: 'New action.' })
  action?: PolicyAction | null;

  @Field(() => PolicyMode, { nullable: true, description: 'New mode.' })
  mode?: PolicyMode | null;

  @IsOptional()
  @ArrayMinSize(1, { message: 'regionCodes must name at least one region' })
  @ArrayMaxSize(500, { message: 'regionCodes can name at most 500 regions' })
  @Field(() => [String], { nullable: true, description: 'New full list of covered region codes.' })
  regionCodes?: string[] | null;

  @IsOptional()
  @ArrayMaxSize(500, { message: 'productScope can name at most 500 models' })
  @Field(() => [String], { nullable: true, description: 'New full product scope; empty means every model.' })
  productScope?: string[] | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the change takes effect (for attempts by their occurredAt). Omitted: from the moment it applies — now, or ' +
      'when its change request is approved; a later instant schedules it; an earlier one than the current ' +
      "version's needs approval.",
  })
  effectiveFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'New effective-until timestamp.' })
  effectiveUntil?: Date | null;

  @Field(() => Boolean, { nullable: true, description: 'Indicates that effectiveUntil is removed (open-ended).' })
  clearEffectiveUntil?: boolean | null;

  @IsOptional()
  @IsInt({ message: 'priority must be an integer' })
  @Min(-1000, { message: 'priority must be at least -1000' })
  @Max(1000, { message: 'priority must be at most 1000' })
  @Field(() => Int, { nullable: true, description: 'New priority.' })
  priority?: number | null;

  @IsOptional()
  @TextLength(1, 1000, 'lockMessage must be 1 to 1000 characters')
  @Field(() => String, { nullable: true, description: 'New English lock message.' })
  lockMessage?: string | null;

  @IsOptional()
  @ArrayMaxSize(100, { message: 'lockMessageTranslations can hold at most 100 locales' })
  @ValidateNested({ each: true })
  @Field(() => [LocalizedMessageInput], { nullable: true, description: 'New full set of translations.' })
  lockMessageTranslations?: LocalizedMessageInput[] | null;
}

@InputType({ description: 'The policy to activate.' })
export class ActivatePolicyInput {
  @Field(() => ID, { description: 'Global ID of a DRAFT policy.' })
  id: string;

  @IsOptional()
  @TextLength(1, 1000, 'note must be 1 to 1000 characters')
  @Field(() => String, {
    nullable: true,
    description: 'Why: kept with the change request when the activation needs approval.',
  })
  note?: string | null;
}

@InputType({ description: 'The policy to retire.' })
export class RetirePolicyInput {
  @Field(() => ID, { description: 'Global ID of a DRAFT or ACTIVE policy.' })
  id: string;

  @TextLength(1, 1000, 'reason must be 1 to 1000 characters')
  @Field({ description: 'Why it is retired (kept in the audit trail).' })
  reason: string;
}

export const CreatePolicyPayload = MutationPayload(Policy, 'policy', 'createPolicy');

/** A change that may need approval: the policy as it now is, and the request when one was opened. */
function PolicyChangePayload(mutationName: string) {
  @ObjectType(`${mutationName[0].toUpperCase()}${mutationName.slice(1)}Payload`, {
    description: `Result of ${mutationName}: applied at once, or a change request waiting for a second person.`,
  })
  class Payload {
    @Field(() => Policy, {
      nullable: true,
      description:
        'The policy after the call (unchanged while a change request waits); null when there are user errors.',
    })
    policy: Policy | null;

    @Field(() => PolicyChangeRequest, {
      nullable: true,
      description:
        'The change request opened because the change could lock devices; null when the change applied at once.',
    })
    changeRequest: PolicyChangeRequest | null;

    @Field(() => [UserError], {
      description: 'What was wrong with the input; empty on success. Nothing is written when any exists.',
    })
    userErrors: UserError[];
  }
  return Payload;
}

export const UpdatePolicyPayload = PolicyChangePayload('updatePolicy');
export const ActivatePolicyPayload = PolicyChangePayload('activatePolicy');

export const PolicyChangeRequestConnection = ConnectionType(
  PolicyChangeRequest,
  'PolicyChangeRequest',
  'A page of policy change requests.',
);
/** Newest first. */
export const changeRequestSort = byId<PolicyChangeRequest>(SortDirection.DESC);

@InputType({ description: 'Conditions on policy change requests.' })
export class PolicyChangeRequestFilter {
  @Field(() => [PolicyChangeStatus], { nullable: true, description: 'Only requests in one of these states.' })
  statuses?: PolicyChangeStatus[] | null;

  @Field(() => String, { nullable: true, description: 'Only requests for the policy with this key.' })
  policyKey?: string | null;
}

@InputType({ description: 'A change request to approve.' })
export class ApprovePolicyChangeInput {
  @Field(() => ID, { description: 'Global ID of a PENDING change request; not one you made.' })
  id: string;

  @IsOptional()
  @TextLength(1, 1000, 'comment must be 1 to 1000 characters')
  @Field(() => String, { nullable: true, description: "The reviewer's words, kept with the request." })
  comment?: string | null;
}

@InputType({ description: 'A change request to turn down or take back.' })
export class ClosePolicyChangeInput {
  @Field(() => ID, { description: 'Global ID of a PENDING change request.' })
  id: string;

  @TextLength(1, 1000, 'comment must be 1 to 1000 characters')
  @Field({ description: 'Why (kept with the request and in the audit trail).' })
  comment: string;
}

export const ApprovePolicyChangePayload = MutationPayload(PolicyChangeRequest, 'changeRequest', 'approvePolicyChange');
export const RejectPolicyChangePayload = MutationPayload(PolicyChangeRequest, 'changeRequest', 'rejectPolicyChange');
export const WithdrawPolicyChangePayload = MutationPayload(
  PolicyChangeRequest,
  'changeRequest',
  'withdrawPolicyChange',
);
export const RetirePolicyPayload = MutationPayload(Policy, 'policy', 'retirePolicy');
