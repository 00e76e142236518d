/**
 * A real, local OIDC issuer for tests: an HTTP server on 127.0.0.1 serving the discovery document
 * and the JWKS, with keys from jose's generateKeyPair and tokens signed by jose's SignJWT.
 * `token()` can also make the bad tokens that attacks use (alg none, HMAC keyed with the public
 * key, an unpublished kid).
 *
 * It signs users in too, as an authorization server for public clients: /authorize (authorization
 * code with PKCE, S256 only) approves at once as the user `signInAs()` chose, and /token gives
 * that user's access token (and an ID token) only for the code, client, redirect URI and a
 * code_verifier whose S256 is the challenge; any other answer is the RFC 6749 error.
 */
import http from 'node:http';
import type net from 'node:net';
import { createHash, createHmac, randomUUID } from 'node:crypto';
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

/** One token request to /token, and what the issuer answered. */
export interface TokenExchange {
  form: Record<string, string>;
  status: number;
  error?: string;
}

export interface TestIssuer {
  issuer: string;
  audience: string;
  jwksUri: string;
  /** The client id `env()` gives `aerogrid serve` for its console. */
  clientId: string;
  /** The user the next sign-ins at /authorize approve (default: alice, tenant default, viewer). */
  signInAs(claims: TokenClaims): void;
  /** Every request to /authorize (its query), and every token request with its answer. */
  authorizations: URLSearchParams[];
  exchanges: TokenExchange[];
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
  let user: TokenClaims = {};
  const clientId = 'aerogrid-console';
  const grants = new Map<string, { clientId: string; redirectUri: string; challenge: string; audience?: string; nonce?: string; user: TokenClaims }>();
  const authorizations: URLSearchParams[] = [];
  const exchanges: TokenExchange[] = [];

  const server = http.createServer((req, res) => {
    // The console and the add-in call discovery and /token from their own origins.
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type' };
    const send = (body: unknown, status = 200) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...cors });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (url.pathname === '/.well-known/openid-configuration') {
      return send({
        issuer: `${base}/`, jwks_uri: `${base}/.well-known/jwks.json`, id_token_signing_alg_values_supported: [KEY_ALG],
        authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'], code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: ['none'],
      });
    }
    if (url.pathname === '/.well-known/jwks.json') {
      jwksRequests += 1;
      return send({ keys: keys.map((k) => k.jwk) });
    }
    if (url.pathname === '/authorize') return authorize(url.searchParams, res);
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => void exchange(new URLSearchParams(body)).then(({ status, answer }) => send(answer, status)));
      return;
    }
    res.writeHead(404).end();
  });

  function authorize(p: URLSearchParams, res: http.ServerResponse): void {
    authorizations.push(p);
    let redirect: URL;
    try {
      redirect = new URL(p.get('redirect_uri') ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('redirect_uri is missing or not a URL');
      return;
    }
    const state = p.get('state');
    if (state !== null) redirect.searchParams.set('state', state);
    const refuse = (description: string) => {
      redirect.searchParams.set('error', 'invalid_request');
      redirect.searchParams.set('error_description', description);
    };
    if (p.get('response_type') !== 'code') refuse('response_type must be code');
    else if (!p.get('client_id')) refuse('client_id is missing');
    else if (p.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(p.get('code_challenge') ?? '')) refuse('PKCE with S256 is required');
    else {
      const code = randomUUID();
      grants.set(code, { clientId: p.get('client_id')!, redirectUri: p.get('redirect_uri')!, challenge: p.get('code_challenge')!, audience: p.get('audience') ?? undefined, nonce: p.get('nonce') ?? undefined, user: { ...user } });
      redirect.searchParams.set('code', code);
      redirect.searchParams.set('iss', `${base}/`);
    }
    res.writeHead(302, { location: redirect.href }).end();
  }

  async function exchange(form: URLSearchParams): Promise<{ status: number; answer: Record<string, unknown> }> {
    const record: TokenExchange = { form: Object.fromEntries(form), status: 400 };
    exchanges.push(record);
    const fail = (error: string, description: string) => {
      record.error = description;
      return { status: 400, answer: { error, error_description: description } };
    };
    if (form.get('grant_type') !== 'authorization_code') return fail('unsupported_grant_type', 'only authorization_code');
    const code = form.get('code') ?? '';
    const grant = grants.get(code);
    grants.delete(code); // single use, whatever comes next
    if (!grant) return fail('invalid_grant', 'unknown or used code');
    if (form.get('client_id') !== grant.clientId) return fail('invalid_grant', 'the code is another client\'s');
    if (form.get('redirect_uri') !== grant.redirectUri) return fail('invalid_grant', 'redirect_uri differs from the authorization request\'s');
    const verifier = form.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
      return fail('invalid_grant', 'PKCE verification failed: the code_verifier does not match the code_challenge');
    }
    const access = await token(grant.user, grant.audience ? { audience: grant.audience } : {});
    const idToken = await new SignJWT({ ...(grant.nonce ? { nonce: grant.nonce } : {}) })
      .setProtectedHeader({ alg: KEY_ALG, kid: keys.at(-1)!.kid, typ: 'JWT' })
      .setSubject(grant.user.sub ?? 'alice').setIssuer(issuer).setAudience(grant.clientId).setIssuedAt().setExpirationTime('10m')
      .sign(keys.at(-1)!.privateKey);
    record.status = 200;
    return { status: 200, answer: { access_token: access, id_token: idToken, token_type: 'Bearer', expires_in: 600, scope: 'openid profile' } };
  }
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
    clientId,
    signInAs: (claims) => {
      user = claims;
    },
    authorizations,
    exchanges,
    token,
    rotate: async () => {
      keys.push(await newKey());
    },
    jwksRequests: () => jwksRequests,
    env: () => ({
      AEROGRID_OIDC_ISSUER: issuer,
      AEROGRID_OIDC_AUDIENCE: audience,
      AEROGRID_OIDC_CLIENT_ID: clientId,
      ...(options.tenantClaim ? { AEROGRID_TENANT_CLAIM: tenantClaim } : {}),
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
