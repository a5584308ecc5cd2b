import { Field, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';
import { Partner } from '../partners/partner.entity';
import { PartnerEventType } from './partner-event.entity';

/** An HTTPS endpoint of a partner that receives signed events about its devices. */
@Entity('webhook_endpoint')
@Index('webhook_endpoint_partner_idx', ['partnerId', 'id'])
@ObjectType({ implements: Node, description: "A partner's HTTPS endpoint for events about its devices." })
export class WebhookEndpoint extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  partnerId: number;

  @ManyToOne(() => Partner, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'partnerId', foreignKeyConstraintName: 'webhook_endpoint_partner_id_fkey' })
  partnerRelation?: Partner;

  @Column({ type: 'varchar', length: 2000 })
  @Field({ description: 'The HTTPS URL events are POSTed to.' })
  url: string;

  @Column({ type: jsonType })
  @Field(() => [PartnerEventType], { description: 'The events it receives.' })
  eventTypes: PartnerEventType[];

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'What it is for.' })
  description: string;

  /**
   * The signing secret. Kept as is (HMAC needs it); shown once at creation, never through the API
   * again, never logged or audited.
   */
  @Column({ type: 'varchar', length: 100 })
  secret: string;

  @CreateDateColumn({ type: timestampType })
  @Field({ description: 'Timestamp when it was registered.' })
  createdAt: Date;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Who registered it.' })
  createdBy: string;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when it was disabled; it receives nothing after.' })
  disabledAt: Date | null;
}
