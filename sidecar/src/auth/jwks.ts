/**
 * The issuer's signing keys, fetched once (from `jwks_uri` or the discovery document) and cached.
 * A token with an unknown `kid` (key rotation) refetches the JWKS, at most once per cooldown, so a
 * flood of made-up kids cannot turn us into a hammer against the issuer. Stale keys are refetched,
 * but kept when the issuer cannot be reached: a brief issuer outage must not sign everybody out.
 */
// jose is loaded when the first key is needed (see auth/index.ts).
import type { createLocalJWKSet, JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { isSecureOrLoopback } from './loopback.js';

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

/** A JSON document of at most MAX_JWKS_BYTES; redirects are refused (they could lead to plain http). */
async function fetchJson(url: string, what: string): Promise<unknown> {
  const tooLarge = () => new JwksFetchError(`${what} ${url}: response larger than ${MAX_JWKS_BYTES} bytes`);
  let body: Buffer;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
    if (!response.ok) throw new JwksFetchError(`${what} ${url}: HTTP ${response.status}`);
    if (Number(response.headers.get('content-length') ?? 0) > MAX_JWKS_BYTES) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of response.body ?? []) {
      bytes += chunk.byteLength;
      if (bytes > MAX_JWKS_BYTES) throw tooLarge(); // leaving the loop cancels the stream
      chunks.push(chunk);
    }
    body = Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof JwksFetchError) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new JwksFetchError(`${what} ${url}: ${err instanceof Error ? err.message : String(err)}${cause}`);
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new JwksFetchError(`${what} ${url}: not JSON`);
  }
}

export class JwksCache {
  private readonly issuer: string;
  private jwksUri: string | undefined;
  private readonly cooldownMs: number;
  private readonly maxAgeMs: number;
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = 0;
  private lastUnknownKidFetch = -Infinity;
  private failedAt = -Infinity;
  private lastError: Error | undefined;
  private inflight: Promise<void> | undefined;
  private closed = false;
  private readonly onFetchError: (message: string) => void;

  constructor(options: { issuer: string; jwksUri?: string; cooldownMs?: number; maxAgeMs?: number; onFetchError?: (message: string) => void }) {
    this.issuer = options.issuer;
    this.jwksUri = options.jwksUri;
    this.cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS;
    this.onFetchError = options.onFetchError ?? (() => {});
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keys) await this.refresh();
    // Stale keys stay usable while the issuer cannot be reached (the failure is warned about).
    else if (Date.now() - this.fetchedAt > this.maxAgeMs) await this.refresh().catch(() => undefined);
    try {
      return await this.keys!(header, token);
    } catch (err) {
      if (!(err instanceof (await import('jose')).errors.JWKSNoMatchingKey)) throw err;
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
        if (!URL.canParse(doc.jwks_uri) || !isSecureOrLoopback(new URL(doc.jwks_uri))) {
          throw new JwksFetchError(`OIDC discovery ${discoveryUrl(this.issuer)} names jwks_uri ${JSON.stringify(doc.jwks_uri)}, which is not an https:// URL (http:// only for a loopback address): fix the issuer, or set --jwks-uri`);
        }
        this.jwksUri = doc.jwks_uri;
      }
      const jwks = (await fetchJson(this.jwksUri, 'JWKS')) as JSONWebKeySet;
      if (!jwks || !Array.isArray(jwks.keys)) throw new JwksFetchError(`JWKS ${this.jwksUri} has no "keys" array`);
      this.keys = (await import('jose')).createLocalJWKSet(jwks);
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
