// Sign-in from the task pane, end to end in Chromium: the Office dialog (a real popup opened by the
// harness standing in for Office.js) goes to a local authorization server that signs the user in at
// once and redirects back with a code; the pane exchanges it with PKCE (S256) at the token endpoint,
// which checks the verifier against the challenge and returns a JWT of a real local issuer (jose,
// JWKS over HTTP); a real sidecar with auth on then serves the cells that showed "sign in" before.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { runConnector, type RunningConnector } from '../../src/runner/connector.js';
import { packageRoot } from '../../src/paths.js';
import { launchBrowser } from '../helpers/browser.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { buildAddin, enter, harnessContext, latest, openTaskPane, serveAddin } from '../helpers/addin.js';

const CLIENT_ID = 'aerogrid-excel';

interface Grant { challenge: string; redirectUri: string }

/** A local authorization server: /authorize signs `user` ("alice" unless changed) in at once; /token checks PKCE and returns the issuer's JWT. */
async function startAuthorizationServer(issuer: TestIssuer, tenant: string): Promise<{ url: string; exchanges: string[]; authorizations: string[]; user: string; close(): Promise<void> }> {
  const grants = new Map<string, Grant>();
  const exchanges: string[] = [];
  const authorizations: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type' };
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', ...cors }).end(JSON.stringify(body));
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, { issuer: base, authorization_endpoint: `${base}authorize`, token_endpoint: `${base}token`, code_challenge_methods_supported: ['S256'] });
    }
    if (url.pathname === '/authorize') {
      authorizations.push(req.url ?? '');
      const p = url.searchParams;
      const redirect = new URL(p.get('redirect_uri') ?? '');
      if (p.get('response_type') !== 'code' || p.get('client_id') !== CLIENT_ID || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || !p.get('state')) {
        redirect.searchParams.set('error', 'invalid_request');
      } else {
        const code = randomUUID();
        grants.set(code, { challenge: p.get('code_challenge')!, redirectUri: redirect.href });
        redirect.searchParams.set('code', code);
        redirect.searchParams.set('state', p.get('state')!);
      }
      return res.writeHead(302, { location: redirect.href }).end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      exchanges.push(form.get('grant_type') ?? '');
      const grant = grants.get(form.get('code') ?? '');
      grants.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!grant || form.get('grant_type') !== 'authorization_code' || form.get('client_id') !== CLIENT_ID || form.get('redirect_uri') !== grant.redirectUri) return json(400, { error: 'invalid_grant' });
      if (challenge !== grant.challenge) return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      return json(200, { access_token: await issuer.token({ sub: login.user, tenant }), token_type: 'Bearer', expires_in: 600 });
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const login = { url: base, exchanges, authorizations, user: 'alice', close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  return login;
}

describe('signing in from the task pane through the Office dialog (harness popup), PKCE, and a sidecar with auth on', () => {
  const broker = testBroker();
  const topic = uniqueName('addin-auth-orders');
  const tenant = uniqueName('addinauth');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-addin-auth' });
  let issuer: TestIssuer;
  let login: Awaited<ReturnType<typeof startAuthorizationServer>>;
  let connector: RunningConnector;
  let addin: { url: string; close(): Promise<void> };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    login = await startAuthorizationServer(issuer, tenant);
    await kafka.ensureTopic(topic, { partitions: 1 });
    connector = await runConnector({
      dir: join(packageRoot, 'test', 'fixtures', 'badrecords'), broker, port: 0, watch: false, tenant,
      env: { ORDERS_TOPIC: topic }, auth: { issuer: issuer.issuer, audience: issuer.audience }, log: () => {},
    });
    await kafka.produce(topic, [{ key: 'o1', value: JSON.stringify({ product: 'fig', quantity: 4 }) }]);
    addin = await serveAddin(buildAddin());
    browser = await launchBrowser();
    context = await harnessContext(browser, { platformUrl: connector.url });
    page = await openTaskPane(context, addin.url);
  });

  afterAll(async () => {
    await browser?.close();
    await addin?.close();
    await connector?.stop();
    await login?.close();
    await issuer?.close();
    await kafka.close();
  });

  it('a cell says to sign in while signed out; after the dialog sign-in it shows the grid', async () => {
    const cell = await enter(page, 'VALUE', ['badrecords', 'product_sum', 'fig', 'units_sold']);
    await waitFor('the sign-in message', async () => /^sign in to AeroGrid \(task pane\)/.test((await latest(page, cell))?.message ?? ''));

    await page.fill('#issuer', login.url);
    await page.fill('#client-id', CLIENT_ID);
    await page.click('#signin-form button[type=submit]');
    await waitFor('signed in', async () => /^Signed in until \d\d:\d\d\.$/.test((await page.textContent('#signin-status')) ?? '') || (await page.textContent('#signin-status'))?.includes('fail'));
    expect(await page.textContent('#signin-status')).toMatch(/^Signed in until \d\d:\d\d\.$/);
    expect(login.exchanges).toEqual(['authorization_code']);
    // The dialog started on the add-in's own callback page, which got the authorize URL from the pane.
    const opened = new URL(await page.evaluate(() => (window as any).harness.dialogs[0] as string));
    expect([opened.pathname, opened.search]).toEqual(['/callback.html', '?start']);
    expect(login.authorizations).toHaveLength(1);
    const authorize = new URL(login.authorizations[0]!, login.url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await waitFor('the value once signed in', async () => (await latest(page, cell)) === 4, 20_000);
  });

  it('the callback page goes to no URL given in its query string (no open redirect)', async () => {
    const before = login.authorizations.length;
    const other = await context.newPage();
    for (const query of [`authorize=${encodeURIComponent(`${login.url}authorize?x=1`)}`, `start&authorize=${encodeURIComponent(`${login.url}authorize?x=1`)}`]) {
      await other.goto(`${addin.url}callback.html?${query}`);
      await other.evaluate(() => new Promise((resolve) => (window as any).Office.onReady(resolve)));
      expect(new URL(other.url()).pathname).toBe('/callback.html');
    }
    await other.close();
    expect(login.authorizations.length).toBe(before);
  });

  it('signing in as someone else moves the open cells to the new user without a "sign in" error in between', async () => {
    const cell = await enter(page, 'VALUE', ['badrecords', 'product_sum', 'fig', 'units_sold']);
    await waitFor('the value', async () => (await latest(page, cell)) === 4);
    const results = () => page.evaluate((c) => (window as any).harness.cells[c].results.map((r: { value: unknown }) => r.value) as any[], cell);
    const before = (await results()).length;

    login.user = 'bob';
    await page.click('#signin-form button[type=submit]');
    await waitFor('signed in as bob', async () => login.exchanges.length === 2 && /^Signed in until/.test((await page.textContent('#signin-status')) ?? ''));
    // The socket of alice is replaced by one of bob: the cell goes through a reconnect and back.
    const after = await waitFor('the value again on a new socket', async () => {
      const shown = (await results()).slice(before);
      return shown.some((v) => v?.error) && shown.at(-1) === 4 ? shown : null;
    }, 20_000);
    const messages = after.filter((v) => v?.error).map((v) => v.message as string);
    expect(messages.filter((m) => /sign in|unauthorized|subject/i.test(m))).toEqual([]);
  });
});
