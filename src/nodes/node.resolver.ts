import DataLoader from 'dataloader';
import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { BadUserInputError } from '../common/errors';
import { decodeGlobalId } from '../common/global-id';
import { Node } from '../common/node';
import { GraphQLContext } from '../context';
import { Loaders } from '../loaders';

/** Which loader refetches each Node type. A type missing here cannot be refetched: add it. */
const loaderOfType: Record<string, (loaders: Loaders) => DataLoader<number, Node | null>> = {
  Region: (loaders) => loaders.regionById,
  Partner: (loaders) => loaders.partnerById,
  DeviceModel: (loaders) => loaders.deviceModelById,
  Device: (loaders) => loaders.deviceById,
  Policy: (loaders) => loaders.policyById,
  PolicyVersion: (loaders) => loaders.policyVersionById,
  ActivationAttempt: (loaders) => loaders.activationAttemptById,
  Exemption: (loaders) => loaders.exemptionById,
  AuditEvent: (loaders) => loaders.auditEventById,
};

async function loadNode(context: GraphQLContext, globalId: string): Promise<Node | null> {
  const decoded = decodeGlobalId(globalId);
  const loaderOf = decoded && loaderOfType[decoded.typeName];
  return loaderOf ? loaderOf(context.loaders).load(decoded.rowId) : null;
}

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Fetches any object by its global ID; null when there is none.' })
  node(@Arg('id', () => ID, { description: 'A global ID.' }) id: string, @Ctx() context: GraphQLContext) {
    return loadNode(context, id);
  }

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
