import { DataSource } from 'typeorm';
import { createEntityLoader } from '../common/loaders';
import { AuditEvent } from './audit-event.entity';

export function createAuditLoaders(dataSource: DataSource) {
  return { auditEventById: createEntityLoader<AuditEvent, number>(dataSource, AuditEvent) };
}
