import { Field, ObjectType, registerEnumType } from 'type-graphql';
import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  ManyToOne,
  JoinColumn,
} from 'typeorm';
import { PolicyVersion } from './policy-version.entity';
import { Node } from '../common/node';
import { timestampType } from '../db/column-types';

export enum PolicyStatus {
  DRAFT = 'DRAFT',
  ACTIVE = 'ACTIVE',
  RETIRED = 'RETIRED',
}
registerEnumType(PolicyStatus, {
  name: 'PolicyStatus',
  description: 'Lifecycle of a policy.',
  valuesConfig: {
    DRAFT: { description: 'Being written; edits change the draft version in place; decides nothing.' },
    ACTIVE: { description: 'Applied to decisions; an edit creates a new immutable version.' },
    RETIRED: { description: 'No longer applied; kept for the decisions that point at its versions.' },
  },
});

/**
 * The stable identity of a policy. What it says lives in its immutable versions; the policy points
 * at the current one. Decisions point at the version they used, so history stays explainable.
 */
@Entity('policy')
@ObjectType({ implements: Node, description: 'An export policy: where activation is forbidden and what happens then.' })
export class Policy extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('policy_key_key', { unique: true })
  @Column({ type: 'varchar', length: 100 })
  @Field({ description: 'Stable key, e.g. `export-restricted-territories`; never changes.' })
  key: string;

  @Index('policy_status_idx')
  @Column({ type: 'varchar', length: 10 })
  @Field(() => PolicyStatus, { description: 'Lifecycle state.' })
  status: PolicyStatus;

  /**
   * The newest version, approved or not: what the next change starts from. Not necessarily the one
   * in force (GraphQL's `versionInForce`): an approved version may wait for its effectiveFrom, and a
   * DRAFT's only version is in force nowhere.
   */
  @Column({ type: 'integer', nullable: true })
  latestVersionId: number | null;

  // The constraint keeps the name it was created with.
  @ManyToOne(() => PolicyVersion, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'latestVersionId', foreignKeyConstraintName: 'policy_current_version_id_fkey' })
  latestVersionRelation?: PolicyVersion;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the policy was first activated.' })
  activatedAt: Date | null;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the policy was retired.' })
  retiredAt: Date | null;

  @CreateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the policy was created.' })
  createdAt: Date;

  @UpdateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the policy was last changed.' })
  updatedAt: Date;

  /** Set on a copy read through `policies(asOf:)` or `region(asOf:)`: its fields then describe that instant. */
  asOf?: Date;
}
