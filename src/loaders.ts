import { DataSource } from 'typeorm';
import { createActivationAttemptLoaders } from './activations/activation-attempt.loaders';
import { createAuditLoaders } from './audit/audit.loaders';
import { createApiKeyLoaders } from './auth/api-key.loaders';
import { createDeviceModelLoaders } from './device-models/device-model.loaders';
import { createDeviceLoaders } from './devices/device.loaders';
import { createExemptionLoaders } from './exemptions/exemption.loaders';
import { createPartnerLoaders } from './partners/partner.loaders';
import { createPolicyLoaders } from './policies/policy.loaders';
import { createRegionLoaders } from './regions/region.loaders';

/** Every module's loaders, created fresh for each request. */
export function createLoaders(dataSource: DataSource) {
  return {
    ...createRegionLoaders(dataSource),
    ...createPartnerLoaders(dataSource),
    ...createDeviceModelLoaders(dataSource),
    ...createDeviceLoaders(dataSource),
    ...createPolicyLoaders(dataSource),
    ...createActivationAttemptLoaders(dataSource),
    ...createExemptionLoaders(dataSource),
    ...createAuditLoaders(dataSource),
    ...createApiKeyLoaders(dataSource),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
