import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBindAllowed,
  authOptionsFrom,
  checkAccess,
  createAuthenticator,
  hasRole,
  type Authenticator,
} from '@aerogrid/sidecar/auth';
import { startTestIssuer, type TestIssuer } from '../../helpers/oidc.js';

describe('authenticator against a real local issuer', () => {
  let issuer: TestIssuer;
  let auth: Authenticator;
  beforeAll(async () => {
    issuer = await startTestIssuer();
    auth = createAuthenticator({ issuer: issuer.issuer, audience: issuer.audience });
  });
  afterAll(async () => {
    auth?.close();
    await issuer?.close();
  });

  it('accepts a good token, found through the discovery document', async () => {
    const p = await auth.verify(await issuer.token({ sub: 'bob', tenant: 'acme', roles: ['developer'], groups: ['traders'] }));
    expect(p.subject).toBe('bob');
    expect(p.tenant).toBe('acme');
    expect(hasRole(p, 'viewer')).toBe(true);
    expect(hasRole(p, 'developer')).toBe(true);
    expect(hasRole(p, 'admin')).toBe(false);
    expect(p.groups).toEqual(['traders']);
    expect(p.expiresAt).toBeGreaterThan(Date.now());
  });

  const attacks: [string, () => Promise<string>, RegExp][] = [
    ['expired', () => issuer.token({ expiresIn: -60 }), /expired/],
    ['not yet valid', () => issuer.token({ notBefore: 600 }), /not valid yet/],
    ['wrong issuer', () => issuer.token({}, { issuer: 'https://evil.example/' }), /issuer/],
    ['wrong audience', () => issuer.token({}, { audience: 'https://other.api' }), /audience/],
    ['alg none', () => issuer.token({}, { alg: 'none' }), /algorithm|malformed/],
    ['HMAC signed with the public key', () => issuer.token({}, { alg: 'HS256' }), /algorithm/],
    ['tampered payload', async () => tamper(await issuer.token({ tenant: 'acme' }), { tenant: 'other' }), /signature/],
    ['unknown key', () => issuer.token({}, { kid: 'made-up' }), /kid/],
    ['garbage', async () => 'not.a.jwt', /malformed/],
    ['no tenant claim', () => issuer.token({ tenant: null }), /'tenant' claim/],
  ];
  for (const [name, make, message] of attacks) {
    it(`refuses a token: ${name}`, async () => {
      const token = await make();
      await expect(auth.verify(token)).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringMatching(message) });
    });
  }

  it('after a key rotation, a token with the new kid is accepted after one JWKS refetch; a flood of unknown kids does not hammer the JWKS', async () => {
    const fresh = createAuthenticator({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri });
    try {
      await fresh.verify(await issuer.token());
      const before = issuer.jwksRequests();
      await issuer.rotate();
      const p = await fresh.verify(await issuer.token({ sub: 'rotated' }));
      expect(p.subject).toBe('rotated');
      expect(issuer.jwksRequests()).toBe(before + 1);
      const flood = await Promise.allSettled(
        Array.from({ length: 50 }, async (_, i) => fresh.verify(await issuer.token({}, { kid: `bogus-${i}` }))),
      );
      expect(flood.every((r) => r.status === 'rejected')).toBe(true);
      // The rotation's refetch is within the cooldown: the flood adds no request at all.
      expect(issuer.jwksRequests()).toBe(before + 1);
      // Old and new keys both still work, without further fetches.
      await fresh.verify(await issuer.token());
      expect(issuer.jwksRequests()).toBe(before + 1);
    } finally {
      fresh.close();
    }
  });

  it('refuses tokens with a clear message, and warns the operator, while the issuer cannot be reached', async () => {
    const gone = await startTestIssuer();
    const token = await gone.token();
    await gone.close();
    const warnings: string[] = [];
    const a = createAuthenticator({ issuer: gone.issuer, audience: gone.audience }, { warn: (m) => warnings.push(m) });
    try {
      await expect(a.verify(token)).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/issuer's keys could not be fetched/) });
      expect(warnings.join('\n')).toMatch(/cannot fetch the OIDC issuer's keys/);
    } finally {
      a.close();
    }
  });

  it('keeps accepting tokens signed by a known key when stale keys cannot be refetched (issuer down)', async () => {
    const brief = await startTestIssuer();
    const warnings: string[] = [];
    // Keys are stale after 1 ms: every verify below tries a refetch.
    const a = createAuthenticator({ issuer: brief.issuer, audience: brief.audience, jwksMaxAgeMs: 1 }, { warn: (m) => warnings.push(m) });
    try {
      await a.verify(await brief.token());
      const tokens = [await brief.token({ sub: 'during-outage' }), await brief.token({ sub: 'again' })];
      await brief.close();
      await new Promise((r) => setTimeout(r, 5));
      expect((await a.verify(tokens[0]!)).subject).toBe('during-outage');
      // Within the retry pause after the failure, too.
      expect((await a.verify(tokens[1]!)).subject).toBe('again');
      expect(warnings.join('\n')).toMatch(/cannot fetch the OIDC issuer's keys/);
    } finally {
      a.close();
    }
  });

  it('refuses a discovery document that points jwks_uri at plain http, a redirect, and an oversized JWKS', async () => {
    const served = new Map<string, (res: http.ServerResponse) => void>();
    const server = http.createServer((req, res) => (served.get(req.url ?? '') ?? ((r) => r.writeHead(404).end()))(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const json = (body: unknown) => (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    served.set('/plain/.well-known/openid-configuration', json({ jwks_uri: 'http://keys.example/jwks.json' }));
    served.set('/moved/.well-known/openid-configuration', (res) => res.writeHead(302, { location: 'http://keys.example/openid-configuration' }).end());
    served.set('/big/.well-known/openid-configuration', json({ jwks_uri: `${base}/big/jwks.json` }));
    // Chunked (no content-length): the cap must hold while reading.
    served.set('/big/jwks.json', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"keys":[],"pad":"`);
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      const more = () => {
        while (sent < 16 && !res.destroyed) {
          sent += 1;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('"}');
      };
      more();
    });
    const cases: [string, RegExp][] = [
      ['plain', /jwks_uri "http:\/\/keys\.example\/jwks\.json", which is not an https:\/\/ URL/],
      ['moved', /redirect/],
      ['big', /larger than/],
    ];
    try {
      for (const [path, message] of cases) {
        const warnings: string[] = [];
        const a = createAuthenticator({ issuer: `${base}/${path}/`, audience: issuer.audience }, { warn: (m) => warnings.push(m) });
        try {
          await expect(a.verify(await issuer.token({}, { issuer: `${base}/${path}/` }))).rejects.toMatchObject({ code: 'unauthorized' });
          expect(warnings.join('\n')).toMatch(message);
        } finally {
          a.close();
        }
      }
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('reads a URL-style tenant claim', async () => {
    const claim = 'https://aerogrid.dev/tenant';
    const custom = await startTestIssuer({ tenantClaim: claim });
    const a = createAuthenticator(authOptionsFrom({}, custom.env())!);
    try {
      expect((await a.verify(await custom.token({ tenant: 'acme' }))).tenant).toBe('acme');
    } finally {
      a.close();
      await custom.close();
    }
  });
});

function tamper(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const body = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), ...changes };
  return `${header}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${signature}`;
}

describe('auth configuration', () => {
  it('is off when nothing is set, and takes flags before the environment', () => {
    expect(authOptionsFrom({}, {})).toBeUndefined();
    expect(authOptionsFrom({ oidcIssuer: 'https://a.example/' }, { AEROGRID_OIDC_ISSUER: 'https://b.example/', AEROGRID_OIDC_AUDIENCE: 'api' })).toEqual({
      issuer: 'https://a.example/',
      audience: 'api',
    });
  });

  it('refuses half a configuration, naming what is missing', () => {
    expect(() => authOptionsFrom({ oidcIssuer: 'https://a.example/' }, {})).toThrow(/without --oidc-audience/);
    expect(() => authOptionsFrom({ oidcAudience: 'api' }, {})).toThrow(/without --oidc-issuer/);
    expect(() => authOptionsFrom({ tenantClaim: 'org' }, {})).toThrow(/--tenant-claim is set but auth is off/);
    expect(() => authOptionsFrom({ oidcIssuer: 'http://auth.example/', oidcAudience: 'api' }, {})).toThrow(/must be an https:\/\/ URL/);
  });

  it('refuses a non-loopback bind without auth', () => {
    expect(() => assertBindAllowed('0.0.0.0', undefined)).toThrow(/binding to 0.0.0.0 without auth is refused/);
    expect(() => assertBindAllowed('127.0.0.1', undefined)).not.toThrow();
    expect(() => assertBindAllowed('0.0.0.0', { issuer: 'https://a.example/', audience: 'api' })).not.toThrow();
  });

  it('hides another tenant and checks role and groups', () => {
    const p = { subject: 'a', tenant: 'acme', roles: new Set(['viewer'] as const), groups: ['sales'], expiresAt: 0 };
    expect(checkAccess(p, { tenant: 'other', role: 'viewer' })).toMatchObject({ ok: false, code: 'not_found' });
    expect(checkAccess(p, { tenant: 'acme', role: 'developer' })).toMatchObject({ ok: false, code: 'forbidden' });
    expect(checkAccess(p, { tenant: 'acme', role: 'viewer', groups: ['traders'] })).toMatchObject({ ok: false, code: 'forbidden' });
    expect(checkAccess(p, { tenant: 'acme', role: 'viewer', groups: ['traders', 'sales'] })).toEqual({ ok: true });
  });
});
