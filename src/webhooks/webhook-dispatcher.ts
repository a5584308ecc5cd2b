import { DataSource, EntityManager, In, SelectQueryBuilder, ObjectLiteral } from 'typeorm';
import { Logger } from 'pino';
import { encodeGlobalId } from '../common/global-id';
import { Settings } from '../config';
import { EntityStatements } from '../db/prepared';
import { BackgroundWorker } from '../ops/background-worker';
import { webhookTries } from '../ops/metrics';
import { inTransaction } from '../db/transactions';
import { PartnerEvent } from './partner-event.entity';
import { DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature';
import { TransportResult, WebhookTransport } from './webhook-transport';

const FAN_OUT_BATCH = 100;
const SEND_BATCH = 20;

/** Rows other instances hold are skipped rather than waited for (PostgreSQL; SQLite has one writer). */
function lockSkippingHeld<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, manager: EntityManager) {
  if (manager.connection.driver.options.type === 'postgres')
    query.setLock('pessimistic_write').setOnLocked('skip_locked');
  return query;
}

/** The JSON body of a delivery: the event envelope, the same on every try. */
export function deliveryBody(event: PartnerEvent): string {
  return JSON.stringify({
    id: encodeGlobalId('PartnerEvent', event.id),
    type: event.type,
    occurredAt: event.occurredAt.toISOString(),
    data: event.data,
  });
}

/**
 * Turns the event outbox into deliveries and sends them. At least once: a delivery is claimed by
 * pushing its next try past the time a try can take, so an instance that dies mid-send leaves it
 * due again for any instance. Receivers tell repeats apart by the event id.
 */
