/**
 * Auth on the sidecar's HTTP and WebSocket front end (docs/protocol.md "Authentication"), with a
 * real local OIDC issuer and tokens signed by jose: every attack is refused over both, and nothing
 * of the app leaks to another tenant. The grid store is fed directly (no Kafka, no runtime).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GridStore } from '../../../sidecar/src/grids.js';
import type { Frontend, FrontendOptions } from '../../../sidecar/src/http/server.js';
import { createAuthenticator } from '../../../sidecar/src/auth/index.js';
import { WsClient, wsUrl, type Msg } from '../../helpers/sidecar.js';
import { waitFor } from '../../helpers/wait.js';
import { startTestIssuer, type TestIssuer } from '../../helpers/oidc.js';
import { ordersStore, startAppFrontend, startSlowJwks } from '../../helpers/frontend.js';

let issuer: TestIssuer;
let store: GridStore;
const frontends: Frontend[] = [];
const clients: WsClient[] = [];

/** What must never appear in an answer to someone who may not see the app. */
const SECRETS = ['ordersapp', 'product_sum', 'How to', 'acme'];

beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(async () => {
  await issuer?.close();
});

beforeEach(() => {
  store = ordersStore();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const f of frontends.splice(0)) await f.close();
});

async function frontend(extra: Partial<FrontendOptions> = {}, auth = true): Promise<Frontend> {
  const fe = await startAppFrontend(store, auth ? issuer : null, extra);
  frontends.push(fe);
  return fe;
}

async function ws(fe: Frontend): Promise<WsClient> {
  const c = await WsClient.open(wsUrl(fe.url));
  clients.push(c);
  return c;
}

