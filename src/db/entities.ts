import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { ActivationIdempotencyKey } from '../activations/idempotency-key.entity';
import { AuditEvent } from '../audit/audit-event.entity';
import { ApiKey } from '../auth/api-key.entity';
import { DeviceModel } from '../device-models/device-model.entity';
import { Device } from '../devices/device.entity';
import { DeviceStatusChange } from '../devices/device-status-change.entity';
import { Sweep } from '../sweeps/sweep.entity';
import { PartnerEvent } from '../webhooks/partner-event.entity';
import { WebhookDelivery, WebhookDeliveryAttempt } from '../webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from '../webhooks/webhook-endpoint.entity';
import { Exemption } from '../exemptions/exemption.entity';
import { Partner } from '../partners/partner.entity';
import { PersistedOperation } from '../persisted-operations/persisted-operation.entity';
import { Policy } from '../policies/policy.entity';
import { PolicyChangeRequest } from '../policies/policy-change-request.entity';
import { PolicyVersion, PolicyVersionDeviceModel, PolicyVersionRegion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import { ActivationDailyRollup, ActivationRollup } from '../reports/activation-rollup.entity';
import {
  ActivationDailyDevices,
  ActivationDeviceDay,
  ActivationDeviceDayLink,
  ActivationGroupDeviceDay,
} from '../reports/device-day.entity';
import { PolicyImpactDevice, PolicyImpactRollup } from '../reports/policy-impact.entity';

export const entities = [
  Region,
  Partner,
  DeviceModel,
  Device,
  Policy,
  PolicyVersion,
  PolicyVersionRegion,
  PolicyVersionDeviceModel,
  PolicyChangeRequest,
  ActivationAttempt,
  ActivationIdempotencyKey,
  Exemption,
  AuditEvent,
  ApiKey,
  DeviceStatusChange,
  Sweep,
  PartnerEvent,
  WebhookEndpoint,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  ActivationRollup,
  ActivationDailyRollup,
  ActivationDeviceDay,
  ActivationDeviceDayLink,
  ActivationGroupDeviceDay,
  ActivationDailyDevices,
  PersistedOperation,
  PolicyImpactRollup,
  PolicyImpactDevice,
];
