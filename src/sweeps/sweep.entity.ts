import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';
import { Policy } from '../policies/policy.entity';

export enum SweepAction {
  LOCK_ACTIVE_DEVICES = 'LOCK_ACTIVE_DEVICES',
  UNLOCK_RELEASED_DEVICES = 'UNLOCK_RELEASED_DEVICES',
}
registerEnumType(SweepAction, {
  name: 'SweepAction',
  description: 'What a re-screening sweep does.',
  valuesConfig: {
    LOCK_ACTIVE_DEVICES: {
      description:
        'Locks ACTIVE devices whose latest accepted attempt lies in a region the policy now locks (its version in ' +
        'force must be LOCK in ENFORCE mode): phones activated before the policy covered their region.',
    },
    UNLOCK_RELEASED_DEVICES: {
      description:
        "Unlocks devices locked by one of the policy's versions that no enforced policy locks any more in that region " +
        '(the policy was retired or narrowed).',
    },
  },
});

export enum SweepStatus {
  RUNNING = 'RUNNING',
  PAUSED = 'PAUSED',
  CANCELLED = 'CANCELLED',
  COMPLETED = 'COMPLETED',
}
registerEnumType(SweepStatus, {
  name: 'SweepStatus',
  description: 'Where a sweep stands.',
  valuesConfig: {
    RUNNING: { description: 'Working through its devices in batches (after a restart too).' },
    PAUSED: { description: 'Stopped after a batch; resumes where it left off.' },
    CANCELLED: { description: 'Stopped for good; the batches done stay done.' },
    COMPLETED: { description: 'Every device was examined.' },
  },
});

/** Counts of changed devices by region, model and partner (row ids as keys). */
export interface SweepBreakdown {
  byRegion: Record<string, number>;
  byModel: Record<string, number>;
  byPartner: Record<string, number>;
}

/**
 * A re-screening sweep: devices examined in batches in device-id order; each batch, with its
 * changes, audit events, status history and the sweep's progress, is one transaction, so a sweep
 * interrupted anywhere resumes after its last committed batch and changes each device once.
 */
@Entity('sweep')
@Index('sweep_status_idx', ['status', 'id'])
@ObjectType({
  implements: Node,
  description: 'A re-screening of devices already activated or locked, after a policy change.',
})
export class Sweep extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  policyId: number;

  @ManyToOne(() => Policy, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'policyId', foreignKeyConstraintName: 'sweep_policy_id_fkey' })
  policyRelation?: Policy;

  @Column({ type: 'varchar', length: 30 })
  @Field(() => SweepAction, { description: 'Lock or unlock.' })
  action: SweepAction;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => SweepStatus, { description: 'Where it stands.' })
  status: SweepStatus;

  @Column({ type: 'text' })
  @Field({ description: 'Why it was started.' })
  note: string;

  @Column({ type: 'integer' })
  @Field(() => Int, {
    description:
      'Devices to examine, the basis of its progress: counted when it started if at most 10,000 devices were in ' +
      'the status it changes (an UNLOCK sweep: always), otherwise estimated from a sample of them (about a percent ' +
      'off); never below processed while it runs, and the exact number examined once it has completed.',
  })
  total: number;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'Devices examined so far.' })
  processed: number;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'Devices changed so far.' })
  changed: number;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'Devices that could not be changed (an error); see the log.' })
  failed: number;

  /** Changed devices counted by region, model and partner. */
  @Column({ type: jsonType })
  breakdown: SweepBreakdown;

  /** The last device id examined: the next batch starts after it. */
  @Column({ type: 'integer' })
  cursor: number;

  /** The instance working on it, and until when its claim holds (another takes over after). */
  @Column({ type: 'varchar', length: 100, nullable: true })
  leaseOwner: string | null;

  @Column({ type: timestampType, nullable: true })
  leaseUntil: Date | null;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Who started it.' })
  startedBy: string;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp when it started.' })
  startedAt: Date;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp of its last progress or state change.' })
  updatedAt: Date;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when it completed or was cancelled.' })
  finishedAt: Date | null;
}
