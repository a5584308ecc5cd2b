import { Field, ID, InterfaceType } from 'type-graphql';
import { encodeGlobalId } from './global-id';

/**
 * Every entity type implements Node: its `id` is an opaque global ID, refetchable through
 * `node(id:)`. The GraphQL type name is the entity's class name.
 */
@InterfaceType({ description: 'An object with a globally unique, opaque ID that `node(id:)` can refetch.' })
export abstract class Node {
  /** Database row id; never exposed, the API speaks only in global IDs. */
  abstract id: number;

  @Field(() => ID, { name: 'id', description: 'Opaque global ID of the object.' })
  get globalId(): string {
    return encodeGlobalId(this.constructor.name, this.id);
  }
}
