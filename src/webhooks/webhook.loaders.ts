import { DataSource } from 'typeorm';
import { createChildConnectionLoader, createEntityLoader } from '../common/loaders';
import { PartnerEvent } from './partner-event.entity';
import { WebhookDelivery, WebhookDeliveryAttempt } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { attemptLogSort, deliverySort } from './webhook.types';

export function createWebhookLoaders(dataSource: DataSource) {
  return {
    webhookEndpointById: createEntityLoader<WebhookEndpoint, number>(dataSource, WebhookEndpoint),
    webhookDeliveryById: createEntityLoader<WebhookDelivery, number>(dataSource, WebhookDelivery),
    webhookDeliveryAttemptById: createEntityLoader<WebhookDeliveryAttempt, number>(dataSource, WebhookDeliveryAttempt),
    partnerEventById: createEntityLoader<PartnerEvent, number>(dataSource, PartnerEvent),
    deliveriesByEndpoint: createChildConnectionLoader<WebhookDelivery>(dataSource, {
      entity: WebhookDelivery,
      parentProperty: 'endpointId',
      sortFor: () => deliverySort,
    }),
    attemptLogByDelivery: createChildConnectionLoader<WebhookDeliveryAttempt>(dataSource, {
      entity: WebhookDeliveryAttempt,
      parentProperty: 'deliveryId',
      sortFor: () => attemptLogSort,
    }),
  };
}
