// The add-in served by the platform itself (https://<host>/addin/, as `aerogrid serve` hosts it):
// its task pane starts on that platform without anyone typing its URL. A real directory server
// (over a one-app source) and the built add-in in Chromium; Chromium's requests for the https
// host are answered by that server through Playwright's routing (no TLS here; the directory's
// watch WebSocket is not routed, so the pane lists by HTTP), the harness page plays Excel.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccess } from '../../src/directory/access.js';
import { hostAddin } from '../../src/directory/addin-hosting.js';
import { startDirectoryServer, type DirectoryServer } from '../../src/directory/server.js';
import { startDirectory } from '../../src/directory/state.js';
import { chromiumPath } from '../helpers/browser.js';
import { buildAddin, harnessContext, openTaskPane } from '../helpers/addin.js';
import { waitFor } from '../helpers/wait.js';

const HOST = 'aerogrid.example.com';

describe('the add-in hosted by the platform', () => {
  let server: DirectoryServer;
  let browser: Browser;
  const asked: string[] = [];

  beforeAll(async () => {
    const desired = {
      key: 'sales/ordersapp', tenant: 'sales', app: 'ordersapp', tree: 't', commit: 'c'.repeat(40), replicas: 1, entrypoint: 'app.py',
      grids: [{ name: 'product_sum', columns: ['units'] }], viewerGroups: [], allowedTopics: ['orders'],
      resources: { cpu: '250m', memory: '256Mi' }, dir: '/nowhere',
    };
    const directory = startDirectory({ apps: () => [{ desired }], onChange: () => () => undefined });
    server = await startDirectoryServer({
      host: '127.0.0.1', port: 0, directory, access: createAccess(undefined), addin: hostAddin(HOST, { dist: buildAddin() }),
      act: async () => { throw new Error('no actions here'); },
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opened from https://<host>/addin/, the task pane takes that host as its platform and lists its apps', async () => {
    const context = await harnessContext(browser);
    await context.route(`https://${HOST}/**`, async (route) => {
      const url = new URL(route.request().url());
      asked.push(url.pathname);
      const answer = await fetch(`${server.url}${url.pathname}${url.search}`, { headers: route.request().headers() });
      await route.fulfill({ status: answer.status, headers: Object.fromEntries(answer.headers), body: Buffer.from(await answer.arrayBuffer()) });
    });
    const page = await openTaskPane(context, `https://${HOST}/addin/`);
    expect(await page.inputValue('#platform-url')).toBe(`https://${HOST}`);
    await waitFor('the pane to list the platform\'s app', async () => /ordersapp/.test((await page.textContent('#apps-body')) ?? ''), 20_000);
    expect(asked).toContain('/v1/apps');
    await context.close();
  });
});
