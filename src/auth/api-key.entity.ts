import { Field, ObjectType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Node } from '../common/node';
import { timestampType } from '../db/column-types';
import { Partner } from '../partners/partner.entity';
import { Role } from './roles';

/**
 * A credential. The secret is shown once, at creation; only its SHA-256 digest is kept. A slow
 * password hash would add nothing: the secret is 256 random bits, not a guessable password.
 */
@Entity('api_key')
@Index('api_key_created_at_idx', ['createdAt', 'id'])
@ObjectType({
  implements: Node,
  description: 'An API key: who it is for, what it may do, and its state. Never the secret.',
})
export class ApiKey extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 100 })
  @Field({ description: 'What the key is for, e.g. `gateway-eu-1`.' })
  name: string;

  @Column({ type: 'varchar', length: 20 })
  @Field(() => Role, { description: 'What the key may do.' })
  role: Role;

  @Column({ type: 'integer', nullable: true })
  partnerId: number | null;

  @ManyToOne(() => Partner, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'partnerId', foreignKeyConstraintName: 'api_key_partner_id_fkey' })
  partnerRelation?: Partner;

  @Column({ type: 'varchar', length: 16 })
  @Field({ description: 'The first characters of the secret, to recognise a key without revealing it.' })
  prefix: string;

  @Index('api_key_secret_hash_key', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  secretHash: string;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp when the key was created.' })
  createdAt: Date;

  @Column({ type: 'varchar', length: 200 })
  @Field({ description: 'Who created the key.' })
  createdBy: string;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, {
    nullable: true,
    description: 'Timestamp after which the key is refused; null when it never expires.',
  })
  expiresAt: Date | null;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the key was revoked; null while it is not.' })
  revokedAt: Date | null;

  @Column({ type: 'boolean', default: false })
  @Field({
    description:
      'Indicates that the key may only run persisted operations (registered ahead and sent by hash); a free-form document is refused with PERSISTED_QUERY_REQUIRED.',
  })
  registeredOperationsOnly: boolean;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, {
    nullable: true,
    description: 'Timestamp of the latest request made with the key (recorded at most once a minute).',
  })
  lastUsedAt: Date | null;
}
