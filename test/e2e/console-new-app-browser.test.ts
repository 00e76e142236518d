// The New app form and the editors, in a real Chromium against a real `aerogrid serve` with auth on
// (the test issuer of test/helpers/oidc.ts, the real PKCE redirect), a real bare GitOps repo and
// real Python: a developer declares a grid in the form, sees the aerogrid.yaml it makes, has a bad
// grid name refused as it is typed, and tries the draft on pasted records; an aerogrid.yaml problem
// and an app.py that does not load are marked on their lines; a viewer's page never loads the
// editor's code.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import type { CliProcess } from '../helpers/cli.js';
import { editorText, signedInPage, startConsoleServe, typeIn, type ConsoleEditor } from '../helpers/console.js';
import { gitIn, stopServe } from '../helpers/gitops.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { uniqueName } from '../helpers/wait.js';

describe('the console\'s New app form: declared grids, the yaml editor, a try that does not load', () => {
  const tenant = uniqueName('cna').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('cna-orders');
  let issuer: TestIssuer;
  let repo: string;
  let serve: CliProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  const requested: string[] = [];
  const editorChunk = (urls: string[]) => urls.filter((u) => /\/chunks\/editor-[^/]+\.js$/.test(u));

  beforeAll(async () => {
    issuer = await startTestIssuer();
    ({ repo, serve, base } = await startConsoleServe('cna', [tenant], topic, { issuer }));
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopServe(serve);
    await issuer?.close();
  });

  /** A signed-in page; every URL it asks for goes in `urls`, the text of each script it runs in `scripts`. */
  const signedIn = (claims: Parameters<TestIssuer['signInAs']>[0], urls: string[], scripts: Array<Promise<string>> = []): Promise<Page> =>
    signedInPage(browser, base, issuer, claims, (p) => {
      p.on('request', (r) => urls.push(r.url()));
      p.on('response', (r) => {
        if (r.request().resourceType() === 'script') scripts.push(r.text().catch(() => ''));
      });
    });

  const typeInto = (editor: ConsoleEditor, text: string) => typeIn(page, editor, text);
  const textOf = (editor: ConsoleEditor) => editorText(page, editor);

  it('a developer declares the grid sales (key product, column qty int) and sees its aerogrid.yaml; a bad name is refused as typed', async () => {
    page = await signedIn({ sub: 'dana', tenant, roles: ['developer'] }, requested);
    await page.locator('#new-app').waitFor({ timeout: 10_000 });
    // Signed in, before New app: the page has not fetched the editor.
    expect(editorChunk(requested)).toEqual([]);
    await page.click('#new-app');
    await page.locator('#draft-template option[value="orders-sum"]').waitFor({ state: 'attached', timeout: 10_000 });
    await page.selectOption('#draft-template', 'orders-sum');
    await page.fill('#draft-name', 'shop');
    await page.locator('#draft-allowance', { hasText: `may read: ${topic}` }).waitFor({ timeout: 10_000 });
    await page.fill('#draft-topic', topic);
    // Nothing declared yet: the template's grid.
    await page.locator('#draft-yaml', { hasText: 'name: product_sum' }).waitFor({ timeout: 10_000 });

    await page.click('#draft-add-grid');
    const gridName = page.locator('input[data-path="grids[0].name"]');
    await gridName.pressSequentially('Bad name');
    const problem = page.locator('[data-problem="grids[0].name"]');
    await problem.waitFor({ timeout: 5000 });
    expect(await problem.textContent()).toBe('spec.grids[0].name "Bad name" has a space; grid names may only hold letters, digits, \'_\' and \'-\'; fix: use \'Bad_name\' (grid names start with a letter and hold letters, digits, \'_\' and \'-\', at most 63 characters)');
    expect(await page.isDisabled('#draft-create')).toBe(true);
    await gridName.fill('sales');
    expect(await problem.isVisible()).toBe(false);
    await page.fill('input[data-path="grids[0].key[0].name"]', 'product');
    await page.fill('input[data-path="grids[0].columns[0].name"]', 'qty');
    await page.selectOption('select[data-path="grids[0].columns[0].type"]', 'int');
    // A column YAML takes but a record field cannot be: refused as typed too.
    await page.click('.draft-grid .add-columns');
    await page.fill('input[data-path="grids[0].columns[1].name"]', 'unit price');
    await page.locator('[data-problem="grids[0].columns[1].name"]', { hasText: 'column "unit price" of grid \'sales\' has a space' }).waitFor({ timeout: 5000 });
    expect(await page.isDisabled('#draft-create')).toBe(true);
    await page.locator('[data-field="columns-1"] button', { hasText: 'Remove' }).click();
    expect(await page.locator('[data-problem="grids[0].columns[1].name"]').count()).toBe(0);

    // The aerogrid.yaml the form makes, rendered by the server as the form changes.
    await page.locator('#draft-yaml', { hasText: '- name: sales' }).waitFor({ timeout: 10_000 });
    await page.locator('#draft-yaml', { hasText: 'columns: [qty]' }).waitFor({ timeout: 10_000 });
    const yaml = await page.textContent('#draft-yaml');
    expect(yaml).toContain('description: one row per product');
    expect(yaml).toContain('name: shop');
    expect(yaml).toContain(`- ${topic}`);
    expect(yaml).not.toContain('product_sum');
    expect(await page.textContent('#draft-yaml-note')).toContain('app.py will be a handler stub that writes the declared grids');

    expect(await page.isDisabled('#draft-create')).toBe(false);
    await page.click('#draft-create');
    await page.locator('#editor-title', { hasText: `${tenant}/shop` }).waitFor({ timeout: 15_000 });
    expect(await page.textContent('#editor-meta')).toContain('app.py a stub for the declared grids');
    expect(await textOf('#code')).toContain("sales_grid[record.product] = {'qty': record.qty}");
    expect(await textOf('#spec')).toContain('columns: [qty]');
    // aerogrid.yaml is highlighted as YAML.
    expect(await page.locator('#spec .cm-content span').count()).toBeGreaterThan(5);
    // Opening New app fetched the editor, once.
    expect(editorChunk(requested)).toHaveLength(1);
  }, 60_000);

  it('the draft validates, and Try it on pasted records fills the declared grid', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']).trim();
    await page.click('#validate');
    await page.locator('#problems-summary[data-valid="true"]').waitFor({ timeout: 20_000 });
    await page.fill('#try-records', ['{"product": "tea", "qty": 3}', '{"product": "cake", "qty": 1}', '{"product": "tea", "qty": "lots"}'].join('\n'));
    await page.click('#try');
    const cell = (key: string) => page.locator(`#try-results .grid[data-grid="sales"] tr[data-key="${key}"] td[data-column="qty"]`);
    await cell('tea').waitFor({ timeout: 30_000 });
    expect(await cell('tea').textContent()).toBe('3');
    expect(await cell('cake').textContent()).toBe('1');
    const dead = page.locator('#try-dead-letters tbody tr');
    expect(await dead.count()).toBe(1);
    expect(await dead.locator('td.message').textContent()).toBe("field 'qty': expected int, got str 'lots'");
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(before);
  }, 60_000);

  it('an unknown field in aerogrid.yaml is marked on its line in the yaml editor', async () => {
    const good = await textOf('#spec');
    const bad = good.replace('  replicas: 1', '  colour: blue\n  replicas: 1');
    await typeInto('#spec', bad);
    await page.click('#validate');
    const line = bad.split('\n').findIndex((l) => l.includes('colour: blue')) + 1;
    const item = page.locator(`#problems li.error[data-file="aerogrid.yaml"][data-line="${line}"]`);
    await item.waitFor({ timeout: 20_000 });
    expect(await item.textContent()).toContain('colour');
    const marked = page.locator('#spec .cm-line', { has: page.locator('.cm-lintRange-error') });
    await marked.first().waitFor({ timeout: 5000 });
    expect(await marked.count()).toBe(1);
    expect(await marked.textContent()).toContain('colour: blue');
    expect(await page.locator('#spec .cm-gutter-lint .cm-lint-marker-error').count()).toBe(1);
    expect(await page.locator('#code .cm-lintRange-error').count()).toBe(0);
    await page.locator('#spec .cm-lintRange-error').first().hover();
    const tip = page.locator('.cm-tooltip-lint .cm-diagnostic-error');
    await tip.waitFor({ timeout: 5000 });
    expect(await tip.textContent()).toContain('colour');

    await typeInto('#spec', good);
    await page.click('#validate');
    await page.locator('#problems-summary[data-valid="true"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('#spec .cm-lintRange-error').count()).toBe(0);
  }, 60_000);

  it('Try it on an app.py with a syntax error: load_failed, marked at its line', async () => {
    const good = await textOf('#code');
    const bad = good.replace("source = app.topic('", "source = app.topic(('");
    await typeInto('#code', bad);
    await page.fill('#try-records', '{"product": "tea", "qty": 3}');
    await page.click('#try');
    await page.locator('#try-results .error', { hasText: 'SyntaxError' }).waitFor({ timeout: 30_000 });
    const line = bad.split('\n').findIndex((l) => l.startsWith('source = app.topic((')) + 1;
    expect(await page.textContent('#try-results .error')).toContain(`app.py:${line}: SyntaxError`);
    const marked = page.locator('#code .cm-line', { has: page.locator('.cm-lintRange-error') });
    await marked.first().waitFor({ timeout: 5000 });
    expect(await marked.count()).toBe(1);
    expect(await marked.textContent()).toContain('source = app.topic((');
    expect(await page.locator('#code .cm-gutter-lint .cm-lint-marker-error').count()).toBe(1);
    // Seen, not only in the DOM: underlined in red (the page's policy loads no image).
    const look = await page.locator('#code .cm-lintRange-error').first().evaluate((e) => { const s = getComputedStyle(e); return `${s.textDecorationLine} ${s.textDecorationStyle} ${s.textDecorationColor}`; });
    expect(look).toBe('underline wavy rgb(238, 17, 17)');
    await typeInto('#code', good);
  }, 60_000);

  it('a viewer\'s page never loads the editor chunk, nor CodeMirror in any script', async () => {
    const urls: string[] = [];
    const scripts: Array<Promise<string>> = [];
    const viewer = await signedIn({ sub: 'vera', tenant, roles: ['viewer'] }, urls, scripts);
    // The apps list came (the page knows the viewer's role from it), and a while more.
    await viewer.locator('#no-apps', { hasText: 'No apps deployed yet.' }).waitFor({ timeout: 15_000 });
    await viewer.waitForTimeout(1000);
    expect(await viewer.isVisible('#new-app')).toBe(false);
    expect(urls.some((u) => u.endsWith('/console.js'))).toBe(true);
    expect(editorChunk(urls)).toEqual([]);
    // Nor is CodeMirror bundled into what it did load (its lint marks' class names).
    const loaded = await Promise.all(scripts);
    expect(loaded.length).toBeGreaterThan(0);
    for (const text of loaded) expect(text).not.toContain('cm-lintRange');
    await viewer.close();
  }, 60_000);
});
