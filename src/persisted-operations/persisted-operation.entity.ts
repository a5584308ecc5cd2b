import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { timestampType } from '../db/column-types';

/**
 * A GraphQL document registered ahead of use (from a client's build manifest), sent afterwards by
 * its SHA-256 hash. A hash names exactly one document, so a row is never changed once written.
 */
@Entity('persisted_operation')
export class PersistedOperation {
  @PrimaryGeneratedColumn()
  id: number;

  /** Lowercase hex SHA-256 of `body`: the id clients send. */
  @Index('persisted_operation_document_id_key', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  documentId: string;

  @Column({ type: 'text' })
  body: string;

  /** The manifest's client (e.g. `activation-gateway`), for people reading the registry. */
  @Column({ type: 'varchar', length: 100 })
  clientName: string;

  @Column({ type: timestampType })
  createdAt: Date;

  @Column({ type: 'varchar', length: 200 })
  createdBy: string;
}
