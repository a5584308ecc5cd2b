import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  ManyToOne,
  JoinColumn,
} from 'typeorm';
import { DeviceModel } from '../device-models/device-model.entity';
import { Region } from '../regions/region.entity';
import { Policy } from './policy.entity';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';

export enum PolicyAction {
  LOCK = 'LOCK',
  REVIEW = 'REVIEW',
}
registerEnumType(PolicyAction, {
  name: 'PolicyAction',
  description: 'What a policy does to a device it applies to.',
  valuesConfig: {
    LOCK: { description: 'Locks the device: it cannot be activated until unlocked through an audited path.' },
    REVIEW: { description: 'Holds the device UNDER_REVIEW until a person allows or locks it.' },
  },
});

export enum PolicyMode {
  ENFORCE = 'ENFORCE',
  MONITOR = 'MONITOR',
}
registerEnumType(PolicyMode, {
  name: 'PolicyMode',
  description: 'Whether a policy acts or only records what it would have done.',
  valuesConfig: {
    ENFORCE: { description: 'Decisions are enforced: devices are locked or put under review.' },
    MONITOR: { description: 'Decisions record the would-be outcome; nothing is locked.' },
  },
});

@ObjectType({ description: 'A user-facing message in one language.' })
export class LocalizedMessage {
  @Field({ description: 'BCP 47 language tag, e.g. `en`, `ru`, `es`.' })
  locale: string;

  @Field({ description: 'The message text.' })
  text: string;
}

/** What a policy says at one point in time. Never updated once a decision may point at it. */
@Entity('policy_version')
@Index('policy_version_policy_number_key', ['policyId', 'number'], { unique: true })
@ObjectType({ implements: Node, description: "One immutable version of a policy's rules." })
export class PolicyVersion extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  policyId: number;

  @ManyToOne(() => Policy, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'policyId', foreignKeyConstraintName: 'policy_version_policy_id_fkey' })
  policyRelation?: Policy;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'Version number within the policy, from 1.' })
  number: number;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Short title.' })
  title: string;

  @Column({ type: 'text' })
  @Field({ description: 'What the policy is for.' })
  description: string;

  @Column({ type: 'text' })
  @Field({ description: 'The law, regulation or commitment the policy implements.' })
  legalBasis: string;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => PolicyAction, { description: 'What happens to a device the policy applies to.' })
  action: PolicyAction;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => PolicyMode, { description: 'Enforce, or only monitor.' })
  mode: PolicyMode;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'Higher wins when several policies apply; at equal priority LOCK beats REVIEW.' })
  priority: number;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp from which the version applies to attempts (by their occurredAt).' })
  effectiveFrom: Date;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, {
    nullable: true,
    description: 'Timestamp from which it no longer applies; null means open-ended.',
  })
  effectiveUntil: Date | null;

  @Column({ type: 'text' })
  @Field({ description: 'Message shown on a locked device, in English.' })
  lockMessage: string;

  /** Locale → text; English lives in `lockMessage`. */
  @Column({ type: jsonType })
  lockMessageTranslations: Record<string, string>;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, {
    nullable: true,
    description:
      'Timestamp when the version became part of the policy: when its change was approved, or applied at once when it ' +
      "could lock no one; null for a DRAFT policy's version.",
  })
  approvedAt: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  @Field(() => String, {
    nullable: true,
    description:
      'Who made it part of the policy: the second person who approved a change request, or the author of a change ' +
      'that applied at once.',
  })
  approvedBy: string | null;

  @Column({ type: 'integer', nullable: true })
  changeRequestId: number | null;

  @CreateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the version was created.' })
  createdAt: Date;
}

/** Which regions a version covers (internal join table, never exposed). */
@Entity('policy_version_region')
@Index('policy_version_region_region_idx', ['regionId'])
export class PolicyVersionRegion {
  @PrimaryColumn({ type: 'integer' })
  policyVersionId: number;

  @PrimaryColumn({ type: 'integer' })
  regionId: number;

  @ManyToOne(() => PolicyVersion, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'policyVersionId', foreignKeyConstraintName: 'policy_version_region_version_id_fkey' })
  policyVersionRelation?: PolicyVersion;

  @ManyToOne(() => Region, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'regionId', foreignKeyConstraintName: 'policy_version_region_region_id_fkey' })
  regionRelation?: Region;
}

/** Which device models a version is limited to; no rows means every model. */
@Entity('policy_version_device_model')
@Index('policy_version_device_model_model_idx', ['deviceModelId'])
export class PolicyVersionDeviceModel {
  @PrimaryColumn({ type: 'integer' })
  policyVersionId: number;

  @PrimaryColumn({ type: 'integer' })
  deviceModelId: number;

  @ManyToOne(() => PolicyVersion, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'policyVersionId', foreignKeyConstraintName: 'policy_version_device_model_version_id_fkey' })
  policyVersionRelation?: PolicyVersion;

  @ManyToOne(() => DeviceModel, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'deviceModelId', foreignKeyConstraintName: 'policy_version_device_model_model_id_fkey' })
  deviceModelRelation?: DeviceModel;
}
