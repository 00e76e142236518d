/**
 * A real, local OIDC issuer for tests: an HTTP server on 127.0.0.1 serving the discovery document
 * and the JWKS, with keys from jose's generateKeyPair and tokens signed by jose's SignJWT.
 * `token()` can also make the bad tokens that attacks use (alg none, HMAC keyed with the public
 * key, an unpublished kid).
 */
import http from 'node:http';
import type net from 'node:net';
import { createHmac, randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface TokenClaims {
  sub?: string;
  /** null: no tenant claim at all. */
  tenant?: string | null;
  roles?: string[];
  groups?: string[];
  /** Seconds from now (negative: already expired) or a jose time span ('10m', '1h'). */
  expiresIn?: string | number;
  /** Seconds from now or a jose time span. */
  notBefore?: string | number;
  [claim: string]: unknown;
}

export interface TokenOptions {
  issuer?: string;
  audience?: string;
  /** A kid that is not published signs with an unpublished key. */
  kid?: string;
  /** 'none': an unsigned token; 'HS256' etc.: HMAC keyed with the published public key (PEM). */
  alg?: string;
}

export interface TestIssuer {
  issuer: string;
  audience: string;
  jwksUri: string;
  token(claims?: TokenClaims, options?: TokenOptions): Promise<string>;
  /** A new signing key (new kid), published in the JWKS next to the old ones. */
  rotate(): Promise<void>;
  jwksRequests(): number;
  env(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

const KEY_ALG = 'ES256';

async function newKey(kid = `key-${randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  // ES256: as good a test of the real path as RSA, and its keys are generated in a millisecond.
  const { privateKey, publicKey } = await generateKeyPair(KEY_ALG, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: KEY_ALG, use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function relative(value: string | number): string | number {
  return typeof value === 'number' ? Math.floor(Date.now() / 1000) + value : value;
}

export async function startTestIssuer(options: { tenantClaim?: string } = {}): Promise<TestIssuer> {
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const keys: SigningKey[] = [await newKey()];
  /** One unpublished key signs every token with an unknown kid. */
  let rogue: SigningKey | undefined;
  let jwksRequests = 0;
  let base = '';

  const server = http.createServer((req, res) => {
    const send = (body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.url === '/.well-known/openid-configuration') {
      return send({ issuer: `${base}/`, jwks_uri: `${base}/.well-known/jwks.json`, id_token_signing_alg_values_supported: [KEY_ALG] });
    }
    if (req.url === '/.well-known/jwks.json') {
      jwksRequests += 1;
      return send({ keys: keys.map((k) => k.jwk) });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  // Auth0-style: the issuer has a trailing slash.
  const issuer = `${base}/`;
  const audience = 'https://api.aerogrid.test';

  async function token(claims: TokenClaims = {}, opts: TokenOptions = {}): Promise<string> {
    const { sub = 'alice', tenant = 'default', roles = ['viewer'], groups, expiresIn = '10m', notBefore, ...extra } = claims;
    const payload: Record<string, unknown> = { ...extra, roles };
    if (tenant !== null) payload[tenantClaim] = tenant;
    if (groups) payload.groups = groups;
    const iss = opts.issuer ?? issuer;
    const aud = opts.audience ?? audience;
    const alg = opts.alg ?? KEY_ALG;
    if (alg === 'none' || alg.startsWith('HS')) {
      const now = Math.floor(Date.now() / 1000);
      const body = { ...payload, sub, iss, aud, iat: now, exp: typeof expiresIn === 'number' ? now + expiresIn : now + 600 };
      const signingInput = `${b64url({ alg, typ: 'JWT', kid: opts.kid ?? keys.at(-1)!.kid })}.${b64url(body)}`;
      if (alg === 'none') return `${signingInput}.`;
      const pem = await exportSPKI(keys.at(-1)!.publicKey);
      const hash = `sha${alg.slice(2)}`;
      return `${signingInput}.${createHmac(hash, pem).update(signingInput).digest('base64url')}`;
    }
    let key = keys.at(-1)!;
    if (opts.kid !== undefined) {
      const published = keys.find((k) => k.kid === opts.kid);
      if (published) key = published;
      else {
        rogue ??= await newKey();
        key = { ...rogue, kid: opts.kid };
      }
    }
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(relative(expiresIn));
    if (notBefore !== undefined) jwt.setNotBefore(relative(notBefore));
    return jwt.sign(key.privateKey);
  }

  return {
    issuer,
    audience,
    jwksUri: `${base}/.well-known/jwks.json`,
    token,
    rotate: async () => {
      keys.push(await newKey());
    },
    jwksRequests: () => jwksRequests,
    env: () => ({
      AEROGRID_OIDC_ISSUER: issuer,
      AEROGRID_OIDC_AUDIENCE: audience,
      ...(options.tenantClaim ? { AEROGRID_TENANT_CLAIM: tenantClaim } : {}),
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
