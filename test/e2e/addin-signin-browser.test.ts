// Sign-in from the task pane, end to end in Chromium: the Office dialog (a real popup opened by the
// harness standing in for Office.js) goes to the local issuer (test/helpers/oidc.ts), which signs
// the user in at once and redirects back with a code; the pane exchanges it with PKCE (S256) at
// the token endpoint, which checks the verifier against the challenge and returns the issuer's JWT
// (jose, JWKS over HTTP); a real sidecar with auth on then serves the cells that showed "sign in"
// before.
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

describe('signing in from the task pane through the Office dialog (harness popup), PKCE, and a sidecar with auth on', () => {
  const broker = testBroker();
  const topic = uniqueName('addin-auth-orders');
  const tenant = uniqueName('addinauth');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-addin-auth' });
  let issuer: TestIssuer;
  let connector: RunningConnector;
  let addin: { url: string; close(): Promise<void> };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    issuer.signInAs({ sub: 'alice', tenant });
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
    await issuer?.close();
    await kafka.close();
  });

  it('a cell says to sign in while signed out; after the dialog sign-in it shows the grid', async () => {
    const cell = await enter(page, 'VALUE', ['badrecords', 'product_sum', 'fig', 'units_sold']);
    await waitFor('the sign-in message', async () => /^sign in to AeroGrid \(task pane\)/.test((await latest(page, cell))?.message ?? ''));

    await page.fill('#issuer', issuer.issuer);
    await page.fill('#client-id', CLIENT_ID);
    await page.click('#signin-form button[type=submit]');
    await waitFor('signed in', async () => /^Signed in until \d\d:\d\d\.$/.test((await page.textContent('#signin-status')) ?? '') || (await page.textContent('#signin-status'))?.includes('fail'));
    expect(await page.textContent('#signin-status')).toMatch(/^Signed in until \d\d:\d\d\.$/);
    expect(issuer.exchanges.map((e) => [e.form.grant_type, e.form.client_id, e.status])).toEqual([['authorization_code', CLIENT_ID, 200]]);
    // The dialog started on the add-in's own callback page, which got the authorize URL from the pane.
    const opened = new URL(await page.evaluate(() => (window as any).harness.dialogs[0] as string));
    expect([opened.pathname, opened.search]).toEqual(['/callback.html', '?start']);
    expect(issuer.authorizations).toHaveLength(1);
    const authorize = issuer.authorizations[0]!;
    expect(authorize.get('client_id')).toBe(CLIENT_ID);
    expect(authorize.get('code_challenge_method')).toBe('S256');
    expect(authorize.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await waitFor('the value once signed in', async () => (await latest(page, cell)) === 4, 20_000);
  });

  it('the callback page goes to no URL given in its query string (no open redirect)', async () => {
    const before = issuer.authorizations.length;
    const other = await context.newPage();
    for (const query of [`authorize=${encodeURIComponent(`${issuer.issuer}authorize?x=1`)}`, `start&authorize=${encodeURIComponent(`${issuer.issuer}authorize?x=1`)}`]) {
      await other.goto(`${addin.url}callback.html?${query}`);
      await other.evaluate(() => new Promise((resolve) => (window as any).Office.onReady(resolve)));
      expect(new URL(other.url()).pathname).toBe('/callback.html');
    }
    await other.close();
    expect(issuer.authorizations.length).toBe(before);
  });

  it('signing in as someone else moves the open cells to the new user without a "sign in" error in between', async () => {
    const cell = await enter(page, 'VALUE', ['badrecords', 'product_sum', 'fig', 'units_sold']);
    await waitFor('the value', async () => (await latest(page, cell)) === 4);
    const results = () => page.evaluate((c) => (window as any).harness.cells[c].results.map((r: { value: unknown }) => r.value) as any[], cell);
    const before = (await results()).length;

    issuer.signInAs({ sub: 'bob', tenant });
    await page.click('#signin-form button[type=submit]');
    await waitFor('signed in as bob', async () => issuer.exchanges.length === 2 && /^Signed in until/.test((await page.textContent('#signin-status')) ?? ''));
    // The socket of alice is replaced by one of bob: the cell goes through a reconnect and back.
    const after = await waitFor('the value again on a new socket', async () => {
      const shown = (await results()).slice(before);
      return shown.some((v) => v?.error) && shown.at(-1) === 4 ? shown : null;
    }, 20_000);
    const messages = after.filter((v) => v?.error).map((v) => v.message as string);
    expect(messages.filter((m) => /sign in|unauthorized|subject/i.test(m))).toEqual([]);
  });
});
