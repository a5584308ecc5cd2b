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
import { createSweepLoaders } from './sweeps/sweep.loaders';
import { createWebhookLoaders } from './webhooks/webhook.loaders';

/** Every module's loader factories. */
const modules = {
  regions: createRegionLoaders,
  partners: createPartnerLoaders,
  deviceModels: createDeviceModelLoaders,
  devices: createDeviceLoaders,
  policies: createPolicyLoaders,
  attempts: createActivationAttemptLoaders,
  exemptions: createExemptionLoaders,
  audit: createAuditLoaders,
  apiKeys: createApiKeyLoaders,
  sweeps: createSweepLoaders,
  webhooks: createWebhookLoaders,
};
type ModuleLoaders = { [M in keyof typeof modules]: ReturnType<(typeof modules)[M]> };
export type Loaders = ModuleLoaders[keyof ModuleLoaders] extends infer U
  ? (U extends unknown ? (whole: U) => void : never) extends (whole: infer I) => void
    ? I
    : never
  : never;

interface LazyLoaderState {
  dataSource: DataSource;
  made: Map<keyof typeof modules, Record<string, unknown>>;
}

/** A class whose getters make a module's loaders on first use; defined once, on the first request. */
let LazyLoaders: (new (dataSource: DataSource) => Loaders) | undefined;

function defineLazyLoaders(dataSource: DataSource): new (dataSource: DataSource) => Loaders {
  function Lazy(this: LazyLoaderState, source: DataSource) {
    this.dataSource = source;
    this.made = new Map();
  }
  for (const module of Object.keys(modules) as (keyof typeof modules)[]) {
    // A throwaway set tells which loader names the module makes (making loaders runs no query).
    for (const name of Object.keys(modules[module](dataSource))) {
      Object.defineProperty(Lazy.prototype, name, {
        get(this: LazyLoaderState) {
          let set = this.made.get(module);
          if (!set) {
            set = modules[module](this.dataSource) as Record<string, unknown>;
            this.made.set(module, set);
          }
          return set[name];
        },
      });
    }
  }
  return Lazy as unknown as new (dataSource: DataSource) => Loaders;
}

/**
 * Every module's loaders for one request. A module's loaders are made on first use: most requests
 * (a decision, a lookup) touch two or three modules of eleven.
 */
export function createLoaders(dataSource: DataSource): Loaders {
  LazyLoaders ??= defineLazyLoaders(dataSource);
  return new LazyLoaders(dataSource);
}
