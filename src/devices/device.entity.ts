import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, ManyToOne, JoinColumn } from 'typeorm';
import { DeviceModel } from '../device-models/device-model.entity';
import { Region } from '../regions/region.entity';
import { Partner } from '../partners/partner.entity';
import { Node } from '../common/node';
import { timestampType } from '../db/column-types';

export enum DeviceStatus {
  NEW = 'NEW',
  ACTIVE = 'ACTIVE',
  LOCKED = 'LOCKED',
  UNDER_REVIEW = 'UNDER_REVIEW',
}
registerEnumType(DeviceStatus, {
  name: 'DeviceStatus',
  description: 'Lifecycle state of a device.',
  valuesConfig: {
    NEW: { description: 'Registered from a manifest, never activated.' },
    ACTIVE: { description: 'Activated and allowed.' },
    LOCKED: { description: 'Locked by an enforced policy; stays locked until unlocked through an audited path.' },
    UNDER_REVIEW: { description: 'An activation attempt is waiting in the review queue.' },
  },
});

export enum LockCause {
  DECISION = 'DECISION',
  REVIEW = 'REVIEW',
  SWEEP = 'SWEEP',
}
registerEnumType(LockCause, {
  name: 'LockCause',
  description: 'What locked a device.',
  valuesConfig: {
    DECISION: { description: 'An enforced LOCK decision on activation.' },
    REVIEW: { description: 'A person resolved a review by locking.' },
    SWEEP: { description: 'A re-screening sweep of a policy.' },
  },
});

/**
 * The partial index over the LOCKED devices: lockedDeviceStats names it on SQLite (INDEXED BY),
 * which plans without statistics and took the status index instead, then read each locked
 * device's row (10^7 seed, 73,371 locked: 265–303 ms of processor time, 40–61 ms through this).
 */
export const LOCKED_DEVICES_INDEX = 'device_locked_idx';

@Entity('device')
@Index('device_status_idx', ['status', 'id'])
@Index('device_model_id_idx', ['modelId', 'id'])
@Index('device_market_region_id_idx', ['marketRegionId', 'id'])
@Index('device_partner_id_idx', ['partnerId', 'id'])
@Index('device_created_at_idx', ['createdAt', 'id'])
// The locked devices alone, with every column lockedDeviceStats groups, filters or takes the
// earliest of: the report reads this index only (a few percent of the devices), not the table.
@Index(LOCKED_DEVICES_INDEX, ['lockRegionId', 'lockCause', 'lockPolicyVersionId', 'modelId', 'partnerId', 'lockedAt'], {
  where: `"status" = 'LOCKED'`,
})
@ObjectType({ implements: Node, description: 'One physical phone, identified by its IMEI.' })
export class Device extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('device_imei_key', { unique: true })
  @Column({ type: 'varchar', length: 15 })
  @Field({ description: 'International Mobile Equipment Identity: 15 digits, the last a Luhn check digit.' })
  imei: string;

  @Column({ type: 'varchar', length: 64 })
  @Field({ description: 'Manufacturer serial number.' })
  serialNumber: string;

  @Column({ type: 'integer' })
  modelId: number;

  @ManyToOne(() => DeviceModel, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'modelId', foreignKeyConstraintName: 'device_model_id_fkey' })
  modelRelation?: DeviceModel;

  @Column({ type: 'integer' })
  marketRegionId: number;

  @ManyToOne(() => Region, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'marketRegionId', foreignKeyConstraintName: 'device_market_region_id_fkey' })
  marketRegionRelation?: Region;

  @Column({ type: 'integer' })
  partnerId: number;

  @ManyToOne(() => Partner, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'partnerId', foreignKeyConstraintName: 'device_partner_id_fkey' })
  partnerRelation?: Partner;

  @Column({ type: 'varchar', length: 20, default: DeviceStatus.NEW })
  @Field(() => DeviceStatus, { description: 'Current lifecycle state.' })
  status: DeviceStatus;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the device was first activated.' })
  activatedAt: Date | null;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the device was locked; null unless LOCKED.' })
  lockedAt: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  @Field(() => String, { nullable: true, description: 'Why the device was locked (reason codes); null unless LOCKED.' })
  lockReason: string | null;

  @Column({ type: 'integer', nullable: true })
  lockedByAttemptId: number | null;

  /** The locking attempt's occurredAt (its partition key): `lockedByAttempt` probes one month's index. */
  @Column({ type: timestampType, nullable: true })
  lockedByAttemptOccurredAt: Date | null;

  /** Read by reports and unlock sweeps instead of the wording of lockReason. */
  @Column({ type: 'varchar', length: 10, nullable: true })
  @Field(() => LockCause, { nullable: true, description: 'What locked the device; null unless LOCKED.' })
  lockCause: LockCause | null;

  /**
   * The policy version that caused the lock: the locking decision's, the reviewed attempt's (null
   * when no policy asked for the review), the sweep's policy version in force.
   */
  @Column({ type: 'integer', nullable: true })
  lockPolicyVersionId: number | null;

  /**
   * The region of the attempt that is the lock's evidence (lockedByAttemptId), copied when the
   * lock is written: reports by region read it here instead of looking the attempt up by id, which
   * on PostgreSQL probes every month of attempts. Null unless LOCKED, or when the attempt resolved no region.
   */
  @Column({ type: 'integer', nullable: true })
  lockRegionId: number | null;

  @CreateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when the device was registered.' })
  createdAt: Date;
}
