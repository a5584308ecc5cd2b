import { Arg, Args, Authorized, Ctx, Field, ID, InputType, Query, Resolver } from 'type-graphql';
import { Role, access } from '../auth/roles';
import { ConnectionArgs } from '../common/connection-args';
import { ConnectionType, SortDirection, defineOrder } from '../common/connection';
import { checkTimeRange } from '../common/filter-bounds';
import { decodeGlobalId, encodeGlobalId } from '../common/global-id';
import { paginateQuery } from '../common/sql-pagination';
import { GraphQLContext } from '../context';
import { AuditEvent } from './audit-event.entity';
import { FORMER_DEVICE_ACTIONS } from '../devices/device-lifecycle';

export const AuditEventConnection = ConnectionType(AuditEvent, 'AuditEvent', 'A page of the audit trail.');

const auditEventOrder = defineOrder<AuditEvent, 'OCCURRED_AT'>(
  'AuditEvent',
  'audit events',
  {
    OCCURRED_AT: {
      property: 'occurredAt',
      description: 'When the change was made.',
      valueOf: (event) => event.occurredAt,
    },
  },
  'OCCURRED_AT',
  SortDirection.DESC,
);
export const AuditEventOrder = auditEventOrder.OrderInput;
export type AuditEventOrder = InstanceType<typeof AuditEventOrder>;
const auditSort = auditEventOrder.sortOf;

@InputType({ description: 'Narrows the audit trail; all given conditions must hold.' })
export class AuditEventFilter {
  @Field(() => String, { nullable: true, description: 'Only changes by this actor.' })
  actor?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only changes made with the API key of this global ID.' })
  actorKeyId?: string | null;

  @Field(() => [Role], { nullable: true, description: "Only changes made with these roles' keys." })
  actorRoles?: Role[] | null;

  @Field(() => [String], {
    nullable: true,
    description:
      'Only these actions, e.g. `policy.update`, `device.lock`. A former name of a renamed action (`device.locked`, `device.active`, `device.under_review`) finds the renamed events.',
  })
  actions?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Only changes to objects of these GraphQL types, e.g. `Device`, `Policy`.',
  })
  targetTypes?: string[] | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'Only changes to the object with this global ID, as their target or as the related object (`relatedTargetId`): a change request finds its own events and those recorded on its policy.',
  })
  targetId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Only changes at or after this instant.' })
  occurredFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only changes before this instant.' })
  occurredBefore?: Date | null;
}

@Resolver(() => AuditEvent)
export class AuditEventResolver {
  @Authorized(access.readAudit)
  @Query(() => AuditEventConnection, { description: 'The append-only audit trail, newest first.' })
  auditEvents(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => AuditEventFilter, { nullable: true, description: 'Conditions the entries must meet.' })
    filter: AuditEventFilter | null,
    @Arg('orderBy', () => AuditEventOrder, {
      nullable: true,
      description: 'Order of the list; newest first by default.',
    })
    orderBy: AuditEventOrder | null,
    @Ctx() context: GraphQLContext,
  ) {
    const window = context.pageWindow(page);
    const qb = context.dataSource.getRepository(AuditEvent).createQueryBuilder('event');
    if (filter?.actor) qb.andWhere('event.actor = :actor', { actor: filter.actor });
    if (filter?.actorKeyId) qb.andWhere('event.actorKeyId = :actorKeyId', { actorKeyId: filter.actorKeyId });
    if (filter?.actions) {
      // Migration 1765610000000 renamed every stored row, so only today's names are stored: a former
      // name a client still sends is read as today's (the field's description promises it), never
      // looked up itself.
      const actions = filter.actions.map((action) => FORMER_DEVICE_ACTIONS.get(action) ?? action);
      qb.andWhere('event.action IN (:...actions)', { actions: actions.length ? actions : [''] });
    }
    if (filter?.actorRoles)
      qb.andWhere('event.actorRole IN (:...actorRoles)', {
        actorRoles: filter.actorRoles.length ? filter.actorRoles : [''],
      });
    if (filter?.targetTypes)
      qb.andWhere('event.targetType IN (:...targetTypes)', {
        targetTypes: filter.targetTypes.length ? filter.targetTypes : [''],
      });
    if (filter?.targetId)
      qb.andWhere('(event.targetId = :targetId OR event.relatedTargetId = :targetId)', {
        targetId: auditTargetIdOf(filter.targetId),
      });
    checkTimeRange('filter.occurredBefore', 'occurredFrom', filter?.occurredFrom, filter?.occurredBefore);
    if (filter?.occurredFrom) qb.andWhere('event.occurredAt >= :from', { from: filter.occurredFrom });
    if (filter?.occurredBefore) qb.andWhere('event.occurredAt < :before', { before: filter.occurredBefore });
    return paginateQuery(qb, auditSort(orderBy), window);
  }
}

/**
 * The trail names its targets by type and row (an attempt's ID without its month, as before IDs
 * named it): an attempt's ID as the API gives it now finds the entries written before and after.
 */
function auditTargetIdOf(globalId: string): string {
  const decoded = decodeGlobalId(globalId);
  return decoded?.month ? encodeGlobalId(decoded.typeName, decoded.rowId) : globalId;
}
