/**
 * OIDC access-token authentication and role/tenant authorisation, shared by the sidecar,
 * `aerogrid dev` and `aerogrid serve` (docs/protocol.md "Authentication").
 *
 * Tokens are JWTs verified against the issuer's JWKS: signature, issuer, audience, expiry,
 * not-before and an algorithm allow-list (never `none`, never HMAC: a shared secret cannot come
 * from a public JWKS, and HMAC keyed with a public key is the classic confusion attack).
 */
import type { IncomingMessage } from 'node:http';
// jose is loaded with the first token: a sidecar without auth never needs it (about 10 MB of RSS).
import type { JWTPayload } from 'jose';
import { JwksCache } from './jwks.js';
import { CLOCK_TOLERANCE_S } from './connection-auth.js';
import { isLoopback, isSecureOrLoopback } from './loopback.js';

export { isLoopback } from './loopback.js';
export * from './connection-auth.js';

export type Role = 'viewer' | 'developer' | 'admin';

export interface AuthOptions {
  issuer: string;
  audience: string;
  /** Default: `jwks_uri` from `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** Default 'tenant'. URL-style names ('https://aerogrid.dev/tenant') are plain keys. */
  tenantClaim?: string;
  /** Default 'roles' (a string or an array of strings). */
  rolesClaim?: string;
  /** Default 'groups'. */
  groupsClaim?: string;
  /** Allow-list, default ['RS256','PS256','ES256','EdDSA']; 'none' and HS* are refused. */
  algorithms?: string[];
  /** Least time between two JWKS refetches caused by an unknown `kid` (default 30 s). */
  jwksCooldownMs?: number;
  /** Age after which the cached JWKS is refetched (default 10 min); a failed refetch keeps the cached keys. */
  jwksMaxAgeMs?: number;
}

export interface Principal {
  subject: string;
  tenant: string;
  roles: ReadonlySet<Role>;
  groups: readonly string[];
  /** Epoch milliseconds. */
  expiresAt: number;
}

export class AuthError extends Error {
  readonly code: 'unauthorized' | 'forbidden';
  constructor(code: 'unauthorized' | 'forbidden', message: string) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
  }
}

/** Bad auth configuration (flags or environment): the message names the setting and the fix. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

export interface Authenticator {
  readonly options: Readonly<AuthOptions>;
  verify(token: string): Promise<Principal>;
  /** `Authorization: Bearer <jwt>`. */
  fromRequest(req: IncomingMessage): Promise<Principal>;
  close(): void;
}

export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const ROLES: readonly Role[] = ['viewer', 'developer', 'admin'];
const MAX_TOKEN_CHARS = 16 * 1024;

function checkedAlgorithms(list: string[] | undefined): string[] {
  const algorithms = list ?? DEFAULT_ALGORITHMS;
  const bad = algorithms.filter((a) => a.toLowerCase() === 'none' || /^HS/i.test(a));
  if (bad.length || algorithms.length === 0) {
    throw new AuthConfigError(`token algorithms ${JSON.stringify(algorithms)} are not allowed: use asymmetric ones such as ${DEFAULT_ALGORITHMS.join(', ')}`);
  }
  return algorithms;
}

/** `warn` hears about the server's own trouble (the issuer's keys cannot be fetched), not about bad tokens. */
export function createAuthenticator(options: AuthOptions, hooks: { warn?: (message: string) => void } = {}): Authenticator {
  const algorithms = checkedAlgorithms(options.algorithms);
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const rolesClaim = options.rolesClaim ?? 'roles';
  const groupsClaim = options.groupsClaim ?? 'groups';
  const jwks = new JwksCache({ issuer: options.issuer, jwksUri: options.jwksUri, cooldownMs: options.jwksCooldownMs, maxAgeMs: options.jwksMaxAgeMs, onFetchError: hooks.warn });

  async function verify(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token === '') throw new AuthError('unauthorized', 'no token: send an OIDC access token');
    if (token.length > MAX_TOKEN_CHARS) throw new AuthError('unauthorized', `token too long (over ${MAX_TOKEN_CHARS} characters)`);
    let payload: JWTPayload;
    try {
      ({ payload } = await (await import('jose')).jwtVerify(token, jwks.getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw new AuthError('unauthorized', describeVerifyError(err, options, algorithms, (await import('jose')).errors));
    }
    const tenant = payload[tenantClaim];
    if (typeof tenant !== 'string' || tenant === '') {
      throw new AuthError('unauthorized', `the token has no '${tenantClaim}' claim: have the issuer add it, or point --tenant-claim at the claim that names the tenant`);
    }
    return {
      subject: typeof payload.sub === 'string' ? payload.sub : '',
      tenant,
      roles: new Set(stringList(payload[rolesClaim]).filter((r): r is Role => (ROLES as readonly string[]).includes(r))),
      groups: stringList(payload[groupsClaim]),
      expiresAt: (payload.exp as number) * 1000,
    };
  }

  return {
    options: { ...options, algorithms, tenantClaim, rolesClaim, groupsClaim },
    verify,
    fromRequest: (req) => verify(bearerToken(req)),
    close: () => jwks.close(),
  };
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function bearerToken(req: IncomingMessage): string {
  const header = req.headers.authorization;
  if (!header) throw new AuthError('unauthorized', 'no token: send the header Authorization: Bearer <access token>');
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match) throw new AuthError('unauthorized', 'the Authorization header is not "Bearer <access token>"');
  return match[1]!;
}

function describeVerifyError(err: unknown, options: AuthOptions, algorithms: string[], joseErrors: typeof import('jose').errors): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired: sign in again or renew the token';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss': return `token issuer is not ${options.issuer}: get a token from that issuer`;
      case 'aud': return `token audience does not include ${options.audience}: request a token for that audience (API identifier)`;
      case 'nbf': return 'token is not valid yet (nbf is in the future): check the clocks';
      case 'exp': return 'token has no expiry (exp): tokens without one are refused';
      default: return `token claim '${err.claim}' is not acceptable: ${err.reason}`;
    }
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return `token algorithm is not allowed; allowed: ${algorithms.join(', ')}`;
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "token signing key (kid) is not in the issuer's JWKS";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (err instanceof joseErrors.JWKSTimeout || (err instanceof Error && err.name === 'JwksFetchError')) {
    return `cannot check the token: the issuer's keys could not be fetched (${err.message})`;
  }
  if (err instanceof joseErrors.JOSEError) return `malformed token: ${err.message}`;
  return `malformed token: ${err instanceof Error ? err.message : String(err)}`;
}

