// Who may see and change what in the directory. Auth off (loopback only): everyone sees every
// tenant's apps and may do everything. Auth on: the token's tenant scopes everything; another
// tenant's app is "not found", never "forbidden"; reading needs the role viewer, stop, start and
// delete need developer.
import type { IncomingMessage } from 'node:http';
import { AuthError, checkAccess, createAuthenticator, hasRole, type AuthOptions, type Principal, type Role } from '@aerogrid/sidecar/auth';

export type { Principal };

export interface Access {
  /** false: auth is off. */
  readonly enabled: boolean;
  /** The caller (null when auth is off); throws AuthError('unauthorized') without a good token. */
  fromRequest(req: IncomingMessage): Promise<Principal | null>;
  verify(token: string): Promise<Principal | null>;
  close(): void;
}

export class AccessDenied extends Error {
  constructor(readonly code: 'not_found' | 'forbidden', message: string) {
    super(message);
    this.name = 'AccessDenied';
  }
}

export function createAccess(auth: AuthOptions | undefined): Access {
  if (!auth) {
    return { enabled: false, fromRequest: async () => null, verify: async () => null, close: () => undefined };
  }
  const authenticator = createAuthenticator(auth);
  return {
    enabled: true,
    fromRequest: (req) => authenticator.fromRequest(req),
    verify: (token) => authenticator.verify(token),
    close: () => authenticator.close(),
  };
}

/** Apps of the caller's tenant (all of them when auth is off). */
export function visibleTo<T extends { tenant: string }>(principal: Principal | null, apps: T[]): T[] {
  return principal ? apps.filter((a) => a.tenant === principal.tenant) : apps;
}

/**
 * Throws AccessDenied unless the caller may do what needs `role` to an app of `tenant`
 * (`tenant` undefined: the caller's own tenant, e.g. listing).
 */
export function requireAccess(principal: Principal | null, role: Role, tenant?: string): void {
  if (!principal) return;
  const decision = checkAccess(principal, { tenant: tenant ?? principal.tenant, role });
  if (!decision.ok) throw new AccessDenied(decision.code, decision.message);
}

/** The actions on apps (stop, start, delete, rollback) the caller may take: all with auth off. */
export function allowedActions(principal: Principal | null): Array<'stop' | 'start' | 'delete' | 'rollback'> {
  return !principal || hasRole(principal, 'developer') ? ['stop', 'start', 'rollback', 'delete'] : [];
}

export { AuthError };
