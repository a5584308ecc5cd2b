import 'reflect-metadata';
import { GraphQLScalarType, GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { buildSchema } from 'type-graphql';
import { boundFilterArguments } from './common/filter-bounds';
import { authChecker } from './auth/auth-checker';
import { enforceFieldAccess } from './auth/access-policy';
import { ApiKeyResolver } from './auth/api-key.resolver';
import {
  ActivationStatsResolver,
  PolicyImpactResolver,
  PolicySimulationResolver,
  RegionTransitionResolver,
} from './reports/report.resolver';
import { LockedDeviceStatsResolver, ReviewQueueStatsResolver } from './reports/current-state.resolver';
import { ActivationAttemptResolver } from './activations/activation-attempt.resolver';
import { AuditEventResolver } from './audit/audit.resolver';
import { AttemptExplanationResolver, DecisionResolver, PolicyEvidenceResolver } from './decisions/decision.resolver';
import { ReviewResolver } from './decisions/review.resolver';
import { DeviceModelResolver } from './device-models/device-model.resolver';
import { DeviceModelDevicesResolver, DeviceResolver, PartnerDevicesResolver } from './devices/device.resolver';
import { ExemptionResolver } from './exemptions/exemption.resolver';
import { NodeResolver } from './nodes/node.resolver';
import { PartnerResolver } from './partners/partner.resolver';
import { policyChangeResolvers } from './policies/policy-change.resolver';
import { sweepResolvers } from './sweeps/sweep.resolver';
import { DeviceStatusChangeResolver } from './devices/device-status-change.resolver';
import { webhookResolvers } from './webhooks/webhook.resolver';
import { policyResolvers } from './policies/policy.resolver';
import { RegionResolver } from './regions/region.resolver';
import { PersistedOperationResolver } from './persisted-operations/persisted-operation.resolver';
import { RateLimitResolver } from './auth/rate-limit.resolver';
import { LiveResolver } from './live/live.resolver';

export const resolvers = [
  NodeResolver,
  RegionResolver,
  PartnerResolver,
  PartnerDevicesResolver,
  DeviceModelResolver,
  DeviceModelDevicesResolver,
  DeviceResolver,
  ActivationAttemptResolver,
  DecisionResolver,
  PolicyEvidenceResolver,
  AttemptExplanationResolver,
  ReviewResolver,
  ...policyResolvers,
  ...policyChangeResolvers,
  ...sweepResolvers,
  DeviceStatusChangeResolver,
  ...webhookResolvers,
  ExemptionResolver,
  AuditEventResolver,
  ApiKeyResolver,
  ActivationStatsResolver,
  LockedDeviceStatsResolver,
  ReviewQueueStatsResolver,
  PolicyImpactResolver,
  PolicySimulationResolver,
  RegionTransitionResolver,
  PersistedOperationResolver,
  RateLimitResolver,
  LiveResolver,
] as const;

/** ISO 8601 instants under the name partners integrate against (`DateTime`). */
export const DateTimeScalar = new GraphQLScalarType({
  ...DateTimeISOResolver.toConfig(),
  name: 'DateTime',
  description:
    'An instant in ISO 8601 form with a time zone offset, e.g. `2026-11-25T22:31:35Z`; always returned in UTC.',
});

let cachedSchema: Promise<GraphQLSchema> | undefined;

/** The executable schema; built once per process (type-graphql metadata is global anyway). */
export function buildAppSchema(): Promise<GraphQLSchema> {
  cachedSchema ??= buildSchema({
    resolvers,
    // Mutation inputs are validated by their services, so that problems become userErrors; the
    // schema-wide hook only bounds the filters of lists.
    validateFn: boundFilterArguments,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // Every subscription brings its own `subscribe` (the live hub's feeds); type-graphql insists on a
    // PubSub all the same, so this one refuses to be used.
    pubSub: {
      publish: () => {
        throw new Error('subscriptions are fed by the live hub, not by a PubSub');
      },
      subscribe: () => {
        throw new Error('subscriptions are fed by the live hub, not by a PubSub');
      },
    },
    // Below the roots, every field is checked against the access policy (default deny).
  }).then(enforceFieldAccess);
  return cachedSchema;
}

/** The SDL committed in schema/schema.graphql: sorted, so that it changes only when the API does. */
export async function printAppSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildAppSchema()))}\n`;
}