const ROLE_RANK: Record<Role, number> = { viewer: 1, developer: 2, admin: 3 };

/** developer includes viewer, admin includes developer. */
export function hasRole(p: Principal, role: Role): boolean {
  for (const r of p.roles) if (ROLE_RANK[r] >= ROLE_RANK[role]) return true;
  return false;
}

export type AccessDecision = { ok: true } | { ok: false; code: 'not_found' | 'forbidden'; message: string };

/**
 * May `p` use a thing of `tenant` that needs `role` (and, when `groups` is non-empty, membership
 * in one of them)? Another tenant's thing is `not_found`: its existence is never revealed.
 */
export function checkAccess(p: Principal, need: { tenant: string; role: Role; groups?: readonly string[] }): AccessDecision {
  if (p.tenant !== need.tenant) return { ok: false, code: 'not_found', message: 'not found' };
  if (!hasRole(p, need.role)) return { ok: false, code: 'forbidden', message: `this needs the role '${need.role}'; ask an admin of tenant '${p.tenant}' to grant it` };
  const groups = need.groups ?? [];
  if (groups.length && !p.groups.some((g) => groups.includes(g))) {
    return { ok: false, code: 'forbidden', message: `this app is visible to the groups ${groups.join(', ')} only; ask an admin to add you to one of them` };
  }
  return { ok: true };
}

const ENV = {
  oidcIssuer: 'AEROGRID_OIDC_ISSUER',
  oidcAudience: 'AEROGRID_OIDC_AUDIENCE',
  jwksUri: 'AEROGRID_JWKS_URI',
  tenantClaim: 'AEROGRID_TENANT_CLAIM',
} as const;

export interface AuthFlags {
  oidcIssuer?: string;
  oidcAudience?: string;
  jwksUri?: string;
  tenantClaim?: string;
}

/** Options from flags first, then the environment; undefined = auth off. */
export function authOptionsFrom(flags: AuthFlags, env: NodeJS.ProcessEnv = process.env): AuthOptions | undefined {
  const pick = (key: keyof AuthFlags) => {
    const value = flags[key] ?? env[ENV[key]];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const issuer = pick('oidcIssuer');
  const audience = pick('oidcAudience');
  const jwksUri = pick('jwksUri');
  const tenantClaim = pick('tenantClaim');
  if (issuer === undefined && audience === undefined) {
    if (jwksUri !== undefined || tenantClaim !== undefined) {
      throw new AuthConfigError(`${jwksUri !== undefined ? '--jwks-uri' : '--tenant-claim'} is set but auth is off: also set --oidc-issuer and --oidc-audience (or ${ENV.oidcIssuer} and ${ENV.oidcAudience})`);
    }
    return undefined;
  }
  if (issuer === undefined) throw new AuthConfigError(`--oidc-audience is set without --oidc-issuer: set both (or ${ENV.oidcIssuer} and ${ENV.oidcAudience})`);
  if (audience === undefined) throw new AuthConfigError(`--oidc-issuer is set without --oidc-audience: set the audience too (the API identifier; or ${ENV.oidcAudience})`);
  checkUrl('--oidc-issuer', issuer);
  if (jwksUri !== undefined) checkUrl('--jwks-uri', jwksUri);
  const options: AuthOptions = { issuer, audience };
  if (jwksUri !== undefined) options.jwksUri = jwksUri;
  if (tenantClaim !== undefined) options.tenantClaim = tenantClaim;
  return options;
}

/** https only, except for a loopback issuer (local tests and development). */
function checkUrl(flag: string, text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AuthConfigError(`${flag} ${JSON.stringify(text)} is not a URL: expected e.g. https://example.eu.auth0.com/`);
  }
  if (isSecureOrLoopback(url)) return;
  throw new AuthConfigError(`${flag} ${JSON.stringify(text)} must be an https:// URL (http:// only for a loopback address)`);
}

/** Refuses to serve on a non-loopback address without auth. */
export function assertBindAllowed(host: string, auth: AuthOptions | undefined): void {
  if (auth || isLoopback(host)) return;
  throw new AuthConfigError(`binding to ${host} without auth is refused; set --oidc-issuer/--oidc-audience or bind 127.0.0.1`);
}

/** The line servers print at start when auth is off. */
export const AUTH_OFF_NOTICE = 'auth: off — listening on loopback only';
