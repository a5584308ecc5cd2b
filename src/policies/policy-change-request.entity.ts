import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';
import { Policy } from './policy.entity';
import { PolicyVersion } from './policy-version.entity';

export enum PolicyChangeKind {
  ACTIVATE = 'ACTIVATE',
  UPDATE = 'UPDATE',
}
registerEnumType(PolicyChangeKind, {
  name: 'PolicyChangeKind',
  description: 'What a change request would do.',
  valuesConfig: {
    ACTIVATE: { description: 'Make a DRAFT policy ACTIVE.' },
    UPDATE: { description: 'Give an ACTIVE policy a new version.' },
  },
});

export enum PolicyChangeStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
  WITHDRAWN = 'WITHDRAWN',
  SUPERSEDED = 'SUPERSEDED',
}
registerEnumType(PolicyChangeStatus, {
  name: 'PolicyChangeStatus',
  description: 'Where a change request stands.',
  valuesConfig: {
    PENDING: { description: 'Waiting for a second POLICY_AUTHOR or ADMIN.' },
    APPROVED: { description: 'Applied: the policy has the version it asked for.' },
    REJECTED: { description: 'Turned down by a reviewer; nothing changed.' },
    WITHDRAWN: { description: 'Taken back by its author; nothing changed.' },
    SUPERSEDED: {
      description: 'The policy changed underneath it (another version, an edited draft, retirement); nothing changed.',
    },
  },
});

/**
 * Why a change needs a second person: each is a way it could lock (or hold for review) a device the
 * policy did not lock before.
 */
export enum RestrictionReason {
  NEW_ENFORCING_POLICY = 'NEW_ENFORCING_POLICY',
  MODE_TO_ENFORCE = 'MODE_TO_ENFORCE',
  ACTION_TO_LOCK = 'ACTION_TO_LOCK',
  WIDER_REGIONS = 'WIDER_REGIONS',
  WIDER_PRODUCT_SCOPE = 'WIDER_PRODUCT_SCOPE',
  EARLIER_EFFECTIVE_FROM = 'EARLIER_EFFECTIVE_FROM',
  LATER_EFFECTIVE_UNTIL = 'LATER_EFFECTIVE_UNTIL',
  HIGHER_PRIORITY = 'HIGHER_PRIORITY',
}
registerEnumType(RestrictionReason, {
  name: 'RestrictionReason',
  description: 'A way a policy change could lock or hold a device that was not before; each needs approval.',
  valuesConfig: {
    NEW_ENFORCING_POLICY: { description: 'A policy in ENFORCE mode starts to apply.' },
    MODE_TO_ENFORCE: { description: 'MONITOR becomes ENFORCE.' },
    ACTION_TO_LOCK: { description: 'REVIEW becomes LOCK.' },
    WIDER_REGIONS: { description: 'A region is covered that was not, directly or through its country.' },
    WIDER_PRODUCT_SCOPE: { description: 'A device model is in scope that was not.' },
    EARLIER_EFFECTIVE_FROM: { description: 'The policy applies from an earlier instant.' },
    LATER_EFFECTIVE_UNTIL: { description: 'The policy applies until a later instant, or without end.' },
    HIGHER_PRIORITY: { description: 'A higher priority can make the policy win over another.' },
  },
});

/** The rules a request proposes, as codes; a null effectiveFrom means "from the moment it is approved". */
export interface ProposedRules {
  title: string;
  description: string;
  legalBasis: string;
  action: string;
  mode: string;
  priority: number;
  effectiveFrom: string | null;
  effectiveUntil: string | null;
  lockMessage: string;
  lockMessageTranslations: Record<string, string>;
  regionCodes: string[];
  productScope: string[];
}

/**
 * A policy change that could lock devices, waiting for a second person. Its author cannot approve
 * it; approving applies it in the same transaction. Never deleted.
 */
@Entity('policy_change_request')
@Index('policy_change_request_policy_idx', ['policyId', 'id'])
@Index('policy_change_request_status_idx', ['status', 'id'])
@ObjectType({
  implements: Node,
  description: 'A proposed policy change that could lock devices: it needs a second person.',
})
export class PolicyChangeRequest extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  policyId: number;

  @ManyToOne(() => Policy, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'policyId', foreignKeyConstraintName: 'policy_change_request_policy_id_fkey' })
  policyRelation?: Policy;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => PolicyChangeKind, { description: 'Activation of a draft, or a new version of an active policy.' })
  kind: PolicyChangeKind;

  /** The version the change was proposed against: it is stale when the policy has moved on. */
  @Column({ type: 'integer' })
  baseVersionId: number;

  @ManyToOne(() => PolicyVersion, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'baseVersionId', foreignKeyConstraintName: 'policy_change_request_base_version_id_fkey' })
  baseVersionRelation?: PolicyVersion;

  @Column({ type: jsonType })
  proposedRules: ProposedRules;

  @Column({ type: jsonType })
  @Field(() => [RestrictionReason], { description: 'Why it needs approval.' })
  reasons: RestrictionReason[];

  @Column({ type: 'varchar', length: 12 })
  @Field(() => PolicyChangeStatus, { description: 'Where the request stands.' })
  status: PolicyChangeStatus;

  @Column({ type: 'text' })
  @Field({ description: 'Why the author wants the change.' })
  note: string;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Who proposed it (key name and role).' })
  requestedBy: string;

  /** Key of the author: the same key (or the same actor) cannot approve. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  requestedByKeyId: string | null;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp when it was proposed.' })
  requestedAt: Date;

  @Column({ type: 'varchar', length: 200, nullable: true })
  @Field(() => String, { nullable: true, description: 'Who approved, rejected or withdrew it.' })
  decidedBy: string | null;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, {
    nullable: true,
    description: 'Timestamp when it was approved, rejected, withdrawn or superseded.',
  })
  decidedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: "The reviewer's or author's words on closing it." })
  decisionComment: string | null;

  /** The simulation the approver saw, kept with the approval. */
  @Column({ type: jsonType, nullable: true })
  impactAtApproval: object | null;

  @Column({ type: 'integer', nullable: true })
  resultingVersionId: number | null;
}
