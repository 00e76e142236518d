// The viewer page with auth on, in a real browser (Debian's Chromium): it asks for a token instead
// of showing nothing, says why a token was refused, and shows the grids once a good one is given.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frontend } from '../../sidecar/src/http/server.js';
import { launchBrowser } from '../helpers/browser.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { ordersStore, startAppFrontend } from '../helpers/frontend.js';

describe('the viewer page with auth on', () => {
  let issuer: TestIssuer;
  let fe: Frontend;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    fe = await startAppFrontend(ordersStore(), issuer);
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await fe?.close();
    await issuer?.close();
  });

  async function signIn(token: string): Promise<void> {
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', token);
    await page.click('#login button');
  }

  it('asks for a token, explains a refusal, then shows the grid', async () => {
    await page.goto(fe.url);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.textContent('#login-reason')).toMatch(/needs an access token/);

    await signIn(await issuer.token({ tenant: 'acme' }, { audience: 'https://other.example/api' }));
    await page.waitForFunction(() => /audience/.test(document.getElementById('login-reason')!.textContent ?? ''));
    expect(await page.isVisible('main table')).toBe(false);

    await signIn(await issuer.token({ tenant: 'acme', sub: 'carol' }));
    await page.waitForSelector('main table tbody tr');
    expect(await page.textContent('main table tbody')).toContain('How to...');
    expect(await page.textContent('#who')).toBe('signed in as carol');
    expect(await page.isHidden('#login')).toBe(true);
  });

  it('keeps the token for the tab across a reload', async () => {
    await page.reload();
    await page.waitForSelector('main table tbody tr');
    expect(await page.isHidden('#login')).toBe(true);
  });
});
