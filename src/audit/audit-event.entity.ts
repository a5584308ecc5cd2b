import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../auth/roles';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';

/**
 * One change, written in the same transaction as the change itself. The trail is append-only:
 * nothing in the code base updates or deletes these rows.
 */
@Entity('audit_event')
@Index('audit_event_target_idx', ['targetType', 'targetId'])
// Partial: most rows name no related object nor API key (a sweep's none), and the trail is read by them with a value.
@Index('audit_event_related_target_idx', ['relatedTargetId'], { where: '"relatedTargetId" IS NOT NULL' })
@Index('audit_event_action_idx', ['action', 'occurredAt'])
@Index('audit_event_actor_idx', ['actor', 'occurredAt'])
@Index('audit_event_actor_key_idx', ['actorKeyId', 'occurredAt'], { where: '"actorKeyId" IS NOT NULL' })
@Index('audit_event_occurred_at_idx', ['occurredAt', 'id'])
@ObjectType({
  implements: Node,
  description: 'An entry of the append-only audit trail: who changed what, when, from what to what.',
})
export class AuditEvent extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp when the change was committed.' })
  occurredAt: Date;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Who made the change (API key name and role, or `system`).' })
  actor: string;

  @Column({ type: 'varchar', length: 20, nullable: true })
  @Field(() => Role, {
    nullable: true,
    description: "The role of the caller's API key; null for internal changes (seeds).",
  })
  actorRole: Role | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  @Field(() => ID, {
    nullable: true,
    description: 'Global ID of the API key that made the change; null for the bootstrap key and internal changes.',
  })
  actorKeyId: string | null;

  @Column({ type: 'varchar', length: 100 })
  @Field({ description: 'What was done, e.g. `policy.create`, `device.register`.' })
  action: string;

  @Column({ type: 'varchar', length: 50 })
  @Field({ description: 'GraphQL type of the changed object.' })
  targetType: string;

  @Column({ type: 'varchar', length: 100 })
  @Field({ description: 'Global ID of the changed object.' })
  targetId: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  @Field(() => ID, {
    nullable: true,
    description:
      'Global ID of a second object the change concerns, e.g. the change request of an approved, rejected or withdrawn policy change (whose target is the policy); null when there is none.',
  })
  relatedTargetId: string | null;

  @Column({ type: jsonType, nullable: true })
  @Field(() => GraphQLJSON, { nullable: true, description: 'The object before the change; null for a creation.' })
  before: Record<string, unknown> | null;

  @Column({ type: jsonType, nullable: true })
  @Field(() => GraphQLJSON, { nullable: true, description: 'The object after the change.' })
  after: Record<string, unknown> | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  @Field(() => String, { nullable: true, description: 'ID of the HTTP request that made the change.' })
  requestId: string | null;
}
