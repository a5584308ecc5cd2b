import { GraphQLError } from 'graphql';
import { Role } from './roles';

/** The authenticated caller of a request. */
export interface Viewer {
  /** Row id of the API key; null for the bootstrap key from COMPLIANCE_ADMIN_KEY and for internal callers. */
  keyId: number | null;
  name: string;
  role: Role;
  /** Set for PARTNER keys: the only partner whose rows the caller may see. */
  partnerId: number | null;
  /** Set for keys that may only run persisted operations (sent by hash, registered ahead). */
  registeredOperationsOnly?: boolean;
  /** When the key stops working (a subscription's connection is closed then); absent when it never does. */
  expiresAt?: Date | null;
  /** Seeds, scripts and tests: no key, full rights, named as themselves in the audit trail. */
  internal?: boolean;
}

/** How the audit trail names a caller: key name and role. */
export function actorOf(viewer: Viewer): string {
  return viewer.internal ? viewer.name : `${viewer.name} (${viewer.role})`;
}

export class UnauthenticatedError extends GraphQLError {
  constructor(message = 'this operation needs an API key: send `Authorization: Bearer <key>`') {
    super(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

export class ForbiddenError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'FORBIDDEN' } });
  }
}

/**
 * The caller, when it has one of these roles (none: any role): GraphQL's @Authorized fields and the
 * HTTP routes check rights with this one function. `what` says what was refused ("use Query.x").
 */
export function requireRole(viewer: Viewer | null, roles: readonly Role[], what: string): Viewer {
  if (!viewer) throw new UnauthenticatedError();
  if (roles.length > 0 && !roles.includes(viewer.role))
    throw new ForbiddenError(`a ${viewer.role} key may not ${what}`);
  return viewer;
}

/** The partner a caller is confined to, or null when it may see every partner's rows. */
export function partnerScopeOf(viewer: Viewer | null): number | null {
  return viewer?.role === Role.PARTNER ? viewer.partnerId : null;
}

/** Internal callers (seeds, scripts, tests) act with full rights under a name of their own. */
export function internalViewer(name: string): Viewer {
  return { keyId: null, name, role: Role.ADMIN, partnerId: null, internal: true };
}

/** Whether the caller may see a partner's row (a device, an endpoint): always, unless it is a PARTNER and the row another's. */
export function isVisiblePartnerRow(viewer: Viewer | null, row: { partnerId: number }): boolean {
  const scope = partnerScopeOf(viewer);
  return scope === null || row.partnerId === scope;
}
