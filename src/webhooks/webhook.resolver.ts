import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { access } from '../auth/roles';
import { ConnectionArgs } from '../common/connection-args';
import { runMutation } from '../common/mutation';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { Partner } from '../partners/partner.entity';
import { PartnerEvent } from './partner-event.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { deliveryBody } from './webhook-dispatcher';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import {
  createWebhookEndpoint,
  disableWebhookEndpoint,
  queryDeliveries,
  queryEndpoints,
  redeliverWebhook,
} from './webhook.service';
import {
  CreateWebhookEndpointInput,
  CreateWebhookEndpointPayload,
  DisableWebhookEndpointPayload,
  RedeliverWebhookInput,
  RedeliverWebhookPayload,
  WebhookDeliveryAttemptConnection,
  WebhookDeliveryConnection,
  WebhookDeliveryFilter,
  WebhookEndpointConnection,
  WebhookEndpointInput,
  deliverySort,
  endpointSort,
} from './webhook.types';

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @Authorized(access.readWebhooks)
  @Query(() => WebhookEndpointConnection, {
    description: 'Webhook endpoints, newest first; a partner sees its own.',
  })
  webhookEndpoints(@Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    return paginateQuery(queryEndpoints(context.dataSource.manager, context), endpointSort, context.pageWindow(page));
  }

  @Authorized(access.readWebhooks)
  @Query(() => WebhookDeliveryConnection, {
    description: 'Webhook deliveries, newest first; a partner sees those to its own endpoints.',
  })
  webhookDeliveries(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => WebhookDeliveryFilter, { nullable: true, description: 'Conditions the deliveries must meet.' })
    filter: WebhookDeliveryFilter | null,
    @Ctx() context: GraphQLContext,
  ) {
    return paginateQuery(
      queryDeliveries(context.dataSource.manager, context, filter),
      deliverySort,
      context.pageWindow(page),
    );
  }

  @Authorized(access.manageWebhooks)
  @Mutation(() => CreateWebhookEndpointPayload, {
    description:
      "Registers an HTTPS endpoint for events about a partner's devices: signed deliveries, retried with " +
      'exponential backoff. The signing secret is in the payload, once.',
  })
  async createWebhookEndpoint(
    @Arg('input', () => CreateWebhookEndpointInput, { description: 'The endpoint.' }) input: CreateWebhookEndpointInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreateWebhookEndpointPayload> {
    const outcome = await runMutation(context, input, (manager) => createWebhookEndpoint(manager, context, input));
    return {
      endpoint: outcome.result?.endpoint ?? null,
      secret: outcome.result?.secret ?? null,
      userErrors: outcome.userErrors,
    };
  }

  @Authorized(access.manageWebhooks)
  @Mutation(() => DisableWebhookEndpointPayload, {
    description: 'Disables an endpoint: nothing more is sent to it, pending deliveries included.',
  })
  disableWebhookEndpoint(
    @Arg('input', () => WebhookEndpointInput, { description: 'The endpoint.' }) input: WebhookEndpointInput,
    @Ctx() context: GraphQLContext,
  ) {
    return runMutation(context, input, (manager) => disableWebhookEndpoint(manager, context, input));
  }

  @Authorized(access.manageWebhooks)
  @Mutation(() => RedeliverWebhookPayload, {
    description: 'Sends a delivery’s event to its endpoint again, as a new delivery with tries of its own.',
  })
  async redeliverWebhook(
    @Arg('input', () => RedeliverWebhookInput, { description: 'The delivery.' }) input: RedeliverWebhookInput,
    @Ctx() context: GraphQLContext,
  ) {
    const outcome = await runMutation(context, input, (manager) => redeliverWebhook(manager, context, input));
    if (outcome.result) context.services.webhooks.wake();
    return outcome;
  }

  @FieldResolver(() => Partner, { description: 'The partner it belongs to.' })
  partner(@Root() endpoint: WebhookEndpoint, @Ctx() context: GraphQLContext) {
    return context.loaders.partnerById.load(endpoint.partnerId);
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: 'Deliveries to it, newest first.' })
  deliveries(@Root() endpoint: WebhookEndpoint, @Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    return context.loaders.deliveriesByEndpoint.load({ parentId: endpoint.id, window: context.pageWindow(page) });
  }
}

@Resolver(() => WebhookDelivery)
export class WebhookDeliveryResolver {
  @FieldResolver(() => PartnerEvent, { description: 'The event delivered.' })
  event(@Root() delivery: WebhookDelivery, @Ctx() context: GraphQLContext) {
    return context.loaders.partnerEventById.load(delivery.eventId);
  }

  @FieldResolver(() => WebhookEndpoint, { description: 'Where it goes.' })
  endpoint(@Root() delivery: WebhookDelivery, @Ctx() context: GraphQLContext) {
    return context.loaders.webhookEndpointById.load(delivery.endpointId);
  }

  @FieldResolver(() => WebhookDeliveryAttemptConnection, { description: 'Every try, oldest first.' })
  attemptLog(@Root() delivery: WebhookDelivery, @Args() page: ConnectionArgs, @Ctx() context: GraphQLContext) {
    return context.loaders.attemptLogByDelivery.load({ parentId: delivery.id, window: context.pageWindow(page) });
  }

  @FieldResolver(() => WebhookDelivery, { nullable: true, description: 'The delivery this one repeats, if any.' })
  redeliveryOf(@Root() delivery: WebhookDelivery, @Ctx() context: GraphQLContext) {
    return delivery.redeliveryOf === null ? null : context.loaders.webhookDeliveryById.load(delivery.redeliveryOf);
  }
}

@Resolver(() => PartnerEvent)
export class PartnerEventResolver {
  @FieldResolver(() => Device, { description: 'The device it is about.' })
  device(@Root() event: PartnerEvent, @Ctx() context: GraphQLContext) {
    return context.loaders.deviceById.load(event.deviceId);
  }

  @FieldResolver(() => String, { description: 'The JSON body sent to endpoints, exactly as signed.' })
  body(@Root() event: PartnerEvent): string {
    return deliveryBody(event);
  }
}

export const webhookResolvers = [WebhookEndpointResolver, WebhookDeliveryResolver, PartnerEventResolver] as const;
