import { Field, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Device } from '../devices/device.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { Node } from '../common/node';
import { nowWithMilliseconds, timestampType } from '../db/column-types';

/** Exempts one device, or every device of one partner, from one policy until it expires. */
@Entity('exemption')
@Index('exemption_policy_idx', ['policyId'])
@Index('exemption_device_idx', ['deviceId'])
@Index('exemption_partner_idx', ['partnerId'])
@ObjectType({ implements: Node, description: 'An audited exception: a device or a partner is exempt from a policy.' })
export class Exemption extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  policyId: number;

  @ManyToOne(() => Policy, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'policyId', foreignKeyConstraintName: 'exemption_policy_id_fkey' })
  policyRelation?: Policy;

  @Column({ type: 'integer', nullable: true })
  deviceId: number | null;

  @ManyToOne(() => Device, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'deviceId', foreignKeyConstraintName: 'exemption_device_id_fkey' })
  deviceRelation?: Device;

  @Column({ type: 'integer', nullable: true })
  partnerId: number | null;

  @ManyToOne(() => Partner, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'partnerId', foreignKeyConstraintName: 'exemption_partner_id_fkey' })
  partnerRelation?: Partner;

  @Column({ type: 'text' })
  @Field({ description: 'Why the exemption was granted.' })
  reason: string;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Who granted it.' })
  grantedBy: string;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the exemption ends; null means until revoked.' })
  expiresAt: Date | null;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the exemption was revoked.' })
  revokedAt: Date | null;

  // Decides as-of reads (was the exemption granted at that instant?): milliseconds, like every instant.
  @CreateDateColumn({ type: timestampType, default: nowWithMilliseconds })
  @Field({ description: 'Timestamp when the exemption was granted.' })
  createdAt: Date;
}
