import { ArgsType, Field, Int } from 'type-graphql';
import { DEFAULT_PAGE_SIZE, PageArgs } from './connection';

@ArgsType()
export class ConnectionArgs implements PageArgs {
  @Field(() => Int, {
    nullable: true,
    description: `Returns the first n items (1 to the maximum page size, MAX_PAGE_SIZE: 100 unless configured otherwise). Without \`first\` and \`last\`, the first ${DEFAULT_PAGE_SIZE}.`,
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Returns the items after this cursor.' })
  after?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: `Returns the last n items (1 to the maximum page size). Without \`first\` and \`last\`, the first ${DEFAULT_PAGE_SIZE}.`,
  })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'Returns the items before this cursor.' })
  before?: string | null;
}
