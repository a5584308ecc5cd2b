import { AuthChecker } from 'type-graphql';
import { GraphQLContext } from '../context';
import { Role } from './roles';
import { ForbiddenError, UnauthenticatedError } from './viewer';

/**
 * type-graphql calls this for every field marked `@Authorized(roles)`. It throws rather than
 * returning false so that each refusal carries our code and names the field.
 */
export const authChecker: AuthChecker<GraphQLContext, Role> = ({ context, info }, roles) => {
  if (!context.viewer) throw new UnauthenticatedError();
  if (roles.length > 0 && !roles.includes(context.viewer.role)) {
    throw new ForbiddenError(`a ${context.viewer.role} key may not use ${info.parentType.name}.${info.fieldName}`);
  }
  return true;
};
