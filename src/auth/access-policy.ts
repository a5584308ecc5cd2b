/**
 * Who may read what, below the root: every object type of the schema names the right (an entry of
 * `access` in roles.ts) a role needs to read its fields, and a few fields name a right of their own
 * (narrower, like a partner's contact e-mail; or wider, like the parts of an attempt the activation
 * gateway is answered with). The check runs on every field of every object type as it resolves, so
 * a root a role may use leads it nowhere else: a GATEWAY key answered an ActivationAttempt gets its
 * outcome, not its device, its partner or their history.
 *
 * Default deny: a type that is in no list here is refused to every role, and so is every field of
 * it, until someone grants it (test/access.test.ts walks the schema and fails on such a type).
 * Root fields keep their `@Authorized(access.…)`, checked by the auth checker; the field-level
 * `@Authorized` of sensitive fields (raw coordinates) stays too, so both must admit a role.
 *
 * Cost: each role's grants are one precomputed Set of `Type.field`; a field's check is a Set lookup
 * with a key made once, when the schema is built.
 */
import { GraphQLFieldResolver, GraphQLSchema, defaultFieldResolver, isObjectType } from 'graphql';
import { Role, access } from './roles';
import { ForbiddenError, UnauthenticatedError, Viewer } from './viewer';

type Right = keyof typeof access | 'anyRole';

function rolesOf(right: Right): readonly Role[] {
  return right === 'anyRole' ? Object.values(Role) : access[right];
}

/** The connection and edge types of a paged type read with the same right as the type. */
const paged = (type: string) => [type, `${type}Connection`, `${type}Edge`];

/** Object types by the right that reads them. */
const typesByRight: Partial<Record<Right, readonly string[]>> = {
  /** The caller's own session, pages and mutation errors. */
  anyRole: ['Viewer', 'RateLimit', 'UserError', 'PageInfo', 'ApiKey'],
  readReferenceData: [
    ...paged('Region'),
    ...paged('Policy'),
    ...paged('PolicyVersion'),
    'LocalizedMessage',
    ...paged('DeviceModel'),
  ],
  readPartners: paged('Partner'),
  readDevices: [...paged('Device'), ...paged('DeviceStatusChange'), 'DeviceStatusChanged'],
  readAttempts: [...paged('ActivationAttempt'), 'ActivationSignals', 'CellInfo', 'SimInfo', 'ActivationDecided'],
  readRawLocation: ['GeoPoint'],
  readDecisions: ['ActivationDecision', 'DecisionExplanation', 'SignalEvidence', 'PolicyEvidence'],
  readExemptions: paged('Exemption'),
  readReviews: ['ReviewQueueStats', 'ReviewQueueRow', 'ReviewQueueCounts', 'ReviewQueueChanged'],
  readAudit: paged('AuditEvent'),
  readReports: [
    'ActivationStats',
    'ActivationStatsRow',
    'ActivationCounts',
    'LockedDeviceStats',
    'LockedDevicesRow',
    'LockedDeviceCounts',
    'PolicyImpactRow',
  ],
  simulatePolicies: ['PolicySimulation', 'RegionTransition', 'OutcomeTransition'],
  readPolicyChanges: [...paged('PolicyChangeRequest'), 'ProposedPolicyRules'],
  readSweeps: [
    ...paged('Sweep'),
    'SweepPreview',
    'SweepBreakdownCounts',
    'SweepModelCount',
    'SweepPartnerCount',
    'SweepRegionCount',
  ],
  readWebhooks: [
    ...paged('WebhookEndpoint'),
    ...paged('WebhookDelivery'),
    ...paged('WebhookDeliveryAttempt'),
    'PartnerEvent',
  ],
  manageApiKeys: ['ApiKeyConnection', 'ApiKeyEdge', 'CreateApiKeyPayload', 'RevokeApiKeyPayload'],
  // Each mutation's payload: read by whoever may run the mutation.
  decideActivation: ['DecideActivationPayload'],
  registerDevices: ['RegisterDevicesPayload'],
  resolveDeviceStatus: ['ResolveReviewPayload', 'UnlockDevicePayload'],
  writePolicies: ['CreatePolicyPayload', 'UpdatePolicyPayload', 'ActivatePolicyPayload', 'RetirePolicyPayload'],
  reviewPolicyChanges: ['ApprovePolicyChangePayload', 'RejectPolicyChangePayload', 'WithdrawPolicyChangePayload'],
  runSweeps: ['StartSweepPayload', 'PauseSweepPayload', 'ResumeSweepPayload', 'CancelSweepPayload'],
  manageWebhooks: ['CreateWebhookEndpointPayload', 'DisableWebhookEndpointPayload', 'RedeliverWebhookPayload'],
  writeExemptions: ['CreateExemptionPayload', 'RevokeExemptionPayload'],
  writePartners: ['CreatePartnerPayload', 'UpdatePartnerPayload'],
  writeDeviceModels: ['CreateDeviceModelPayload', 'UpdateDeviceModelPayload'],
  registerPersistedOperations: ['RegisterPersistedOperationsPayload'],
};

