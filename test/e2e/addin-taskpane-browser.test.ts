// The task pane and AEROGRID.APPS against a real `aerogrid serve` (its directory, the local runner,
// real sidecars on real Kafka), in Chromium with a harness page standing in for Excel/Office.js.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { packageRoot } from '../../src/paths.js';
import { launchBrowser } from '../helpers/browser.js';
import type { CliProcess } from '../helpers/cli.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';
import { cliEnv, directoryUrl, startServe, stopServe, tempDir, writeConnector } from '../helpers/gitops.js';
import { asSpill, buildAddin, enter, harnessContext, latest, openTaskPane, serveAddin } from '../helpers/addin.js';

describe('the task pane and AEROGRID.APPS on a real aerogrid serve directory (a harness page stands in for Excel)', () => {
  const broker = testBroker();
  const tenant = uniqueName('pane').replace(/[^a-z0-9-]/g, '');
  const topic = uniqueName('pane-ticks');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-addin-pane' });
  let env: NodeJS.ProcessEnv;
  let serve: CliProcess;
  let directory: string;
  let addin: { url: string; close(): Promise<void> };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const deploy = async (name: string) => {
    const dir = await writeConnector(join(await tempDir('pane-conn'), name), { name, tenant, topics: [topic] });
    const run = await runCli(['deploy', dir, '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
  };
  const appOf = async (name: string) => (await getJson(`${directory}/v1/apps`)).body.apps.find((a: { name: string }) => a.name === name);

  beforeAll(async () => {
    const home = await tempDir('pane-home');
    const repo = join(await tempDir('pane-remote'), 'gitops.git');
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    await kafka.ensureTopic(topic, { partitions: 2 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
    await deploy('paneapp');
    serve = await startServe(['--broker', broker, '--poll', '200'], env);
    directory = directoryUrl(serve);
    await kafka.produce(topic, [{ key: 'a', value: JSON.stringify({ name: 'x', value: 5 }) }, { key: 'b', value: JSON.stringify({ name: 'y', value: 2 }) }]);
    const app = await waitFor('the app ready in the directory', async () => { const a = await appOf('paneapp'); return a?.ready ? a : null; }, 60_000);
    await waitFor('the grid', async () => (await getJson(new URL("v1/grids/totals", `${app.url}/`).href)).body?.rows?.y?.total === 2);
    addin = await serveAddin(buildAddin());
    browser = await launchBrowser();
    context = await harnessContext(browser);
    page = await openTaskPane(context, addin.url);
  });

  afterAll(async () => {
    await browser?.close();
    await addin?.close();
    await stopServe(serve);
    await kafka.close();
  });

  it('refuses a platform URL that is not one, saying what to enter', async () => {
    await page.fill('#platform-url', 'aerogrid.example.com');
    await page.click('#platform-form button[type=submit]');
    expect(await page.textContent('#platform-error')).toContain("'aerogrid.example.com' is not a URL: enter the platform URL");
  });

  it('lists the apps of the directory with their status; a screenshot shows them', async () => {
    await page.fill('#platform-url', directory);
    await page.click('#platform-form button[type=submit]');
    await page.waitForSelector('#apps-body tr[data-app="paneapp"]');
    await waitFor('the app running', async () => (await page.textContent('#apps-body tr[data-app="paneapp"] .status')) === 'running');
    expect(await page.textContent('#apps-body tr[data-app="paneapp"]')).toContain('Insert totals');
    expect(await page.textContent('#platform-error')).toBe('');
    mkdirSync(join(packageRoot, 'test-results'), { recursive: true });
    const png = await page.screenshot({ path: join(packageRoot, 'test-results', 'addin-taskpane.png'), fullPage: true });
    expect(png.length).toBeGreaterThan(5_000);
  });

  it('the Insert button writes the grid\'s formula into the selected cell', async () => {
    await page.evaluate(() => { (window as any).harness.sheet.selection = 'C3'; });
    await page.click('#apps-body tr[data-app="paneapp"] button');
    await waitFor('the formula in C3', () => page.evaluate(() => (window as any).harness.sheet.formulas.C3));
    expect(await page.evaluate(() => (window as any).harness.sheet.formulas.C3)).toBe('=AEROGRID.GRID("paneapp","totals")');
  });

  it('=AEROGRID.APPS lists the apps live and =AEROGRID.GRID resolves an app through the directory', async () => {
    const apps = await enter(page, 'APPS', []);
    const list = await waitFor('the app list', async () => { const v = await latest(page, apps); return Array.isArray(v) && v.length === 2 ? v : null; });
    expect(list).toEqual([['app', 'tenant', 'status', 'ready', 'grids', 'message'], ['paneapp', tenant, 'running', true, 'totals', '']]);

    const grid = await enter(page, 'GRID', ['paneapp', 'totals', null, null]);
    const app = await appOf('paneapp');
    const truth = asSpill((await getJson(new URL("v1/grids/totals", `${app.url}/`).href)).body.rows, ['total']);
    await waitFor('the grid through the directory', async () => JSON.stringify(await latest(page, grid)) === JSON.stringify(truth));
    expect(truth).toEqual([['key', 'total'], ['x', 5], ['y', 2]]);
  });

  it('a newly deployed app shows a notice when it becomes ready, and joins the list and =AEROGRID.APPS', async () => {
    const apps = await enter(page, 'APPS', []);
    await deploy('secondapp');
    await page.waitForSelector('#notice:has-text("App \'secondapp\' is ready")', { timeout: 60_000 });
    await page.waitForSelector('#apps-body tr[data-app="secondapp"]');
    expect(await page.textContent('#notice')).toContain('Insert totals');
    await waitFor('secondapp in =AEROGRID.APPS', async () => (await latest(page, apps))?.some?.((row: unknown[]) => row[0] === 'secondapp' && row[2] === 'running'));
  });

  it('an app stopped through the directory shows "stopped" in its cells; started again (elsewhere) they resume', async () => {
    const cell = await enter(page, 'GRID', ['paneapp', 'totals', null, null]);
    await waitFor('the grid', async () => Array.isArray(await latest(page, cell)));
    const stop = await fetch(`${directory}/v1/apps/${tenant}/paneapp/stop`, { method: 'POST' });
    expect(stop.status).toBe(202);
    const shown = await waitFor('the stopped message', async () => { const v = await latest(page, cell); return /^app 'paneapp' stopped/.test(v?.message ?? '') ? v : null; }, 60_000);
    expect(shown.error).toBe('#N/A');
    expect(shown.message).toMatch(/^app 'paneapp' stopped, data stale since \d\d:\d\d$/);

    const before = (await appOf('paneapp')).url;
    expect((await fetch(`${directory}/v1/apps/${tenant}/paneapp/start`, { method: 'POST' })).status).toBe(202);
    const app = await waitFor('the app ready again', async () => { const a = await appOf('paneapp'); return a?.ready ? a : null; }, 60_000);
    expect(app.url).not.toBe(before);
    await kafka.produce(topic, [{ key: 'c', value: JSON.stringify({ name: 'x', value: 1 }) }]);
    await waitFor('the cell on the restarted app', async () => JSON.stringify(await latest(page, cell)) === JSON.stringify([['key', 'total'], ['x', 6], ['y', 2]]), 60_000);
  });
});
