import { access, anyRole } from '../auth/roles';
import DataLoader from 'dataloader';
import { Authorized, Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { BadUserInputError } from '../common/errors';
import { DecodedGlobalId, decodeGlobalId } from '../common/global-id';
import { Node } from '../common/node';
import { GraphQLContext } from '../context';
import { Loaders } from '../loaders';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { Role } from '../auth/roles';
import { ForbiddenError, partnerScopeOf } from '../auth/viewer';
import { Device } from '../devices/device.entity';
import { PartnerEvent } from '../webhooks/partner-event.entity';
import { WebhookDelivery, WebhookDeliveryAttempt } from '../webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from '../webhooks/webhook-endpoint.entity';
import { DeviceStatusChange } from '../devices/device-status-change.entity';

interface NodeType {
  /** The row's loader by row id; or `load`, for a type whose ID says more (an attempt's month). */
  loader?: (loaders: Loaders) => DataLoader<number, Node | null>;
  load?: (loaders: Loaders, decoded: DecodedGlobalId) => Promise<Node | null>;
  /** The roles that may read objects of this type: the same rule as the type's root list. */
  readers: readonly Role[];
  /** For a PARTNER caller: whether the object is its own. Types without it are not partner-specific. */
  ownedBy?: (context: GraphQLContext, node: Node, partnerId: number) => Promise<boolean>;
}

/** How each Node type is refetched and who may see it. A type missing here cannot be refetched: add it. */
const nodeTypes: Record<string, NodeType> = {
  Region: { loader: (loaders) => loaders.regionById, readers: access.readReferenceData },
  DeviceModel: { loader: (loaders) => loaders.deviceModelById, readers: access.readReferenceData },
  Policy: { loader: (loaders) => loaders.policyById, readers: access.readReferenceData },
  PolicyVersion: { loader: (loaders) => loaders.policyVersionById, readers: access.readReferenceData },
  PolicyChangeRequest: { loader: (loaders) => loaders.policyChangeRequestById, readers: access.readPolicyChanges },
  Partner: {
    loader: (loaders) => loaders.partnerById,
    readers: access.readPartners,
    ownedBy: async (_context, node, partnerId) => node.id === partnerId,
  },
  Device: {
    loader: (loaders) => loaders.deviceById,
    readers: access.readDevices,
    ownedBy: async (_context, node, partnerId) => (node as Device).partnerId === partnerId,
  },
  ActivationAttempt: {
    // The month an ID names prunes the lookup to one partition; an older ID without it probes every month.
    load: (loaders, decoded) =>
      loaders.activationAttemptByRef.load({ id: decoded.rowId, month: decoded.month ?? null }),
    readers: access.readAttempts,
    ownedBy: async (context, node, partnerId) =>
      (await context.loaders.deviceById.load((node as ActivationAttempt).deviceId))?.partnerId === partnerId,
  },
  Sweep: { loader: (loaders) => loaders.sweepById, readers: access.readSweeps },
  DeviceStatusChange: {
    loader: (loaders) => loaders.deviceStatusChangeById,
    readers: access.readDevices,
    ownedBy: async (context, node, partnerId) =>
      (await context.loaders.deviceById.load((node as DeviceStatusChange).deviceId))?.partnerId === partnerId,
  },
  WebhookEndpoint: {
    loader: (loaders) => loaders.webhookEndpointById,
    readers: access.readWebhooks,
    ownedBy: async (_context, node, partnerId) => (node as WebhookEndpoint).partnerId === partnerId,
  },
  WebhookDelivery: {
    loader: (loaders) => loaders.webhookDeliveryById,
    readers: access.readWebhooks,
    ownedBy: async (context, node, partnerId) =>
      (await context.loaders.webhookEndpointById.load((node as WebhookDelivery).endpointId))?.partnerId === partnerId,
  },
  WebhookDeliveryAttempt: {
    loader: (loaders) => loaders.webhookDeliveryAttemptById,
    readers: access.readWebhooks,
    ownedBy: async (context, node, partnerId) => {
      const delivery = await context.loaders.webhookDeliveryById.load((node as WebhookDeliveryAttempt).deliveryId);
      return (
        !!delivery && (await context.loaders.webhookEndpointById.load(delivery.endpointId))?.partnerId === partnerId
      );
    },
  },
  PartnerEvent: {
    loader: (loaders) => loaders.partnerEventById,
    readers: access.readWebhooks,
    ownedBy: async (_context, node, partnerId) => (node as PartnerEvent).partnerId === partnerId,
  },
  Exemption: { loader: (loaders) => loaders.exemptionById, readers: access.readExemptions },
  AuditEvent: { loader: (loaders) => loaders.auditEventById, readers: access.readAudit },
  ApiKey: { loader: (loaders) => loaders.apiKeyById, readers: access.manageApiKeys },
};

/**
 * Refetches an object the caller may see. A type its role may not read is FORBIDDEN (the type is
 * no secret: it is part of the ID); another partner's object reads as missing, like a wrong ID.
 */
async function loadNode(context: GraphQLContext, globalId: string): Promise<Node | null> {
  const decoded = decodeGlobalId(globalId);
  const type = decoded && nodeTypes[decoded.typeName];
  if (!type) return null;
  const viewer = context.viewer!;
  if (!type.readers.includes(viewer.role)) {
    throw new ForbiddenError(`a ${viewer.role} key may not read ${decoded.typeName} objects`);
  }
  const node = type.load
    ? await type.load(context.loaders, decoded)
    : await type.loader!(context.loaders).load(decoded.rowId);
  const scope = partnerScopeOf(viewer);
  if (!node || scope === null) return node;
  if (!type.ownedBy) return node;
  return (await type.ownedBy(context, node, scope)) ? node : null;
}

@Resolver()
export class NodeResolver {
  @Authorized(anyRole)
  @Query(() => Node, { nullable: true, description: 'Fetches any object by its global ID; null when there is none.' })
  node(@Arg('id', () => ID, { description: 'A global ID.' }) id: string, @Ctx() context: GraphQLContext) {
    return loadNode(context, id);
  }

  @Authorized(anyRole)
  @Query(() => [Node], {
    nullable: 'items',
    description: 'Fetches objects by global IDs, in the order given; null for each ID with no object.',
  })
  nodes(
    @Arg('ids', () => [ID], { description: 'Global IDs, at most the maximum page size.' }) ids: string[],
    @Ctx() context: GraphQLContext,
  ) {
    if (ids.length > context.settings.maxPageSize) {
      throw new BadUserInputError('ids', `at most ${context.settings.maxPageSize} IDs; got ${ids.length}`);
    }
    return Promise.all(ids.map((id) => loadNode(context, id)));
  }
}