export class WebhookDispatcher extends BackgroundWorker {
  private transport: WebhookTransport | null = null;
  private readonly deliveries: EntityStatements<WebhookDelivery>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: Settings,
    logger?: Logger,
  ) {
    super(logger, 'webhook dispatch');
    this.deliveries = new EntityStatements(dataSource, WebhookDelivery);
  }

  protected async work(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const fannedOut = await this.fanOut();
      const sent = await this.sendDue();
      if (fannedOut === 0 && sent === 0) return;
    }
  }

  /** New events become one PENDING delivery per subscribed, enabled endpoint of the event's partner. */
  async fanOut(): Promise<number> {
    // Most rounds find nothing: a plain read first keeps idle instances from opening transactions.
    const waiting = await this.dataSource
      .createQueryBuilder(PartnerEvent, 'event')
      .where('event.fannedOutAt IS NULL')
      .getExists();
    if (!waiting) return 0;
    return inTransaction(this.dataSource, async (manager) => {
      const events = await lockSkippingHeld(
        manager
          .createQueryBuilder(PartnerEvent, 'event')
          .where('event.fannedOutAt IS NULL')
          .orderBy('event.id', 'ASC')
          .limit(FAN_OUT_BATCH),
        manager,
      ).getMany();
      if (events.length === 0) return 0;
      const endpoints = await manager
        .createQueryBuilder(WebhookEndpoint, 'endpoint')
        .where('endpoint.partnerId IN (:...partnerIds)', {
          partnerIds: [...new Set(events.map((event) => event.partnerId))],
        })
        .andWhere('endpoint.disabledAt IS NULL')
        .getMany();
      const now = new Date();
      const rows = events.flatMap((event) =>
        endpoints
          .filter((endpoint) => endpoint.partnerId === event.partnerId && endpoint.eventTypes.includes(event.type))
          .map((endpoint) => ({
            eventId: event.id,
            endpointId: endpoint.id,
            status: DeliveryStatus.PENDING,
            attempts: 0,
            nextAttemptAt: now,
            deliveredAt: null,
            redeliveryOf: null,
          })),
      );
      if (rows.length) await manager.insert(WebhookDelivery, rows);
      await manager.update(PartnerEvent, { id: In(events.map((event) => event.id)) }, { fannedOutAt: now });
      return events.length;
    });
  }

  /** Claims the due deliveries, tries each, and records every try. */
  async sendDue(): Promise<number> {
    const webhooks = this.settings.webhooks;
    const anyDue = await this.dataSource
      .createQueryBuilder(WebhookDelivery, 'delivery')
      .where('delivery.status = :pending', { pending: DeliveryStatus.PENDING })
      .andWhere('delivery.nextAttemptAt <= :now', { now: this.deliveries.persisted('nextAttemptAt', new Date()) })
      .getExists();
    if (!anyDue) return 0;
    const claimed = await inTransaction(this.dataSource, async (manager) => {
      const now = new Date();
      const due = await lockSkippingHeld(
        manager
          .createQueryBuilder(WebhookDelivery, 'delivery')
          .where('delivery.status = :pending', { pending: DeliveryStatus.PENDING })
          .andWhere('delivery.nextAttemptAt <= :now', { now: this.deliveries.persisted('nextAttemptAt', now) })
          .orderBy('delivery.nextAttemptAt', 'ASC')
          .addOrderBy('delivery.id', 'ASC')
          .limit(SEND_BATCH),
        manager,
      ).getMany();
      if (due.length === 0) return [];
      // Claimed until a try must be over: another instance takes it after, if this one died.
      const claimUntil = new Date(now.getTime() + webhooks.timeoutMs * 2);
      await manager.update(
        WebhookDelivery,
        { id: In(due.map((delivery) => delivery.id)) },
        { nextAttemptAt: claimUntil },
      );
      return due;
    });
    if (claimed.length === 0) return 0;
    const events = await this.dataSource.getRepository(PartnerEvent).findBy({
      id: In([...new Set(claimed.map((delivery) => delivery.eventId))]),
    });
    const endpoints = await this.dataSource.getRepository(WebhookEndpoint).findBy({
      id: In([...new Set(claimed.map((delivery) => delivery.endpointId))]),
    });
    const eventById = new Map(events.map((event) => [event.id, event]));
    const endpointById = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
    await Promise.all(
      claimed.map(async (delivery) => {
        const event = eventById.get(delivery.eventId)!;
        const endpoint = endpointById.get(delivery.endpointId)!;
        const result: TransportResult = endpoint.disabledAt
          ? { statusCode: null, error: 'the endpoint was disabled', durationMs: 0 }
          : await this.send(delivery, event, endpoint);
        await this.record(delivery, result, !!endpoint.disabledAt);
      }),
    );
    return claimed.length;
  }

  private send(delivery: WebhookDelivery, event: PartnerEvent, endpoint: WebhookEndpoint): Promise<TransportResult> {
    this.transport ??= new WebhookTransport(this.settings.webhooks);
    const body = deliveryBody(event);
    return this.transport.post(endpoint.url, body, {
      [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, body, Math.floor(Date.now() / 1000)),
      'x-compliance-event-id': encodeGlobalId('PartnerEvent', event.id),
      'x-compliance-delivery-id': encodeGlobalId('WebhookDelivery', delivery.id),
      'user-agent': 'compliance-graph-webhooks/1',
    });
  }

  /** The try's log entry and what follows: delivered, another try after a doubled wait, or given up. */
  private async record(delivery: WebhookDelivery, result: TransportResult, giveUp: boolean): Promise<void> {
    const webhooks = this.settings.webhooks;
    const now = new Date();
    const attempts = delivery.attempts + 1;
    const delivered = result.error === null;
    const exhausted = giveUp || attempts >= webhooks.maxAttempts;
    const wait = Math.min(webhooks.retryBaseMs * 2 ** (attempts - 1), webhooks.retryMaxMs);
    await inTransaction(this.dataSource, async (manager) => {
      await manager.insert(WebhookDeliveryAttempt, {
        deliveryId: delivery.id,
        attemptedAt: now,
        statusCode: result.statusCode,
        error: result.error,
        durationMs: result.durationMs,
      });
      await manager.update(
        WebhookDelivery,
        { id: delivery.id },
        delivered
          ? { status: DeliveryStatus.DELIVERED, attempts, deliveredAt: now }
          : exhausted
            ? { status: DeliveryStatus.FAILED, attempts }
            : { attempts, nextAttemptAt: new Date(now.getTime() + wait) },
      );
    });
    webhookTries.inc({ result: delivered ? 'delivered' : exhausted ? 'failed' : 'retry' });
    if (!delivered)
      this.logger?.warn(
        { deliveryId: encodeGlobalId('WebhookDelivery', delivery.id), attempts, error: result.error },
        exhausted ? 'webhook delivery failed for good' : 'webhook delivery failed; it will be tried again',
      );
  }
}
