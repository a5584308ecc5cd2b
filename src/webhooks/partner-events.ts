import { EntityManager } from 'typeorm';
import { encodeGlobalId } from '../common/global-id';
import { PartnerEvent, PartnerEventRow, PartnerEventType } from './partner-event.entity';

export interface DeviceEvent {
  type: PartnerEventType;
  device: { id: number; partnerId: number; imei: string };
  /** The device's status after the change. */
  status: string;
  attemptId?: number | null;
  /** The attempt's occurredAt: its global ID names the month (see common/global-id.ts). */
  attemptOccurredAt?: Date | null;
  sweepId?: number | null;
  reason?: string | null;
}

/**
 * The outbox row of an event about a partner's device. What partners receive names the device by
 * its global ID and IMEI (their own device), never coordinates.
 */
export function partnerEventRow(event: DeviceEvent, occurredAt = new Date()): PartnerEventRow {
  return {
    partnerId: event.device.partnerId,
    deviceId: event.device.id,
    type: event.type,
    occurredAt,
    data: {
      device: { id: encodeGlobalId('Device', event.device.id), imei: event.device.imei, status: event.status },
      attemptId:
        event.attemptId == null
          ? null
          : encodeGlobalId('ActivationAttempt', event.attemptId, event.attemptOccurredAt ?? undefined),
      sweepId: event.sweepId == null ? null : encodeGlobalId('Sweep', event.sweepId),
      reason: event.reason ?? null,
    },
    fannedOutAt: null,
  };
}

/** Writes events inside the transaction of the change they report. */
export async function recordPartnerEvents(manager: EntityManager, events: DeviceEvent[]): Promise<void> {
  if (events.length === 0) return;
  await manager.insert(PartnerEvent, events.map((event) => partnerEventRow(event)) as never);
}
