import { AuthChecker } from 'type-graphql';
import { GraphQLContext } from '../context';
import { Role } from './roles';
import { requireRole } from './viewer';

/**
 * type-graphql calls this for every field marked `@Authorized(roles)`. It throws rather than
 * returning false so that each refusal carries our code and names the field.
 */
export const authChecker: AuthChecker<GraphQLContext, Role> = ({ context, info }, roles) => {
  requireRole(context.viewer, roles, `use ${info.parentType.name}.${info.fieldName}`);
  return true;
};