async function get(fe: Frontend, path: string, token?: string) {
  const res = await fetch(fe.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Authenticates with `token` and returns the first two messages (or the error) and the close code. */
async function wsRefusal(fe: Frontend, token: string): Promise<{ error: Msg; code: number; all: Msg[] }> {
  const c = await ws(fe);
  c.send({ op: 'auth', token });
  const error = await c.next('error');
  const { code } = await c.closed;
  return { error, code, all: c.inbox.all };
}

const good = (claims: Record<string, unknown> = {}) => issuer.token({ tenant: 'acme', ...claims });

const attacks: [string, () => Promise<string>][] = [
  ['expired', () => good({ expiresIn: -60 })],
  ['not yet valid', () => good({ notBefore: 600 })],
  ['wrong issuer', () => issuer.token({ tenant: 'acme' }, { issuer: 'https://evil.example/' })],
  ['wrong audience', () => issuer.token({ tenant: 'acme' }, { audience: 'https://other.example/api' })],
  ['alg none', () => issuer.token({ tenant: 'acme' }, { alg: 'none' })],
  ['HMAC signed with the public key', () => issuer.token({ tenant: 'acme' }, { alg: 'HS256' })],
  ['tampered payload', async () => tamper(await issuer.token({ tenant: 'other' }), { tenant: 'acme' })],
  ['unknown key', () => issuer.token({ tenant: 'acme' }, { kid: 'not-published' })],
  ['not a JWT', async () => 'hello'],
];

describe('sidecar auth over HTTP', () => {
  it('serves a good token, and keeps probes open', async () => {
    const fe = await frontend();
    const ok = await get(fe, 'v1/grids/product_sum', await good());
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text).rows).toEqual({ 'How to...': { units_sold: 300 } });
    expect((await get(fe, 'healthz')).status).toBe(200);
    expect((await get(fe, 'readyz')).status).toBe(200);
  });

  it('refuses no token with 401 and a Bearer challenge', async () => {
    const fe = await frontend();
    for (const path of ['v1/grids', 'v1/grids/product_sum', 'v1/status', 'v1/nope']) {
      const r = await get(fe, path);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(JSON.parse(r.text).error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/Authorization: Bearer/) });
      for (const secret of SECRETS) expect(r.text).not.toContain(secret);
    }
    const basic = await fetch(fe.url + 'v1/grids', { headers: { authorization: 'Basic YTpi' } });
    expect(basic.status).toBe(401);
  });

  for (const [name, make] of attacks) {
    it(`refuses a token: ${name} (401, nothing leaked)`, async () => {
      const fe = await frontend();
      const r = await get(fe, 'v1/grids', await make());
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toContain('invalid_token');
      for (const secret of SECRETS) expect(r.text).not.toContain(secret);
    });
  }

  it("answers another tenant's token with the 404 of a missing app, naming nothing of this one", async () => {
    const fe = await frontend();
    const token = await issuer.token({ tenant: 'globex', roles: ['admin'] });
    for (const path of ['v1/grids', 'v1/grids/product_sum', 'v1/status']) {
      const r = await get(fe, path, token);
      expect(r.status).toBe(404);
      expect(JSON.parse(r.text)).toEqual({ error: { code: 'not_found', message: "not found: no app here for tenant 'globex'" } });
    }
  });

  it('refuses a user without a role, or outside the viewer groups, with 403', async () => {
    const fe = await frontend({ viewerGroups: ['traders'] });
    const noRole = await get(fe, 'v1/grids', await good({ roles: [], groups: ['traders'] }));
    expect(noRole.status).toBe(403);
    expect(JSON.parse(noRole.text).error.message).toMatch(/role 'viewer'/);
    const outsider = await get(fe, 'v1/grids', await good({ groups: ['sales'] }));
    expect(outsider.status).toBe(403);
    expect(JSON.parse(outsider.text).error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/traders/) });
    expect((await get(fe, 'v1/grids', await good({ groups: ['sales', 'traders'] }))).status).toBe(200);
  });

  it('answers CORS preflights for /v1/ allowing Authorization, and marks /v1/ answers cross-origin readable', async () => {
    const fe = await frontend();
    const pre = await fetch(fe.url + 'v1/grids', {
      method: 'OPTIONS',
      headers: { origin: 'https://addin.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await get(fe, 'v1/grids')).headers.get('access-control-allow-origin')).toBe('*');
    expect((await get(fe, 'v1/grids', await good())).headers.get('access-control-allow-origin')).toBe('*');
  });

  it('asks for a token on the viewer page only when auth is on', async () => {
    const on = await frontend();
    expect((await get(on, '')).text).toContain('<meta name="aerogrid-auth" content="on">');
    const off = await frontend({}, false);
    expect((await get(off, '')).text).toContain('<meta name="aerogrid-auth" content="off">');
  });
});

describe('sidecar auth over WebSocket', () => {
  it('answers a good auth with authenticated, then hello; messages sent meanwhile are kept', async () => {
    const fe = await frontend();
    const c = await ws(fe);
    c.send({ op: 'auth', token: await good({ sub: 'bob' }) });
    c.send({ op: 'subscribe', id: 's1', grid: 'product_sum' });
    const auth = await c.next('authenticated');
    expect(auth).toMatchObject({ subject: 'bob', tenant: 'acme' });
    expect(Date.parse(auth.expires_at)).toBeGreaterThan(Date.now());
    expect((await c.next('hello')).app).toBe('ordersapp');
    expect((await c.next('snapshot')).rows).toEqual({ 'How to...': { units_sold: 300 } });
    expect(c.inbox.all.map((m) => m.type)).toEqual(['authenticated', 'hello', 'snapshot']);
  });

  it('with auth off, answers auth with authenticated (subject null) and says hello at once', async () => {
    const fe = await frontend({}, false);
    const c = await ws(fe);
    await c.next('hello');
    c.send({ op: 'auth', token: 'anything' });
    expect(await c.next('authenticated')).toEqual({ type: 'authenticated', subject: null, tenant: 'acme', expires_at: null });
  });

  it('closes with 4401 when the first message is not auth, is not JSON, or never comes', async () => {
    const fe = await frontend({ authTimeoutMs: 300 });
    for (const first of [JSON.stringify({ op: 'subscribe', id: 's1', grid: 'product_sum' }), '{nope', JSON.stringify({ op: 'auth' })]) {
      const c = await ws(fe);
      c.send(first);
      expect(await c.next('error')).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/first message must be \{"op":"auth"/) });
      expect((await c.closed).code).toBe(4401);
      expect(c.inbox.all).toHaveLength(1);
    }
    const silent = await ws(fe);
    expect((await silent.next('error')).message).toMatch(/no auth message within/);
    expect((await silent.closed).code).toBe(4401);
  });

  for (const [name, make] of attacks) {
    it(`refuses a token: ${name} (4401, nothing leaked)`, async () => {
      const fe = await frontend();
      const { error, code, all } = await wsRefusal(fe, await make());
      expect(error.code).toBe('unauthorized');
      expect(code).toBe(4401);
      expect(all).toHaveLength(1);
      for (const secret of SECRETS) expect(JSON.stringify(all)).not.toContain(secret);
    });
  }

  it("closes another tenant's connection with not_found and 4404, like a missing app", async () => {
    const fe = await frontend();
    const { error, code, all } = await wsRefusal(fe, await issuer.token({ tenant: 'globex', roles: ['admin'] }));
    expect(error).toEqual({ type: 'error', code: 'not_found', message: "not found: no app here for tenant 'globex'" });
    expect(code).toBe(4404);
    expect(all).toHaveLength(1);
  });

  it('closes a viewer outside the viewer groups with forbidden and 4403', async () => {
    const fe = await frontend({ viewerGroups: ['traders'] });
    const { error, code } = await wsRefusal(fe, await good({ groups: ['sales'] }));
    expect(error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/traders/) });
    expect(code).toBe(4403);
  });

  it('closes with token_expired and 4401 when the token runs out', async () => {
    const fe = await frontend();
    const c = await ws(fe);
    // Expired 3 s ago: within the 5 s clock tolerance, so it runs out 2 s from now.
    c.send({ op: 'auth', token: await good({ expiresIn: -3 }) });
    await c.next('hello');
    expect(await c.next('error', 8000)).toMatchObject({ code: 'token_expired', message: expect.stringMatching(/renew/) });
    expect((await c.closed).code).toBe(4401);
  });

  it('keeps a connection whose token is renewed in time, and refuses a renewal for another user', async () => {
    const fe = await frontend();
    const c = await ws(fe);
    c.send({ op: 'auth', token: await good({ expiresIn: 2 }) });
    const first = await c.next('authenticated');
    await c.next('hello');
    c.send({ op: 'auth', token: await good({ expiresIn: 600 }) });
    const renewed = await c.next('authenticated');
    expect(Date.parse(renewed.expires_at)).toBeGreaterThan(Date.parse(first.expires_at));
    await new Promise((r) => setTimeout(r, 2500));
    expect(await c.request({ op: 'ping', id: 'still-there' })).toEqual({ type: 'pong', id: 'still-there' });

    c.send({ op: 'auth', token: await good({ sub: 'mallory' }) });
    expect(await c.next('error')).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/same user/) });
    expect((await c.closed).code).toBe(4401);
  });

  it('refuses a renewal for another tenant as unauthorized (4401), not as a missing app', async () => {
    const fe = await frontend();
    const c = await ws(fe);
    c.send({ op: 'auth', token: await good() });
    await c.next('hello');
    c.send({ op: 'auth', token: await issuer.token({ tenant: 'globex', roles: ['admin'] }) });
    expect(await c.next('error')).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/same user and tenant/) });
    expect((await c.closed).code).toBe(4401);
  });

  it('keeps a client that sent auth in time while a cold JWKS fetch outlasts the auth timeout', async () => {
    const slow = await startSlowJwks(issuer, 800);
    try {
      const fe = await frontend({ authTimeoutMs: 200, authenticator: createAuthenticator({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: slow.url }) });
      const token = await good();
      const c = await ws(fe);
      c.send({ op: 'auth', token });
      expect((await c.next('hello')).app).toBe('ordersapp');
    } finally {
      await slow.close();
    }
  });

  it('keeps a connection whose token runs out while its renewal is being checked, and answers renewals in order', async () => {
    const own = await startTestIssuer();
    const slow = await startSlowJwks(own, 0);
    try {
      const fe = await frontend({ authenticator: createAuthenticator({ issuer: own.issuer, audience: own.audience, jwksUri: slow.url }) });
      const oldKid = kidOf(await own.token());
      const c = await ws(fe);
      // Expired 3 s ago: accepted within the 5 s clock tolerance, so it runs out 2 s from now.
      c.send({ op: 'auth', token: await own.token({ tenant: 'acme', expiresIn: -3 }) });
      await c.next('hello');
      await own.rotate();
      slow.delay(3500);
      // The first renewal's new key needs a (slow) JWKS fetch; the second, signed with the known
      // key, is checked at once, but must not be answered before the first.
      c.send({ op: 'auth', token: await own.token({ tenant: 'acme', expiresIn: 300 }) });
      c.send({ op: 'auth', token: await own.token({ tenant: 'acme', expiresIn: 600 }, { kid: oldKid }) });
      const first = await c.next('authenticated');
      const second = await c.next('authenticated');
      expect(Date.parse(second.expires_at)).toBeGreaterThan(Date.parse(first.expires_at));
      expect(await c.request({ op: 'ping', id: 'still-there' })).toEqual({ type: 'pong', id: 'still-there' });
      expect(c.inbox.all.filter((m) => m.type === 'error')).toEqual([]);
    } finally {
      await slow.close();
      await own.close();
    }
  });

  it('closes a connection that floods messages before its token is checked, and one with an oversized first frame', async () => {
    const fe = await frontend();
    const flood = await ws(fe);
    flood.send({ op: 'auth', token: await good() });
    for (let i = 0; i < 500; i++) flood.send({ op: 'subscribe', id: `s${i}`, grid: 'product_sum' });
    expect((await flood.closed).code).toBe(4401);
    const big = await ws(fe);
    big.send({ op: 'auth', token: 'x'.repeat(70 * 1024) });
    expect((await big.closed).code).toBe(1009);
    // The server and its other clients are fine.
    const c = await ws(fe);
    c.send({ op: 'auth', token: await good() });
    await c.next('hello');
    expect((await c.request({ op: 'subscribe', id: 'ok', grid: 'product_sum' })).type).toBe('snapshot');
  });
});

