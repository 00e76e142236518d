// The console in a real Chromium when the servers refuse it: the directory without a token, an
// app's sidecar for a user outside the app's groups. It says so and stays quiet: no reconnect loop.
// Real directory server and sidecar front end with a real local OIDC issuer; the directory's app
// list comes from a fixed source instead of a GitOps runner (the runner is not what is tested).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frontend } from '../../sidecar/src/http/server.js';
import { serveDirectory } from '../../src/directory/serve.js';
import { launchBrowser } from '../helpers/browser.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { ordersStore, startAppFrontend } from '../helpers/frontend.js';

describe('console: refusals are shown, not retried', () => {
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
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await directory?.close();
    await sidecar?.close();
    await issuer?.close();
  });

  it('says "signed out" at once without a token; a sidecar refusal stays on screen and is not retried', async () => {
    const page = await browser.newPage();
    // Count the page's WebSockets to the sidecar.
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
    // Well before the directory's 10 s auth timeout.
    await page.locator('#conn', { hasText: 'signed out' }).waitFor({ timeout: 5000 });

    // A viewer of the tenant, but not of the app's group 'traders'.
    await page.fill('#token', await issuer.token({ sub: 'vera', tenant: 'acme', roles: ['viewer'] }));
    await page.click('#signin button');
    await page.locator('tr[data-app="acme/ordersapp"]').click();
    const refusal = page.locator('#grids .empty', { hasText: /traders/ });
    await refusal.waitFor({ timeout: 10_000 });
    // The old console reconnected every second, the error flickering; now it stays, one socket.
    await page.waitForTimeout(3000);
    expect(await refusal.isVisible()).toBe(true);
    expect(await page.evaluate('window.__sidecarSockets')).toBe(1);
  });
});
