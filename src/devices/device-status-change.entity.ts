import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { timestampType } from '../db/column-types';
import { Device, DeviceStatus } from './device.entity';

export enum StatusChangeCause {
  DECISION = 'DECISION',
  REVIEW = 'REVIEW',
  UNLOCK = 'UNLOCK',
  SWEEP = 'SWEEP',
}
registerEnumType(StatusChangeCause, {
  name: 'StatusChangeCause',
  description: 'What changed a device status.',
  valuesConfig: {
    DECISION: { description: 'An activation decision (the attempt is named).' },
    REVIEW: { description: 'A person resolved a review (the attempt is named).' },
    UNLOCK: { description: 'A person unlocked the device.' },
    SWEEP: { description: 'A re-screening sweep (the sweep is named).' },
  },
});

/** One change of a device's status, never changed or deleted: the device's history. */
@Entity('device_status_change')
@Index('device_status_change_device_idx', ['deviceId', 'id'])
@Index('device_status_change_sweep_idx', ['sweepId'])
@ObjectType({ implements: Node, description: "One change of a device's status and what caused it." })
export class DeviceStatusChange extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  deviceId: number;

  @ManyToOne(() => Device, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'deviceId', foreignKeyConstraintName: 'device_status_change_device_id_fkey' })
  deviceRelation?: Device;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp of the change.' })
  occurredAt: Date;

  @Column({ type: 'varchar', length: 20 })
  @Field(() => DeviceStatus, { description: 'Status before.' })
  fromStatus: DeviceStatus;

  @Column({ type: 'varchar', length: 20 })
  @Field(() => DeviceStatus, { description: 'Status after.' })
  toStatus: DeviceStatus;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => StatusChangeCause, { description: 'What changed it.' })
  cause: StatusChangeCause;

  @Column({ type: 'integer', nullable: true })
  attemptId: number | null;

  /**
   * The attempt's occurredAt (its partition key), so that `attempt` probes one month's index on
   * PostgreSQL; null with attemptId, and for a change whose attempt was retired before the column
   * was filled (migration 1765770000000).
   */
  @Column({ type: timestampType, nullable: true })
  attemptOccurredAt: Date | null;

  @Column({ type: 'integer', nullable: true })
  sweepId: number | null;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Who or what acted (key name and role, or the system).' })
  actor: string;

  @Column({ type: 'varchar', length: 1000 })
  @Field({ description: 'Why, in words or reason codes.' })
  reason: string;
}

export type DeviceStatusChangeRow = Omit<DeviceStatusChange, 'id' | 'globalId' | 'deviceRelation'>;
