import { ArgsType, Field, Int } from 'type-graphql';
import { PageArgs } from './connection';

@ArgsType()
export class ConnectionArgs implements PageArgs {
  @Field(() => Int, {
    nullable: true,
    description: 'Returns the first n items (1 to the maximum page size, 100 by default).',
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Returns the items after this cursor.' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: 'Returns the last n items (1 to the maximum page size).' })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'Returns the items before this cursor.' })
  before?: string | null;
}