/** What the activation gateway is answered with: the decision, its attempt's outcome, region and policy. */
const decisionFields = {
  ActivationAttempt: [
    'id',
    'outcome',
    'enforced',
    'reasonCodes',
    'occurredAt',
    'receivedAt',
    'idempotencyKey',
    'regionSource',
    'resolvedRegion',
    'policyVersion',
    'explanation',
  ],
  Region: ['id', 'code', 'name', 'kind'],
  PolicyVersion: ['id', 'number', 'title', 'action', 'mode'],
};

/** Fields read with a right other than their type's. */
const fieldRights: Record<string, Right> = {
  ...Object.fromEntries(
    Object.entries(decisionFields).flatMap(([type, fields]) =>
      fields.map((field) => [`${type}.${field}`, 'readDecisions' as const]),
    ),
  ),
  /** A person's address: not for policy authors, who have no business writing to partners. */
  'Partner.contactEmail': 'readPartnerContacts',
  'ActivationSignals.gps': 'readRawLocation',
};

const rightOfType = new Map<string, Right>(
  Object.entries(typesByRight).flatMap(([right, types]) => types.map((type) => [type, right as Right])),
);

/** The right a field needs, or null when nobody may read it (not granted yet). */
export function rightOfField(type: string, field: string): Right | null {
  return fieldRights[`${type}.${field}`] ?? rightOfType.get(type) ?? null;
}

/** Whether `role` may read `type.field` (root fields are the auth checker's: not covered here). */
export function mayRead(role: Role, type: string, field: string): boolean {
  const right = rightOfField(type, field);
  return right !== null && rolesOf(right).includes(role);
}

/** The root types, whose fields keep their `@Authorized` checks, and graphql-js's introspection types. */
function isGoverned(schema: GraphQLSchema, typeName: string): boolean {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
  return !typeName.startsWith('__') && !roots.some((root) => root?.name === typeName);
}

/**
 * Wraps the resolver of every field of every object type below the roots with the policy's check.
 * Each role's grants are computed once, here, from the schema as built.
 */
export function enforceFieldAccess(schema: GraphQLSchema): GraphQLSchema {
  const grants = new Map<Role, Set<string>>(Object.values(Role).map((role) => [role, new Set<string>()]));
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || !isGoverned(schema, type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      for (const role of Object.values(Role)) if (mayRead(role, type.name, field.name)) grants.get(role)!.add(key);
      const resolve: GraphQLFieldResolver<unknown, { viewer: Viewer | null }> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const viewer = context.viewer;
        if (!viewer) throw new UnauthenticatedError();
        if (!grants.get(viewer.role)!.has(key)) throw new ForbiddenError(`a ${viewer.role} key may not read ${key}`);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
