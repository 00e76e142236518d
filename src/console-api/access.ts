// Who may use the console's API: the directory's rules (src/directory/access.ts) for these
// endpoints. Auth off (loopback only): everyone, everything. Auth on: another tenant is "not found",
// never "forbidden"; reading needs viewer; writing, running code and reading code need developer.
import { checkAccess, type Principal, type Role } from '@aerogrid/sidecar/auth';
import { ApiError } from './errors.js';

export type { Principal };

/** Reading: templates, a tenant's topics, releases. */
export const READ: Role = 'viewer';
/** Drafting, validating, trying, deploying, restoring, and reading an app's code. */
export const WRITE: Role = 'developer';

/**
 * Throws unless the caller may do what needs `role` in `tenant` (undefined: the caller's own).
 * `missing` is the 404 message: another tenant's app looks as missing as one that does not exist.
 */
export function authorise(principal: Principal | null, role: Role, tenant: string | undefined, missing: string): void {
  if (!principal) return;
  const decision = checkAccess(principal, { tenant: tenant ?? principal.tenant, role });
  if (decision.ok) return;
  throw decision.code === 'not_found' ? new ApiError(404, 'not_found', missing) : new ApiError(403, 'forbidden', decision.message);
}

/** The audit trail of a change the directory commits: who asked, as the token says (one line, whatever the claim held). */
export function requestedBy(principal: Principal | null): Record<string, string> {
  return principal ? { 'AeroGrid-Requested-By': `${principal.subject.replace(/[\r\n]+/g, ' ').slice(0, 200)} (tenant ${principal.tenant}, via the directory)` } : {};
}
