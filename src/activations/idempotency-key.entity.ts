import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampType } from '../db/column-types';

/**
 * The gateway's idempotency keys, one row per key, written by a database trigger in the statement
 * that inserts the attempt (migration 1765640000000). The attempts are partitioned by month on
 * PostgreSQL, and a unique index there must include the partition key, so it could not stop a
 * retry whose occurredAt falls in another month: this table's primary key does, on both databases.
 * It has its own retention (IDEMPOTENCY_KEY_RETENTION_DAYS): retries come within minutes, the
 * history stays for years.
 */
@Entity('activation_idempotency_key')
@Index('activation_idempotency_key_recorded_idx', ['recordedAt'])
export class ActivationIdempotencyKey {
  @PrimaryColumn({ type: 'varchar', length: 200 })
  idempotencyKey: string;

  @Column({ type: 'integer' })
  attemptId: number;

  /** The attempt's occurredAt: its partition, so that reading it back touches one month. */
  @Column({ type: timestampType })
  occurredAt: Date;

  /** When the attempt was received: the key's age for its retention. */
  @Column({ type: timestampType })
  recordedAt: Date;
}
