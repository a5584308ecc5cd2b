import { EntityManager } from 'typeorm';
import { encodeGlobalId } from '../common/global-id';
import { RequestScope } from '../common/request-scope';
import { AuditEvent } from './audit-event.entity';

export interface AuditedChange {
  action: string;
  targetType: string;
  targetRowId: number;
  before: unknown;
  after: unknown;
  /** A second object the change concerns (its global ID), so the trail finds the change by either. */
  relatedTargetId?: string;
}

export type AuditEventRow = Omit<AuditEvent, 'id' | 'globalId'>;

/**
 * What of a request's scope names the caller in the audit trail: plain data, so that rows can be
 * built where no scope is (a sweep's reader thread).
 */
export type AuditCaller = Pick<RequestScope, 'actor' | 'viewer' | 'requestId'>;

/**
 * The audit entry of a change by the context's caller. `before` and `after` are copied as JSON
 * (the entry must not follow later changes to an entity it was given), unless `owned`: objects
 * built for this entry alone that nothing changes after (the device lifecycle's rows, a thousand a
 * sweep batch, where copying and writing it again was a seventh of the service's busy time).
 * Stored, both read the same.
 */
export function auditEventRow(context: AuditCaller, change: AuditedChange, owned = false): AuditEventRow {
  const copy = owned ? (value: unknown) => (value ?? null) as Record<string, unknown> | null : toSnapshot;
  return {
    occurredAt: new Date(),
    actor: context.actor,
    actorRole: context.viewer && !context.viewer.internal ? context.viewer.role : null,
    actorKeyId: context.viewer?.keyId == null ? null : encodeGlobalId('ApiKey', context.viewer.keyId),
    action: change.action,
    targetType: change.targetType,
    targetId: encodeGlobalId(change.targetType, change.targetRowId),
    relatedTargetId: change.relatedTargetId ?? null,
    before: copy(change.before),
    after: copy(change.after),
    requestId: context.requestId,
  };
}

/** Writes the audit entry of a change inside the change's own transaction (`manager`). */
export async function recordAuditEvent(manager: EntityManager, context: RequestScope, change: AuditedChange) {
  // insert, not save: one statement and no read-back; the trail is never read in the same transaction.
  await manager.insert(AuditEvent, auditEventRow(context, change) as never);
}

/** A plain JSON copy, so later mutations of the entity object cannot change what was recorded. */
function toSnapshot(value: unknown): Record<string, unknown> | null {
  return value === null || value === undefined ? null : JSON.parse(JSON.stringify(value));
}
