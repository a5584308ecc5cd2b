import { Ctx, Field, Int, ObjectType, Query, Resolver, Authorized } from 'type-graphql';
import { GraphQLContext } from '../context';
import { WINDOW_SECONDS } from './rate-limit';
import { anyRole } from './roles';

@ObjectType('RateLimit', { description: "The calling key's request budget in the current window." })
export class RateLimitType {
  @Field(() => Int, { description: 'Requests the key may make per window.' })
  limit: number;

  @Field(() => Int, { description: 'Requests left in the current window.' })
  remaining: number;

  @Field({ description: 'Timestamp when the current window ends and the budget is whole again.' })
  resetAt: Date;

  @Field(() => Int, { description: 'Length of a window in seconds.' })
  windowSeconds: number;
}

@Resolver()
export class RateLimitResolver {
  @Authorized(anyRole)
  @Query(() => RateLimitType, {
    nullable: true,
    description:
      "The caller's request budget, as the RateLimit headers and `extensions.cost` give it; a request that asks only for this (and `__typename`) spends none. Null when the request was not counted (not over HTTP).",
  })
  rateLimit(@Ctx() context: GraphQLContext): RateLimitType | null {
    const result = context.rateLimit;
    if (!result) return null;
    return { limit: result.limit, remaining: result.remaining, resetAt: result.resetAt, windowSeconds: WINDOW_SECONDS };
  }
}
