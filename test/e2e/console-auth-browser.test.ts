// The console in a real Chromium with auth on: it signs users in through the real authorization
// code + PKCE redirect against a real local issuer (test/helpers/oidc.ts: /authorize approves
// at once as the user the test picks, /token checks the S256 verifier), and shows each user what
// they may do: signed out only the sign-in button, a viewer the apps and grids without actions, a
// developer the actions too. Refusals (a sidecar's, the issuer's) are shown, not retried.
// Real directory server and sidecar front end; the directory's app list comes from a fixed source
// instead of a GitOps runner (the runner is not what is tested).
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frontend } from '../../sidecar/src/http/server.js';
import { serveDirectory } from '../../src/directory/serve.js';
import { launchBrowser } from '../helpers/browser.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { ordersStore, startAppFrontend } from '../helpers/frontend.js';

const ROW = 'tr[data-app="acme/ordersapp"]';

describe('console: sign-in with authorization code + PKCE, and what each role sees', () => {
  let issuer: TestIssuer;
  let sidecar: Frontend;
  let directory: { url: string; close(): Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    sidecar = await startAppFrontend(ordersStore(), issuer, { viewerGroups: ['traders'] });
    const app = {
      desired: { key: 'acme/ordersapp', tenant: 'acme', app: 'ordersapp', tree: 't', commit: 'c0ffee', replicas: 1, entrypoint: 'app.py', grids: [{ name: 'product_sum', columns: ['units_sold'] }], viewerGroups: ['traders'] },
      state: { tenant: 'acme', app: 'ordersapp', commit: 'c0ffee', replicas: 1, phase: 'running' as const, url: sidecar.url, logFile: '', updatedAt: new Date().toISOString() },
    };
    directory = await serveDirectory({
      runner: { apps: () => [app], onChange: () => () => undefined },
      repo: '',
      host: '127.0.0.1',
      port: 0,
      auth: { issuer: issuer.issuer, audience: issuer.audience },
      oidcClientId: issuer.clientId,
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await directory?.close();
    await sidecar?.close();
    await issuer?.close();
  });

  /** A new tab on the console, counting its WebSockets to the sidecar (window.__sidecarSockets). */
  async function openConsole(): Promise<Page> {
    const page = await browser.newPage();
    await page.addInitScript(`(() => {
      const Native = WebSocket;
      window.__sidecarSockets = 0;
      window.WebSocket = function (url, protocols) {
        if (String(url).includes(':${sidecar.port}/')) window.__sidecarSockets++;
        return new Native(url, protocols);
      };
      window.WebSocket.prototype = Native.prototype;
      Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    })()`);
    await page.goto(`${directory.url}/`);
    return page;
  }

  /** Signed out: the sign-in button and nothing of the apps. */
  async function expectSignedOut(page: Page): Promise<void> {
    // Well before the directory's 10 s auth timeout.
    await page.locator('#conn', { hasText: 'signed out' }).waitFor({ timeout: 5000 });
    expect(await page.isVisible('#signin')).toBe(true);
    expect(await page.isVisible('#console')).toBe(false);
    expect(await page.locator('tr[data-app]').count()).toBe(0);
    expect(await page.locator('button[data-action]').count()).toBe(0);
  }

  /** Clicks "Sign in": the issuer approves at once and sends the browser back with a code. */
  async function signIn(page: Page): Promise<void> {
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${issuer.issuer}authorize?`), { timeout: 10_000 });
    await page.click('#signin');
    await authorize;
    // Back on the console, which takes the code out of the address bar.
    await page.waitForURL((url) => url.origin === new URL(directory.url).origin && url.search === '', { timeout: 10_000 });
  }

  it('the directory tells the page how to sign in; the page is served with no inline script', async () => {
    const config = await fetch(`${directory.url}/v1/console/config`).then((r) => r.json());
    expect(config).toEqual({ auth: true, issuer: issuer.issuer, audience: issuer.audience, client_id: issuer.clientId, scope: 'openid profile' });
    const page = await fetch(`${directory.url}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await page.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(`${directory.url}/console.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('without --oidc-client-id the console says sign-in is not set up, and offers no button that cannot work', async () => {
    const bare = await serveDirectory({
      runner: { apps: () => [], onChange: () => () => undefined }, repo: '', host: '127.0.0.1', port: 0,
      auth: { issuer: issuer.issuer, audience: issuer.audience },
    });
    try {
      expect((await fetch(`${bare.url}/v1/console/config`).then((r) => r.json())).client_id).toBeNull();
      const page = await browser.newPage();
      await page.goto(`${bare.url}/`);
      await page.locator('#signed-out-text', { hasText: '--oidc-client-id' }).waitFor({ timeout: 5000 });
      expect(await page.isDisabled('#signin')).toBe(true);
      await page.close();
    } finally {
      await bare.close();
    }
  });

  it('signed out: only the sign-in button; a viewer signs in through the PKCE redirect and sees the apps but no actions; a sidecar refusal stays on screen, not retried', async () => {
    const page = await openConsole();
    await expectSignedOut(page);

    // A viewer of the tenant, but not of the app's group 'traders'.
    issuer.signInAs({ sub: 'vera', tenant: 'acme', roles: ['viewer'] });
    const before = issuer.authorizations.length;
    await signIn(page);
    await page.locator(`${ROW} td.status[data-status="running"]`).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#who')).toBe('vera · tenant acme');
    expect(await page.locator(`${ROW} button[data-action]`).count()).toBe(0);
    // Of the row's buttons only Releases and Logs (they read, change nothing); no Edit, no New app.
    expect(await page.locator(`${ROW} button`).evaluateAll((bs) => bs.map((b) => (b as HTMLElement).dataset.open))).toEqual(['releases', 'logs']);
    expect(await page.isVisible('#new-app')).toBe(false);
    expect(await page.isVisible('#signin')).toBe(false);

    // The redirect was the real one: S256 challenge out, the matching verifier in, the code gone.
    const authorize = issuer.authorizations[before]!;
    expect(authorize.get('client_id')).toBe(issuer.clientId);
    expect(authorize.get('redirect_uri')).toBe(`${directory.url}/`);
    expect(authorize.get('code_challenge_method')).toBe('S256');
    expect(authorize.get('audience')).toBe(issuer.audience);
    const exchange = issuer.exchanges.at(-1)!;
    expect(exchange.status).toBe(200);
    expect(createHash('sha256').update(exchange.form.code_verifier!).digest('base64url')).toBe(authorize.get('code_challenge'));

    await page.locator(ROW).click();
    const refusal = page.locator('#grids .empty', { hasText: /traders/ });
    await refusal.waitFor({ timeout: 10_000 });
    // The old console reconnected every second, the error flickering; now it stays, one socket.
    await page.waitForTimeout(3000);
    expect(await refusal.isVisible()).toBe(true);
    expect(await page.evaluate('window.__sidecarSockets')).toBe(1);

    // Signing out leaves only the sign-in button again.
    await page.click('#signout');
    await expectSignedOut(page);
    await page.close();
  });

  it('a developer sees stop, roll back and delete, and the grid live', async () => {
    const page = await openConsole();
    await expectSignedOut(page);
    issuer.signInAs({ sub: 'dave', tenant: 'acme', roles: ['developer'], groups: ['traders'] });
    await signIn(page);
    await page.locator(`${ROW} td.status[data-status="running"]`).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#who')).toBe('dave · tenant acme');
    expect(await page.locator(`${ROW} button[data-action]`).evaluateAll((bs) => bs.map((b) => (b as HTMLElement).dataset.action))).toEqual(['stop', 'rollback', 'delete']);

    await page.locator(`${ROW} td.status`).click();
    const cell = page.locator('.grid[data-grid="product_sum"] tr[data-key="How to..."] td[data-column="units_sold"]');
    await cell.waitFor({ timeout: 10_000 });
    expect(await cell.textContent()).toBe('300');
    await page.close();
  });

  it('a wrong code_verifier: the issuer refuses the code, and the console stays signed out and says why', async () => {
    const page = await openConsole();
    await expectSignedOut(page);
    issuer.signInAs({ sub: 'dave', tenant: 'acme', roles: ['developer'], groups: ['traders'] });
    // The token request leaves the page with another (well-formed) verifier than the one the
    // challenge was made from.
    await page.route(`${issuer.issuer}token`, async (route) => {
      const form = new URLSearchParams(route.request().postData() ?? '');
      form.set('code_verifier', 'x'.repeat(43));
      await route.continue({ postData: form.toString() });
    });
    const before = issuer.exchanges.length;
    await signIn(page);
    await page.locator('#signin-error', { hasText: 'PKCE verification failed' }).waitFor({ timeout: 10_000 });
    expect(issuer.exchanges.slice(before).map((e) => [e.status, e.error])).toEqual([[400, 'PKCE verification failed: the code_verifier does not match the code_challenge']]);
    await expectSignedOut(page);
    expect(await page.evaluate(() => sessionStorage.getItem('aerogrid.token'))).toBeNull();
    await page.close();
  });
});
