import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { timestampType } from '../db/column-types';
import { PartnerEvent } from './partner-event.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export enum DeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}
registerEnumType(DeliveryStatus, {
  name: 'DeliveryStatus',
  description: 'Where a webhook delivery stands.',
  valuesConfig: {
    PENDING: { description: 'Not yet accepted by the endpoint; tried again with exponential backoff.' },
    DELIVERED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every try failed; it can be redelivered.' },
  },
});

/** One event for one endpoint, tried until the endpoint accepts it or the tries run out. */
@Entity('webhook_delivery')
@Index('webhook_delivery_due_idx', ['status', 'nextAttemptAt'])
@Index('webhook_delivery_endpoint_idx', ['endpointId', 'id'])
@ObjectType({ implements: Node, description: 'One event sent (or being sent) to one webhook endpoint.' })
export class WebhookDelivery extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  eventId: number;

  @ManyToOne(() => PartnerEvent, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'eventId', foreignKeyConstraintName: 'webhook_delivery_event_id_fkey' })
  eventRelation?: PartnerEvent;

  @Column({ type: 'integer' })
  endpointId: number;

  @ManyToOne(() => WebhookEndpoint, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'endpointId', foreignKeyConstraintName: 'webhook_delivery_endpoint_id_fkey' })
  endpointRelation?: WebhookEndpoint;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => DeliveryStatus, { description: 'Where it stands.' })
  status: DeliveryStatus;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'Tries so far.' })
  attempts: number;

  /** When it is due; while an instance is sending it, the end of that instance's claim. */
  @Column({ type: timestampType })
  @Field({ description: 'Timestamp of the next try (for a PENDING delivery).' })
  nextAttemptAt: Date;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the endpoint accepted it.' })
  deliveredAt: Date | null;

  @Column({ type: 'integer', nullable: true })
  redeliveryOf: number | null;
}

/** One try of a delivery: what the endpoint answered, or why it could not be reached. */
@Entity('webhook_delivery_attempt')
@Index('webhook_delivery_attempt_delivery_idx', ['deliveryId', 'id'])
@ObjectType({ implements: Node, description: 'One try of a webhook delivery.' })
export class WebhookDeliveryAttempt extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'integer' })
  deliveryId: number;

  @ManyToOne(() => WebhookDelivery, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'deliveryId', foreignKeyConstraintName: 'webhook_delivery_attempt_delivery_id_fkey' })
  deliveryRelation?: WebhookDelivery;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp of the try.' })
  attemptedAt: Date;

  @Column({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'HTTP status the endpoint answered; null when it was not reached.' })
  statusCode: number | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  @Field(() => String, { nullable: true, description: 'Why it failed, when it did.' })
  error: string | null;

  @Column({ type: 'integer' })
  @Field(() => Int, { description: 'How long the try took, in milliseconds.' })
  durationMs: number;
}
