/**
 * The issuer's signing keys, fetched once (from `jwks_uri` or the discovery document) and cached.
 * A token with an unknown `kid` (key rotation) refetches the JWKS, at most once per cooldown, so a
 * flood of made-up kids cannot turn us into a hammer against the issuer.
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

const FETCH_TIMEOUT_MS = 5000;
const MAX_AGE_MS = 10 * 60_000;
const DEFAULT_COOLDOWN_MS = 30_000;
/** After a failed fetch, wait this long before trying again. */
const RETRY_AFTER_FAILURE_MS = 2000;
const MAX_JWKS_BYTES = 512 * 1024;

class JwksFetchError extends Error {
  override name = 'JwksFetchError';
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

async function fetchJson(url: string, what: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow', headers: { accept: 'application/json' } });
  } catch (err) {
    throw new JwksFetchError(`${what} ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!response.ok) throw new JwksFetchError(`${what} ${url}: HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_JWKS_BYTES) throw new JwksFetchError(`${what} ${url}: response too large`);
  try {
    return JSON.parse(text);
  } catch {
    throw new JwksFetchError(`${what} ${url}: not JSON`);
  }
}

export class JwksCache {
  private readonly issuer: string;
  private jwksUri: string | undefined;
  private readonly cooldownMs: number;
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = 0;
  private lastUnknownKidFetch = -Infinity;
  private failedAt = -Infinity;
  private lastError: Error | undefined;
  private inflight: Promise<void> | undefined;
  private closed = false;
  private readonly onFetchError: (message: string) => void;

  constructor(options: { issuer: string; jwksUri?: string; cooldownMs?: number; onFetchError?: (message: string) => void }) {
    this.issuer = options.issuer;
    this.jwksUri = options.jwksUri;
    this.cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.onFetchError = options.onFetchError ?? (() => {});
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keys || Date.now() - this.fetchedAt > MAX_AGE_MS) await this.refresh();
    try {
      return await this.keys!(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      const now = Date.now();
      if (now - this.lastUnknownKidFetch < this.cooldownMs) throw err;
      this.lastUnknownKidFetch = now;
      await this.refresh(true);
      return this.keys!(header, token);
    }
  };

  /** One fetch at a time; callers during a fetch share it. */
  private async refresh(force = false): Promise<void> {
    if (this.closed) throw new JwksFetchError('the authenticator is closed');
    if (!this.inflight) {
      if (!force && this.lastError && Date.now() - this.failedAt < RETRY_AFTER_FAILURE_MS) throw this.lastError;
      this.inflight = this.load().finally(() => (this.inflight = undefined));
    }
    await this.inflight;
  }

  private async load(): Promise<void> {
    try {
      if (!this.jwksUri) {
        const doc = (await fetchJson(discoveryUrl(this.issuer), 'OIDC discovery')) as { jwks_uri?: unknown };
        if (typeof doc?.jwks_uri !== 'string') throw new JwksFetchError(`OIDC discovery ${discoveryUrl(this.issuer)} has no jwks_uri: set --jwks-uri`);
        this.jwksUri = doc.jwks_uri;
      }
      const jwks = (await fetchJson(this.jwksUri, 'JWKS')) as JSONWebKeySet;
      if (!jwks || !Array.isArray(jwks.keys)) throw new JwksFetchError(`JWKS ${this.jwksUri} has no "keys" array`);
      this.keys = createLocalJWKSet(jwks);
      this.fetchedAt = Date.now();
      this.lastError = undefined;
    } catch (err) {
      this.failedAt = Date.now();
      this.lastError = err instanceof Error ? err : new JwksFetchError(String(err));
      this.onFetchError(`cannot fetch the OIDC issuer's keys: ${this.lastError.message}`);
      throw this.lastError;
    }
  }

  close(): void {
    this.closed = true;
  }
}
