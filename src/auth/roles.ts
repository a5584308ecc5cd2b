import { registerEnumType } from 'type-graphql';

/**
 * What an API key may do. Each root field names the roles it admits (`@Authorized`); below the
 * roots, src/auth/access-policy.ts names the right each object type and sensitive field needs.
 */
export enum Role {
  ADMIN = 'ADMIN',
  POLICY_AUTHOR = 'POLICY_AUTHOR',
  ANALYST = 'ANALYST',
  SUPPORT = 'SUPPORT',
  GATEWAY = 'GATEWAY',
  PARTNER = 'PARTNER',
}
registerEnumType(Role, {
  name: 'Role',
  description: 'What an API key may do.',
  valuesConfig: {
    ADMIN: { description: 'Everything, including API keys and the audit trail.' },
    POLICY_AUTHOR: { description: 'Policies, regions and exemptions; reads devices and attempts.' },
    ANALYST: { description: 'Reads everything, including reports and the audit trail; changes nothing.' },
    SUPPORT: { description: 'Reads devices, attempts and reference data; unlocks devices and resolves reviews.' },
    GATEWAY: { description: 'The activation gateway: decideActivation only.' },
    PARTNER: {
      description:
        'A distributor or carrier: its own devices, their attempts and decisions; registers its own devices.',
    },
  },
});

const { ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, GATEWAY, PARTNER } = Role;

/**
 * Who may do what, in one place. A PARTNER admitted here is further limited to its own rows by the
 * data layer (`partnerScopeOf`).
 */
export const access = {
  /** Regions, policies and their versions, device models: not secret, needed to read a decision. */
  readReferenceData: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, PARTNER],
  readPartners: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, PARTNER],
  /** A partner's contact e-mail: a person's address, for those who write to partners (and the partner itself). */
  readPartnerContacts: [ADMIN, ANALYST, SUPPORT, PARTNER],
  readDevices: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, PARTNER],
  readAttempts: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, PARTNER],
  /** Raw GPS coordinates are personal data: never shown to partners. */
  readRawLocation: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT],
  /**
   * A decision as the gateway is answered with it: outcome, reasons, region, policy version and
   * evidence (src/auth/access-policy.ts), never the device, its partner or its history.
   */
  readDecisions: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT, PARTNER, GATEWAY],
  readExemptions: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT],
  readReviews: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT],
  previewDecision: [ADMIN, POLICY_AUTHOR, ANALYST, SUPPORT],
  readAudit: [ADMIN, ANALYST],
  /** Reports; a partner's cover its own devices only. */
  readReports: [ADMIN, POLICY_AUTHOR, ANALYST, PARTNER],
  simulatePolicies: [ADMIN, POLICY_AUTHOR, ANALYST],
  decideActivation: [ADMIN, GATEWAY],
  writePolicies: [ADMIN, POLICY_AUTHOR],
  /** Change requests that wait for a second person, and their simulated impact. */
  readPolicyChanges: [ADMIN, POLICY_AUTHOR, ANALYST],
  reviewPolicyChanges: [ADMIN, POLICY_AUTHOR],
  /** Re-screening sweeps: reading their progress, and starting or steering them. */
  readSweeps: [ADMIN, POLICY_AUTHOR, ANALYST],
  runSweeps: [ADMIN, POLICY_AUTHOR],
  /** Webhook endpoints and deliveries; a partner's own only. */
  readWebhooks: [ADMIN, SUPPORT, PARTNER],
  manageWebhooks: [ADMIN, PARTNER],
  writeExemptions: [ADMIN, POLICY_AUTHOR],
  writePartners: [ADMIN],
  writeDeviceModels: [ADMIN],
  registerDevices: [ADMIN, PARTNER],
  resolveDeviceStatus: [ADMIN, SUPPORT],
  manageApiKeys: [ADMIN],
  /** Client manifests of persisted operations. */
  registerPersistedOperations: [ADMIN],
} as const satisfies Record<string, readonly Role[]>;

/** Every role that holds a key: fields any authenticated caller may read (`viewer`). */
export const anyRole = Object.values(Role);
