import { EntityManager } from 'typeorm';
import { RequestScope } from '../common/request-scope';
import { DeviceStatus } from './device.entity';
import { DeviceStatusChange, DeviceStatusChangeRow, StatusChangeCause } from './device-status-change.entity';
import { announceLive } from '../db/live-events';

/**
 * How a device's lockReason starts when no decision locked it: a person resolving a review, or a
 * sweep (`SWEEP:<sweep id>,POLICY:<policy key>,…`). Decisions write their reason codes.
 */
export const LOCK_REASON_PREFIX = { review: 'REVIEW_RESOLVED', sweep: 'SWEEP:' } as const;

export interface StatusChange {
  deviceId: number;
  from: DeviceStatus;
  to: DeviceStatus;
  cause: StatusChangeCause;
  reason: string;
  attemptId?: number | null;
  sweepId?: number | null;
}

/** The history row of a status change by the context's caller. */
export function statusChangeRow(context: RequestScope, change: StatusChange): DeviceStatusChangeRow {
  return {
    deviceId: change.deviceId,
    occurredAt: new Date(),
    fromStatus: change.from,
    toStatus: change.to,
    cause: change.cause,
    attemptId: change.attemptId ?? null,
    sweepId: change.sweepId ?? null,
    actor: context.actor,
    reason: change.reason.slice(0, 1000),
  };
}

/** Writes a status change to the device's history inside the change's own transaction. */
export async function recordStatusChange(manager: EntityManager, context: RequestScope, change: StatusChange) {
  if (change.from === change.to) return;
  await manager.insert(DeviceStatusChange, statusChangeRow(context, change) as never);
  await announceLive(manager, { kind: 'device', deviceId: change.deviceId });
}
