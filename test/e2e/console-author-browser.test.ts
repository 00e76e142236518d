// Writing an app in the console, in a real Chromium against a real `aerogrid serve --run local`
// with auth on (the test issuer of test/helpers/oidc.ts, signed in through the real PKCE redirect),
// a real bare GitOps repo, real Python and the Kafka test broker: a developer makes an app from the
// orders-sum template, sees a mistake marked on its line, fixes it, tries it on pasted orders,
// deploys it and sees its grid live; then edits it (release 2), rolls back to release 1, deletes
// it (typing its name) and restores it. A viewer sees none of the controls that change an app.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { launchBrowser } from '../helpers/browser.js';
import type { CliProcess } from '../helpers/cli.js';
import { editorText, signedInPage, startConsoleServe, typeIn } from '../helpers/console.js';
import { directoryUrl, fileAt, gitIn, stopServe, treeOf } from '../helpers/gitops.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';

describe('the console: new app, editor, validate, try it, deploy, releases', () => {
  const broker = testBroker();
  const tenant = uniqueName('cui').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('cui-orders');
  const app = 'shop';
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-console-author' });
  let issuer: TestIssuer;
  let repo: string;
  let serve: CliProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  const code = () => fileAt(repo, `tenants/${tenant}/apps/${app}/code/app.py`);

  beforeAll(async () => {
    issuer = await startTestIssuer();
    await kafka.ensureTopic(topic, { partitions: 1 });
    ({ repo, serve, base } = await startConsoleServe('cui', [tenant], topic, { issuer }));
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopServe(serve);
    await issuer?.close();
    await kafka.close();
  });

  const signedIn = (claims: Parameters<TestIssuer['signInAs']>[0]) => signedInPage(browser, base, issuer, claims);

  const typeCode = (text: string) => typeIn(page, '#code', text);
  const codeText = () => editorText(page, '#code');

  it('a developer makes an app from orders-sum: the name is checked as it is typed, the draft\'s aerogrid.yaml shown', async () => {
    page = await signedIn({ sub: 'dana', tenant, roles: ['developer'] });
    await page.click('#new-app');
    await page.locator('#draft-template option[value="orders-sum"]').waitFor({ state: 'attached', timeout: 10_000 });
    await page.selectOption('#draft-template', 'orders-sum');
    await page.fill('#draft-name', 'My_Shop');
    await page.locator('#draft-name-problem', { hasText: "The name 'My_Shop' has uppercase letters" }).waitFor({ timeout: 5000 });
    expect(await page.textContent('#draft-name-problem')).toContain("try 'my-shop'");
    expect(await page.isDisabled('#draft-create')).toBe(true);
    await page.fill('#draft-name', app);
    expect(await page.isVisible('#draft-name-problem')).toBe(false);
    // The topic: from the tenant's allowance.
    await page.locator('#draft-allowance', { hasText: `may read: ${topic}` }).waitFor({ timeout: 10_000 });
    await page.fill('#draft-topic', topic);
    await page.click('#draft-create');
    await page.locator('#editor-title', { hasText: `${tenant}/${app}` }).waitFor({ timeout: 15_000 });
    const yaml = await page.locator('#spec .cm-content').innerText();
    expect(yaml).toContain(`name: ${app}`);
    expect(yaml).toContain(`tenant: ${tenant}`);
    expect(yaml).toContain(`- ${topic}`);
    expect(await codeText()).toContain("product_sum[order.product] = {'units_sold': units_sold}");
    // Highlighted as Python.
    expect(await page.locator('#code .cm-content span').count()).toBeGreaterThan(5);
  }, 60_000);

  it('Validate marks an undeclared column on its line, with the validator\'s message and fix; fixed, it is valid', async () => {
    const good = await codeText();
    const bad = good.replace("{'units_sold': units_sold}", "{'units_sold': units_sold, 'revenue': 0}");
    await typeCode(bad);
    // Deploy refuses it (nothing committed) and marks it as Validate does.
    const before = gitIn(repo, ['rev-parse', 'main']).trim();
    await page.click('#deploy');
    await page.locator('#deploy-status[data-state="failed"]', { hasText: "'revenue'" }).waitFor({ timeout: 20_000 });
    await page.locator('#code .cm-lintRange-error').first().waitFor({ timeout: 20_000 });
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(before);
    await page.click('#validate');
    const line = bad.split('\n').findIndex((l) => l.includes("'revenue'")) + 1;
    const item = page.locator(`#problems li.error[data-file="app.py"][data-line="${line}"]`);
    await item.waitFor({ timeout: 20_000 });
    expect(await item.textContent()).toContain("app.py writes column 'revenue' to grid 'product_sum', which does not declare it");
    expect(await item.textContent()).toContain("fix: add 'revenue' to the grid's columns");
    // In the editor: the range on that line, and the gutter marker.
    const marked = page.locator('#code .cm-line', { has: page.locator('.cm-lintRange-error') });
    expect(await marked.count()).toBe(1);
    expect(await marked.textContent()).toContain("'revenue'");
    expect(await page.locator('#code .cm-lintRange-error').first().textContent()).toContain("'revenue'");
    expect(await page.locator('#code .cm-gutter-lint .cm-lint-marker-error').count()).toBe(1);
    // The tooltip of the mark says the same, with the fix.
    await page.locator('#code .cm-lintRange-error').first().hover();
    const tip = page.locator('.cm-tooltip-lint .cm-diagnostic-error');
    await tip.waitFor({ timeout: 5000 });
    expect(await tip.textContent()).toContain("which does not declare it");
    expect(await tip.textContent()).toContain("fix: add 'revenue'");

    await typeCode(good);
    await page.click('#validate');
    await page.locator('#problems-summary[data-valid="true"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('#code .cm-lintRange-error').count()).toBe(0);
    expect(await page.locator('#problems li.error').count()).toBe(0);
  }, 60_000);

  it('Try it on pasted orders: the sums, and the one bad record dead-lettered with why; nothing deployed', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']).trim();
    await page.fill('#try-records', [
      '{"product": "tea", "quantity": 3}',
      '{"product": "cake", "quantity": 1}',
      '{"product": "tea", "quantity": "many"}',
      '{"product": "tea", "quantity": 2}',
    ].join('\n'));
    await page.click('#try');
    const cell = (key: string) => page.locator(`#try-results .grid[data-grid="product_sum"] tr[data-key="${key}"] td[data-column="units_sold"]`);
    await cell('tea').waitFor({ timeout: 30_000 });
    expect(await cell('tea').textContent()).toBe('5');
    expect(await cell('cake').textContent()).toBe('1');
    const dead = page.locator('#try-dead-letters tbody tr');
    expect(await dead.count()).toBe(1);
    expect(await dead.getAttribute('data-index')).toBe('2');
    expect(await dead.locator('td.reason').textContent()).toBe('validation');
    expect(await dead.locator('td.message').textContent()).toBe("field 'quantity': expected int, got str 'many'");
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(before);
  }, 60_000);

  it('Deploy: committed, followed until the app runs, then its grid is live on the page', async () => {
    await page.click('#deploy');
    await page.locator('#deploy-status[data-state="live"]', { hasText: `Release 1 of ${tenant}/${app} is live` }).waitFor({ timeout: 90_000 });
    expect(treeOf(repo, `tenants/${tenant}/apps/${app}`).length).toBeGreaterThan(0);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain(`AeroGrid-Requested-By: dana (tenant ${tenant}, via the directory)`);
    // Selected: its grid below, live from the sidecar.
    expect(await page.getAttribute(`tr[data-app="${tenant}/${app}"]`, 'class')).toBe('selected');
    await page.locator('#grids .grid[data-grid="product_sum"]').waitFor({ timeout: 30_000 });
    await kafka.produce(topic, [{ key: 'o-1', value: '{"product": "tea", "quantity": 4}' }, { key: 'o-2', value: '{"product": "tea", "quantity": 3}' }]);
    const cell = page.locator('#grids .grid[data-grid="product_sum"] tr[data-key="tea"] td[data-column="units_sold"]');
    await page.waitForFunction(() => document.querySelector('#grids .grid[data-grid="product_sum"] tr[data-key="tea"] td[data-column="units_sold"]')?.textContent === '7', undefined, { timeout: 30_000 });
    expect(await cell.textContent()).toBe('7');
  }, 150_000);

  it('Edit loads the deployed source; deploying it is release 2; Releases rolls back to release 1', async () => {
    const first = code();
    await page.click(`tr[data-app="${tenant}/${app}"] button[data-open="edit"]`);
    await page.locator('#editor-meta', { hasText: 'release 1' }).waitFor({ timeout: 10_000 });
    const source = await codeText();
    expect(source.trimEnd()).toBe(first.trimEnd());
    // A try on the topic's latest records: the two orders the app summed, nothing moved.
    await page.click('#try-topic');
    await page.locator('#try-results .grid[data-grid="product_sum"] tr[data-key="tea"] td[data-column="units_sold"]', { hasText: '7' }).waitFor({ timeout: 30_000 });
    expect(await page.textContent('#try-results')).toContain(`2 records of ${topic}`);
    await typeCode(source.replace("+ order.quantity", "+ order.quantity * 10"));
    await page.click('#deploy');
    await page.locator('#deploy-status[data-state="live"]', { hasText: 'Release 2' }).waitFor({ timeout: 90_000 });
    expect(code()).toContain('order.quantity * 10');

    await page.click(`tr[data-app="${tenant}/${app}"] button[data-open="releases"]`);
    const back = page.locator('#releases button[data-rollback="1"]');
    await back.waitFor({ timeout: 10_000 });
    expect(await page.locator('#releases tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.release))).toEqual(['2', '1']);
    await back.click();
    await waitFor('the rollback to release 1', () => code() === first, 30_000);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toMatch(/AeroGrid-Rollback-To: 1\n/);
    await page.locator('#releases tbody tr[data-release="3"]', { hasText: 'rollback to 1' }).waitFor({ timeout: 10_000 });
  }, 180_000);

  it('Stop and Start: the rolled-back app stops, says so where its grid was, and starts again on release 1\'s code', async () => {
    const row = `tr[data-app="${tenant}/${app}"]`;
    const first = code();
    await page.locator(`${row} td.status[data-status="running"]`).waitFor({ timeout: 60_000 });
    await page.click(`${row} button[data-action="stop"]`);
    await page.locator(`${row} td.status[data-status="stopped"]`).waitFor({ timeout: 60_000 });
    await page.locator('#grids', { hasText: 'The app is stopped' }).waitFor({ timeout: 10_000 });
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain('AeroGrid-Requested-By: dana');
    // Stopping keeps the code: only the desired state changed.
    expect(code()).toBe(first);
    await page.click(`${row} button[data-action="start"]`);
    await page.locator(`${row} td.status[data-status="running"]`).waitFor({ timeout: 90_000 });
    await page.locator('#grids .grid[data-grid="product_sum"] tr[data-key="tea"] td[data-column="units_sold"]', { hasText: '7' }).waitFor({ timeout: 30_000 });
    expect(code()).toBe(first);
  }, 240_000);

  it('Delete asks for the app\'s name, typed; the deleted app\'s releases offer Restore', async () => {
    await page.click(`tr[data-app="${tenant}/${app}"] button[data-action="delete"]`);
    await page.locator('#delete-dialog[open]').waitFor({ timeout: 5000 });
    await page.fill('#delete-name', 'sho');
    expect(await page.isDisabled('#delete-confirm')).toBe(true);
    // Cancelled: nothing happens.
    await page.keyboard.press('Escape');
    await page.waitForTimeout(500);
    expect(await page.locator(`tr[data-app="${tenant}/${app}"]`).count()).toBe(1);
    expect(treeOf(repo, `tenants/${tenant}/apps/${app}`).length).toBeGreaterThan(0);

    await page.click(`tr[data-app="${tenant}/${app}"] button[data-action="delete"]`);
    await page.fill('#delete-name', app);
    await page.click('#delete-confirm');
    await page.locator(`tr[data-app="${tenant}/${app}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    expect(treeOf(repo, `tenants/${tenant}/apps/${app}`)).toEqual([]);
    await page.locator('#releases-section #restore').waitFor({ timeout: 10_000 });
    // Later, on a new page: the deleted app is found by its name, its releases offer Restore.
    await page.reload();
    await page.locator('#who', { hasText: 'dana' }).waitFor({ timeout: 15_000 });
    await page.fill('#lookup-name', app);
    await page.click('#lookup');
    await page.locator('#releases-meta', { hasText: 'deleted' }).waitFor({ timeout: 10_000 });
    const restore = page.locator('#releases-section #restore');
    await restore.waitFor({ timeout: 10_000 });
    await restore.click();
    await page.locator(`tr[data-app="${tenant}/${app}"] td.status[data-status="running"]`).waitFor({ timeout: 90_000 });
    expect(code()).toContain('+ order.quantity\n');
  }, 180_000);

  it('a viewer sees the apps and releases, but no New app, Edit, Deploy, rollback or delete', async () => {
    const viewer = await signedIn({ sub: 'vera', tenant, roles: ['viewer'] });
    const row = `tr[data-app="${tenant}/${app}"]`;
    await viewer.locator(row).waitFor({ timeout: 15_000 });
    expect(await viewer.isVisible('#new-app')).toBe(false);
    expect(await viewer.locator(`${row} button[data-open="edit"]`).count()).toBe(0);
    expect(await viewer.locator(`${row} button[data-action]`).count()).toBe(0);
    expect(await viewer.isVisible('#deploy')).toBe(false);
    expect(await viewer.isVisible('#editor-section')).toBe(false);
    await viewer.click(`${row} button[data-open="releases"]`);
    await viewer.locator('#releases tbody tr').first().waitFor({ timeout: 10_000 });
    expect(await viewer.locator('#releases button').count()).toBe(0);
    // The server refuses anyway (before it reads the body).
    const token = await viewer.evaluate(() => sessionStorage.getItem('aerogrid.token'));
    const files = { 'aerogrid.yaml': '', 'app.py': code() };
    const refused = await fetch(`${base}/v1/apps/${tenant}/${app}/deploy`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ files }) });
    expect(refused.status).toBe(403);
    await viewer.close();
  }, 60_000);
});

describe('the console with auth off: New app names the tenant', () => {
  const tenant = uniqueName('cuioff').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('cuioff-orders');
  let serve: CliProcess;
  let browser: Browser;

  beforeAll(async () => {
    ({ serve } = await startConsoleServe('cuioff', [tenant], topic));
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopServe(serve);
  });

  it('asks for the tenant, offers its topics, and drafts the app for it', async () => {
    const page = await browser.newPage();
    await page.goto(`${directoryUrl(serve)}/`);
    await page.locator('#who', { hasText: 'auth off' }).waitFor({ timeout: 15_000 });
    await page.click('#new-app');
    await page.locator('#draft-tenant').waitFor({ timeout: 10_000 });
    // A name but no tenant: nothing to create yet (the server would refuse the draft).
    await page.fill('#draft-name', 'offline');
    expect(await page.isDisabled('#draft-create')).toBe(true);
    await page.fill('#draft-tenant', tenant);
    await page.locator('#draft-tenant').dispatchEvent('change');
    await page.locator('#draft-allowance', { hasText: `tenant ${tenant} may read: ${topic}` }).waitFor({ timeout: 10_000 });
    await page.fill('#draft-topic', topic);
    expect(await page.isDisabled('#draft-create')).toBe(false);
    await page.click('#draft-create');
    await page.locator('#editor-title', { hasText: `${tenant}/offline` }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#spec .cm-content').innerText()).toContain(`tenant: ${tenant}`);
    expect(await page.isVisible('#deploy')).toBe(true);
    await page.close();
  }, 60_000);
});
