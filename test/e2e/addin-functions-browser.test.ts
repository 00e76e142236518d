// The add-in's custom functions in real Chromium, against a real sidecar on real Kafka. Office.js
// cannot be fetched here: a harness page (test/addin/harness/office.js) plays Excel's part, calling
// the functions as Excel does and recording every setResult. The platform URL is the sidecar
// itself (the single-sidecar fallback that makes `aerogrid dev` usable from Excel).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import type { RunningConnector } from '../../src/runner/connector.js';
import { packageRoot } from '../../src/paths.js';
import { launchBrowser } from '../helpers/browser.js';
import { metricValue } from '../helpers/metrics.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { asSpill, buildAddin, enter, freePort, harnessContext, latest, openTaskPane, removeCell, serveAddin, startConnectorOn } from '../helpers/addin.js';

const order = (product: string, quantity: number) => JSON.stringify({ product, quantity });
const APP = 'badrecords';

describe('the AEROGRID functions in a harness page standing in for Excel, on a real sidecar and Kafka', () => {
  const broker = testBroker();
  const topic = uniqueName('addin-orders');
  const tenant = uniqueName('addin');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-addin' });
  const fixture = join(packageRoot, 'test', 'fixtures', 'badrecords');
  let port: number;
  let connector: RunningConnector;
  let addin: { url: string; close(): Promise<void> };
  let dist: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let sidecarUrl: string;

  const grid = async () => (await getJson(`${sidecarUrl}v1/grids/product_sum`)).body.rows as Record<string, { units_sold: number }>;
  const metric = async (name: string) => metricValue(await (await fetch(`${sidecarUrl}metrics`)).text(), name);
  const start = async () => { connector = await startConnectorOn(port, fixture, broker, { tenant, env: { ORDERS_TOPIC: topic } }); };

  beforeAll(async () => {
    await kafka.ensureTopic(topic, { partitions: 2 });
    port = await freePort();
    await start();
    sidecarUrl = connector.url;
    await kafka.produce(topic, [{ key: 'o1', value: order('apple', 3) }, { key: 'o2', value: order('pear', 5) }, { key: 'o3', value: order('apple', 4) }]);
    await waitFor('the grid', async () => (await grid())?.apple?.units_sold === 7);
    dist = buildAddin();
    addin = await serveAddin(dist);
    browser = await launchBrowser();
    context = await harnessContext(browser, { platformUrl: sidecarUrl });
    page = await openTaskPane(context, addin.url);
  });

  afterAll(async () => {
    await browser?.close();
    await addin?.close();
    await connector?.stop();
    await kafka.close();
  });

  it('registers exactly the functions that the generated functions.json declares', async () => {
    const metadata = JSON.parse(readFileSync(join(dist, 'functions.json'), 'utf8'));
    const ids = metadata.functions.map((f: { id: string }) => f.id).sort();
    expect(ids).toEqual(['APPS', 'GRID', 'VALUE']);
    expect(await page.evaluate(() => (window as any).harness.functionIds())).toEqual(ids);
    expect(metadata.functions.every((f: { options?: { stream?: boolean } }) => f.options?.stream)).toBe(true);
  });

  it('=AEROGRID.GRID spills the sidecar\'s grid (a header row, then a row per key) and keeps following it', async () => {
    const cell = await enter(page, 'GRID', [APP, 'product_sum', null, null]);
    await waitFor('the spilled grid', async () => JSON.stringify(await latest(page, cell)) === JSON.stringify(asSpill(await grid(), ['units_sold'])));
    expect(await latest(page, cell)).toEqual([['key', 'units_sold'], ['apple', 7], ['pear', 5]]);

    await kafka.produce(topic, [{ key: 'o4', value: order('apple', 10) }, { key: 'o5', value: order('plum', 1) }]);
    // One read of the sidecar's grid per try: two could straddle a commit and pass on the old rows.
    await waitFor('the spill to follow', async () => {
      const now = await grid();
      return now.plum !== undefined && JSON.stringify(await latest(page, cell)) === JSON.stringify(asSpill(now, ['units_sold']));
    });
    expect(await latest(page, cell)).toEqual([['key', 'units_sold'], ['apple', 17], ['pear', 5], ['plum', 1]]);
    await removeCell(page, cell);
    await waitFor('the subscription released', async () => (await metric('aerogrid_ws_subscriptions')) === 0);
  });

  it('two cells with the same formula use one subscription on one socket; removing both releases it', async () => {
    const a = await enter(page, 'GRID', [APP, 'product_sum', null, null]);
    const b = await enter(page, 'GRID', [APP, 'product_sum', null, null]);
    await waitFor('both cells to show the grid', async () => Array.isArray(await latest(page, a)) && Array.isArray(await latest(page, b)));
    expect(await latest(page, a)).toEqual(await latest(page, b));
    // (waited for: a socket the add-in closed a moment ago may still be counted by the sidecar)
    await waitFor('one socket with one subscription', async () => (await metric('aerogrid_ws_subscriptions')) === 1 && (await metric('aerogrid_ws_clients')) === 1);

    await removeCell(page, a);
    // One cell left: the subscription stays.
    await new Promise((r) => setTimeout(r, 300));
    expect(await metric('aerogrid_ws_subscriptions')).toBe(1);
    await removeCell(page, b);
    await waitFor('the subscription released', async () => (await metric('aerogrid_ws_subscriptions')) === 0);
  });

  it('`app` and `tenant/app` in two formulas are one app: one socket, one subscription', async () => {
    const a = await enter(page, 'GRID', [APP, 'product_sum', null, null]);
    const b = await enter(page, 'GRID', [`${tenant}/${APP}`, 'product_sum', null, null]);
    await waitFor('both cells to show the grid', async () => Array.isArray(await latest(page, a)) && Array.isArray(await latest(page, b)));
    expect(await latest(page, a)).toEqual(await latest(page, b));
    await waitFor('one socket with one subscription', async () => (await metric('aerogrid_ws_subscriptions')) === 1 && (await metric('aerogrid_ws_clients')) === 1);
    await removeCell(page, a);
    await removeCell(page, b);
    await waitFor('the subscription released', async () => (await metric('aerogrid_ws_subscriptions')) === 0);
  });

  it('a grid larger than maxRows is cut to maxRows, and the last row says how many rows were cut', async () => {
    const cell = await enter(page, 'GRID', [APP, 'product_sum', 'units_sold', 2]);
    const value = await waitFor('the cut grid', async () => { const v = await latest(page, cell); return Array.isArray(v) ? v : null; });
    expect(value.slice(0, 3)).toEqual([['key', 'units_sold'], ['apple', 17], ['pear', 5]]);
    expect(value).toHaveLength(4);
    expect(value[3][0]).toBe('… 1 more row not shown (maxRows 2)');
    await removeCell(page, cell);
  });

  it('=AEROGRID.VALUE shows one live value; bad names give #N/A saying what exists', async () => {
    const cell = await enter(page, 'VALUE', [APP, 'product_sum', 'pear', 'units_sold']);
    await waitFor('the value', async () => (await latest(page, cell)) === 5);
    await kafka.produce(topic, [{ key: 'o6', value: order('pear', 2) }]);
    await waitFor('the value to follow', async () => (await latest(page, cell)) === 7);

    const noApp = await enter(page, 'GRID', ['nosuchapp', 'product_sum', null, null]);
    const noColumn = await enter(page, 'VALUE', [APP, 'product_sum', 'pear', 'price']);
    const badRows = await enter(page, 'GRID', [APP, 'product_sum', null, -3]);
    await waitFor('the app lookup to fail', async () => (await latest(page, noApp))?.message?.startsWith('no app'));
    await waitFor('the column check to fail', async () => (await latest(page, noColumn))?.message?.startsWith('no column'));
    expect(await latest(page, noApp)).toEqual({ error: '#N/A', message: `no app 'nosuchapp'; apps: ${tenant}/${APP}` });
    expect(await latest(page, noColumn)).toEqual({ error: '#N/A', message: "no column 'price' in grid 'product_sum'; columns: units_sold" });
    expect((await latest(page, badRows)).message).toBe('maxRows must be a whole number of 1 or more, not -3');
    for (const c of [cell, noApp, noColumn, badRows]) await removeCell(page, c);
  });

  it('=AEROGRID.APPS lists the app with its status and grids (single-sidecar fallback)', async () => {
    const cell = await enter(page, 'APPS', []);
    const value = await waitFor('the app list', async () => { const v = await latest(page, cell); return Array.isArray(v) ? v : null; });
    expect(value).toEqual([['app', 'tenant', 'status', 'ready', 'grids', 'message'], [APP, tenant, 'running', true, 'product_sum', '']]);
    await removeCell(page, cell);
  });

  it('stopping the sidecar shows #N/A with the status in the cells; starting it again resumes them without a reload', async () => {
    const spill = await enter(page, 'GRID', [APP, 'product_sum', null, null]);
    const value = await enter(page, 'VALUE', [APP, 'product_sum', 'apple', 'units_sold']);
    await waitFor('the cells live', async () => Array.isArray(await latest(page, spill)) && (await latest(page, value)) === 17);
    await page.evaluate(() => { (window as any).marker = 'not reloaded'; });

    await connector.stop();
    const stopped = await waitFor('#N/A in both cells', async () => {
      const [s, v] = [await latest(page, spill), await latest(page, value)];
      return s?.error && v?.error ? [s, v] : null;
    });
    for (const shown of stopped) {
      expect(shown.error).toBe('#N/A');
      expect(shown.message).toMatch(/stale since \d\d:\d\d/);
    }

    await start();
    await kafka.produce(topic, [{ key: 'o7', value: order('apple', 1) }]);
    await waitFor('the cells to resume with the new order', async () => (await latest(page, value)) === 18 && JSON.stringify(await latest(page, spill)) === JSON.stringify(asSpill(await grid(), ['units_sold'])));
    expect(await page.evaluate(() => (window as any).marker)).toBe('not reloaded');
    expect(await metric('aerogrid_ws_clients')).toBe(1);
  });
});