describe('key rotation through the sidecar', () => {
  it('accepts a token signed with a new key after one JWKS refetch; a flood of unknown kids adds no fetch', async () => {
    const own = await startTestIssuer();
    try {
      const fe = await frontend({ authenticator: createAuthenticator({ issuer: own.issuer, audience: own.audience }) });
      const token = () => own.token({ tenant: 'acme' });
      expect((await get(fe, 'v1/grids', await token())).status).toBe(200);
      const before = own.jwksRequests();
      await own.rotate();
      const c = await ws(fe);
      c.send({ op: 'auth', token: await token() });
      await c.next('hello');
      expect(own.jwksRequests()).toBe(before + 1);
      const flood = await Promise.all(Array.from({ length: 30 }, async (_, i) => (await get(fe, 'v1/grids', await own.token({ tenant: 'acme' }, { kid: `forged-${i}` }))).status));
      expect(flood.every((s) => s === 401)).toBe(true);
      expect(own.jwksRequests()).toBe(before + 1);
    } finally {
      await own.close();
    }
  });
});

describe('sidecar WebSocket limits', () => {
  it('drops a client that keeps asking for snapshots without reading; other clients are unaffected', async () => {
    for (let i = 0; i < 2000; i++) store.apply([{ grid: 'product_sum', key: `book ${i} ${'x'.repeat(40)}`, row: { units_sold: i } }]);
    const fe = await frontend({ maxBacklogBytes: 4 * 1024 * 1024 }, false);
    const reader = await ws(fe);
    await reader.next('hello');
    expect((await reader.request({ op: 'subscribe', id: 'r', grid: 'product_sum' })).type).toBe('snapshot');
    const hog = await ws(fe);
    await hog.next('hello');
    // Stop reading: the socket's receive buffer fills, the server's send buffer grows.
    hog.ws.pause();
    for (let i = 0; i < 400; i++) {
      hog.send({ op: 'subscribe', id: 'h', grid: 'product_sum' });
      hog.send({ op: 'unsubscribe', id: 'h' });
    }
    hog.ws.resume();
    // Closed with the reason once it reads again (docs/protocol.md §2 "Keepalive and drops").
    expect((await hog.closed).code).toBe(4008);
    store.apply([{ grid: 'product_sum', key: 'fresh', row: { units_sold: 1 } }]);
    expect((await reader.next('delta')).upserts).toEqual({ fresh: { units_sold: 1 } });
  });

  it('a client dropped for not reading while its pending subscriptions start leaves no listener behind', async () => {
    store = new GridStore();
    store.declare('big', ['text']);
    store.apply(Array.from({ length: 24_000 }, (_, i) => ({ grid: 'big', key: `row ${i}`, row: { text: 'x'.repeat(1000) } })));
    const fe = await frontend({ maxBacklogBytes: 1024 * 1024 }, false);
    const hog = await ws(fe);
    await hog.next('hello');
    hog.ws.pause();
    // Pending until 'late' is declared; then the big snapshot before them is still unread.
    for (let i = 0; i < 50; i++) hog.send({ op: 'subscribe', id: `late${i}`, grid: 'late' });
    hog.send({ op: 'subscribe', id: 'big', grid: 'big' });
    // The big snapshot alone is over the backlog: the client goes before or as its subscriptions start.
    await waitFor('the subscriptions', () => fe.fanout.subscriptionCount === 51 || fe.fanout.clientCount === 0 || undefined, 10_000);
    store.declare('late', ['v']);
    expect(fe.fanout.clientCount).toBe(0);
    expect(fe.fanout.subscriptionCount).toBe(0);
    expect(store.get('late')!.listeners.size).toBe(0);
    expect(store.get('big')!.listeners.size).toBe(0);
    hog.ws.resume();
    expect((await hog.closed).code).toBe(4008);
  });
});

function tamper(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const body = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), ...changes };
  return `${header}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${signature}`;
}

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}
