import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';
import { Device } from '../devices/device.entity';

export enum PartnerEventType {
  DEVICE_LOCKED = 'DEVICE_LOCKED',
  DEVICE_UNLOCKED = 'DEVICE_UNLOCKED',
  REVIEW_OPENED = 'REVIEW_OPENED',
  REVIEW_RESOLVED = 'REVIEW_RESOLVED',
}
registerEnumType(PartnerEventType, {
  name: 'PartnerEventType',
  description: "Something that happened to a partner's device, delivered to its webhook endpoints.",
  valuesConfig: {
    DEVICE_LOCKED: { description: 'The device was locked (by a decision, a review or a sweep).' },
    DEVICE_UNLOCKED: { description: 'The device was unlocked (by a person or a sweep).' },
    REVIEW_OPENED: { description: 'An activation attempt of the device waits for a person.' },
    REVIEW_RESOLVED: { description: 'A person decided a review of the device.' },
  },
});

/**
 * What happened to a partner's device, written in the same transaction as the change it reports
 * (an outbox): a crash never loses an event or invents one. Deliveries are made from it afterwards.
 */
@Entity('partner_event')
@Index('partner_event_partner_idx', ['partnerId', 'id'])
// The outbox's unsent end, kept small: only events not yet fanned out are in it.
@Index('partner_event_pending_idx', ['id'], { where: '"fannedOutAt" IS NULL' })
@ObjectType({ implements: Node, description: "Something that happened to a partner's device." })
export class PartnerEvent extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  partnerId: number;

  @Column({ type: 'integer' })
  deviceId: number;

  @ManyToOne(() => Device, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'deviceId', foreignKeyConstraintName: 'partner_event_device_id_fkey' })
  deviceRelation?: Device;

  @Column({ type: 'varchar', length: 20 })
  @Field(() => PartnerEventType, { description: 'What happened.' })
  type: PartnerEventType;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp when it happened.' })
  occurredAt: Date;

  /** The JSON body sent to endpoints (besides the envelope). */
  @Column({ type: jsonType })
  data: Record<string, unknown>;

  /** Set once deliveries were made for the endpoints subscribed when it was fanned out. */
  @Column({ type: timestampType, nullable: true })
  fannedOutAt: Date | null;
}

export type PartnerEventRow = Omit<PartnerEvent, 'id' | 'globalId' | 'deviceRelation'>;
