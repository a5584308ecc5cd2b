import { EntityManager, SelectQueryBuilder } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { isVisiblePartnerRow, partnerScopeOf } from '../auth/viewer';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { findByGlobalId } from '../common/find-by-global-id';
import { rowIdOf } from '../common/global-id';
import { RequestScope } from '../common/request-scope';
import { partnerInScope } from '../partners/partner.service';
import { DeliveryStatus, WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { generateWebhookSecret } from './webhook-signature';
import { endpointUrlProblem } from './webhook-transport';
import {
  CreateWebhookEndpointInput,
  RedeliverWebhookInput,
  WebhookDeliveryFilter,
  WebhookEndpointInput,
} from './webhook.types';

/** An endpoint the caller may change; another partner's reads as missing, like a wrong ID. */
async function ownEndpoint(manager: EntityManager, context: RequestScope, id: string, field: string) {
  const endpoint = await findByGlobalId(manager, WebhookEndpoint, id);
  if (!endpoint || !isVisiblePartnerRow(context.viewer, endpoint))
    throw new UserErrorsAbort([userError([field], UserErrorCode.NOT_FOUND, 'no webhook endpoint has this ID')]);
  return endpoint;
}

export async function createWebhookEndpoint(
  manager: EntityManager,
  context: RequestScope,
  input: CreateWebhookEndpointInput,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const errors = [];
  let partnerId: number | null = partnerScopeOf(context.viewer);
  if (input.partnerId) {
    const partner = await partnerInScope(manager, context, input.partnerId);
    if (!partner) errors.push(userError(['partnerId'], UserErrorCode.NOT_FOUND, 'no partner has this ID'));
    else partnerId = partner.id;
  } else if (partnerId === null) {
    errors.push(userError(['partnerId'], UserErrorCode.REQUIRED, 'partnerId is required for a key of no partner'));
  }
  const problem = endpointUrlProblem(input.url.trim(), context.settings.webhooks);
  if (problem) errors.push(userError(['url'], UserErrorCode.INVALID, problem));
  input.eventTypes.forEach((type, index) => {
    if (input.eventTypes.indexOf(type) !== index)
      errors.push(userError(['eventTypes', index], UserErrorCode.DUPLICATE, `${type} is listed twice`));
  });
  if (errors.length) throw new UserErrorsAbort(errors);
  const secret = generateWebhookSecret();
  const endpoint = await manager.save(
    manager.create(WebhookEndpoint, {
      partnerId: partnerId!,
      url: input.url.trim(),
      eventTypes: input.eventTypes,
      description: input.description?.trim() ?? '',
      secret,
      createdBy: context.actor,
      disabledAt: null,
    }),
  );
  const { secret: _secret, ...shown } = endpoint;
  await recordAuditEvent(manager, context, {
    action: 'webhookEndpoint.create',
    targetType: 'WebhookEndpoint',
    targetRowId: endpoint.id,
    before: null,
    after: shown,
  });
  return { endpoint, secret };
}

export async function disableWebhookEndpoint(
  manager: EntityManager,
  context: RequestScope,
  input: WebhookEndpointInput,
) {
  const endpoint = await ownEndpoint(manager, context, input.id, 'id');
  if (endpoint.disabledAt)
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.INVALID_STATE, 'the endpoint is already disabled')]);
  endpoint.disabledAt = new Date();
  await manager.update(WebhookEndpoint, { id: endpoint.id }, { disabledAt: endpoint.disabledAt });
  await recordAuditEvent(manager, context, {
    action: 'webhookEndpoint.disable',
    targetType: 'WebhookEndpoint',
    targetRowId: endpoint.id,
    before: { disabledAt: null },
    after: { disabledAt: endpoint.disabledAt },
  });
  return endpoint;
}

/** The same event to the same endpoint once more, as a new delivery with tries of its own. */
export async function redeliverWebhook(manager: EntityManager, context: RequestScope, input: RedeliverWebhookInput) {
  const original = await findByGlobalId(manager, WebhookDelivery, input.deliveryId);
  const endpoint = original && (await manager.findOneBy(WebhookEndpoint, { id: original.endpointId }));
  if (!original || !endpoint || !isVisiblePartnerRow(context.viewer, endpoint))
    throw new UserErrorsAbort([userError(['deliveryId'], UserErrorCode.NOT_FOUND, 'no webhook delivery has this ID')]);
  if (endpoint.disabledAt)
    throw new UserErrorsAbort([
      userError(['deliveryId'], UserErrorCode.INVALID_STATE, 'its endpoint is disabled: nothing would be sent'),
    ]);
  const delivery = await manager.save(
    manager.create(WebhookDelivery, {
      eventId: original.eventId,
      endpointId: original.endpointId,
      status: DeliveryStatus.PENDING,
      attempts: 0,
      nextAttemptAt: new Date(),
      deliveredAt: null,
      redeliveryOf: original.id,
    }),
  );
  await recordAuditEvent(manager, context, {
    action: 'webhookDelivery.redeliver',
    targetType: 'WebhookDelivery',
    targetRowId: delivery.id,
    before: null,
    after: { redeliveryOf: original.globalId, endpointId: endpoint.globalId },
  });
  return delivery;
}

export function queryEndpoints(manager: EntityManager, context: RequestScope): SelectQueryBuilder<WebhookEndpoint> {
  const query = manager.createQueryBuilder(WebhookEndpoint, 'endpoint');
  const scope = partnerScopeOf(context.viewer);
  if (scope !== null) query.andWhere('endpoint.partnerId = :scope', { scope });
  return query;
}

export function queryDeliveries(
  manager: EntityManager,
  context: RequestScope,
  filter: WebhookDeliveryFilter | null,
): SelectQueryBuilder<WebhookDelivery> {
  const query = manager.createQueryBuilder(WebhookDelivery, 'delivery');
  const scope = partnerScopeOf(context.viewer);
  if (scope !== null)
    query
      .innerJoin(WebhookEndpoint, 'endpoint', 'endpoint.id = delivery.endpointId')
      .andWhere('endpoint.partnerId = :scope', {
        scope,
      });
  if (filter?.endpointId)
    query.andWhere('delivery.endpointId = :endpointId', {
      endpointId: rowIdOf(filter.endpointId, 'WebhookEndpoint') ?? -1,
    });
  if (filter?.statuses)
    query.andWhere('delivery.status IN (:...statuses)', { statuses: filter.statuses.length ? filter.statuses : [''] });
  return query;
}
