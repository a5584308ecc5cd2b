import { ArrayMaxSize, ArrayMinSize, IsOptional } from 'class-validator';
import { TextLength } from '../common/text-length';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { ConnectionType, SortDirection, byId } from '../common/connection';
import { UserError } from '../common/errors';
import { MutationPayload } from '../common/payload';
import { PartnerEventType } from './partner-event.entity';
import { DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export const WebhookEndpointConnection = ConnectionType(
  WebhookEndpoint,
  'WebhookEndpoint',
  'A page of webhook endpoints.',
);
export const WebhookDeliveryConnection = ConnectionType(
  WebhookDelivery,
  'WebhookDelivery',
  'A page of webhook deliveries.',
);
export const WebhookDeliveryAttemptConnection = ConnectionType(
  WebhookDeliveryAttempt,
  'WebhookDeliveryAttempt',
  'A page of tries of a webhook delivery.',
);

export const endpointSort = byId<WebhookEndpoint>(SortDirection.DESC);
export const deliverySort = byId<WebhookDelivery>(SortDirection.DESC);
/** Tries in the order they happened. */
export const attemptLogSort = byId<WebhookDeliveryAttempt>(SortDirection.ASC);

@InputType({ description: 'An HTTPS endpoint to receive events about a partner’s devices.' })
export class CreateWebhookEndpointInput {
  @Field(() => ID, {
    nullable: true,
    description: "Global ID of the partner; a PARTNER key's own partner when omitted (and the only one it may give).",
  })
  partnerId?: string | null;

  @TextLength(1, 2000, 'url must be 1 to 2000 characters')
  @Field({ description: 'The HTTPS URL to POST events to.' })
  url: string;

  @ArrayMinSize(1, { message: 'eventTypes must name at least one event type' })
  @ArrayMaxSize(10, { message: 'eventTypes can name at most 10 event types' })
  @Field(() => [PartnerEventType], { description: 'The events to receive.' })
  eventTypes: PartnerEventType[];

  @IsOptional()
  @TextLength(0, 200, 'description must be at most 200 characters')
  @Field(() => String, { nullable: true, description: 'What it is for.' })
  description?: string | null;
}

@ObjectType({ description: 'Result of createWebhookEndpoint.' })
export class CreateWebhookEndpointPayload {
  @Field(() => WebhookEndpoint, { nullable: true, description: 'The endpoint; null when there are user errors.' })
  endpoint: WebhookEndpoint | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The signing secret: verify `X-Compliance-Signature` (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`) ' +
      'with it. Shown this once.',
  })
  secret: string | null;

  @Field(() => [UserError], {
    description: 'What was wrong with the input; empty on success. Nothing is written when any exists.',
  })
  userErrors: UserError[];
}

@InputType({ description: 'A webhook endpoint.' })
export class WebhookEndpointInput {
  @Field(() => ID, { description: 'Global ID of the endpoint.' })
  id: string;
}

@InputType({ description: 'A delivery to send again.' })
export class RedeliverWebhookInput {
  @Field(() => ID, { description: 'Global ID of the delivery to repeat (any status).' })
  deliveryId: string;
}

@InputType({ description: 'Conditions on webhook deliveries.' })
export class WebhookDeliveryFilter {
  @Field(() => ID, { nullable: true, description: 'Only deliveries to this endpoint.' })
  endpointId?: string | null;

  @Field(() => [DeliveryStatus], { nullable: true, description: 'Only deliveries in one of these states.' })
  statuses?: DeliveryStatus[] | null;
}

export const DisableWebhookEndpointPayload = MutationPayload(WebhookEndpoint, 'endpoint', 'disableWebhookEndpoint');
export const RedeliverWebhookPayload = MutationPayload(WebhookDelivery, 'delivery', 'redeliverWebhook');
