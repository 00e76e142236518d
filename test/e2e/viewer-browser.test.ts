// The live viewer page in a real browser (Debian's Chromium): it shows the app's grid as the
// sidecar holds it, and changed values appear without a reload.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { packageRoot } from '../../src/paths.js';
import { launchBrowser } from '../helpers/browser.js';
import { startConnector, type StartedConnector } from '../helpers/connector.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const order = (product: string, quantity: number) => JSON.stringify({ product, quantity });

/** The grid as the page shows it: key → the text of each value cell. */
function shownRows(page: Page): Promise<Record<string, string[]>> {
  return page.$$eval('main table tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => {
      const cells = Array.from(tr.children).map((td) => td.textContent ?? '');
      return [cells[0], cells.slice(1)];
    })));
}

describe('the live viewer in a real browser', () => {
  const broker = testBroker();
  const topic = uniqueName('viewer-orders');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-viewer' });
  let connector: StartedConnector;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await kafka.ensureTopic(topic, { partitions: 2 });
    connector = await startConnector(join(packageRoot, 'test', 'fixtures', 'badrecords'), broker, { tenant: uniqueName('viewer'), env: { ORDERS_TOPIC: topic } });
    await kafka.produce(topic, [
      { key: 'o1', value: order('apple', 3) },
      { key: 'o2', value: order('pear', 5) },
      { key: 'o3', value: order('apple', 4) },
    ]);
    await waitFor('the grid', async () => (await getJson(`${connector.url}v1/grids/product_sum`)).body?.rows?.apple?.units_sold === 7);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
    await page.goto(connector.url);
  });

  afterAll(async () => {
    await browser?.close();
    await connector?.stop();
    await kafka.close();
  });

  it('shows every row of the grid with the sidecar\'s values, and the app running', async () => {
    await page.waitForSelector('main table tbody tr');
    const { body } = await getJson(`${connector.url}v1/grids/product_sum`);
    const expected = Object.fromEntries(Object.entries(body.rows as Record<string, { units_sold: number }>).map(([k, r]) => [k, [String(r.units_sold)]]));
    await waitFor('the page to match the grid', async () => JSON.stringify(await shownRows(page)) === JSON.stringify(expected));
    expect(await page.textContent('#state-text')).toBe('running');
    expect(await page.textContent('#conn-text')).toBe('connected');
    expect(await page.textContent('main')).toContain('product_sum');
    mkdirSync(join(packageRoot, 'test-results'), { recursive: true });
    const png = await page.screenshot({ path: join(packageRoot, 'test-results', 'viewer.png') });
    expect(png.length).toBeGreaterThan(5_000);
  });

  it('updates values and adds rows live, without a reload', async () => {
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
    await kafka.produce(topic, [{ key: 'o4', value: order('apple', 10) }, { key: 'o5', value: order('plum', 1) }]);
    await waitFor('the new values on the page', async () => {
      const rows = await shownRows(page);
      return rows.apple?.[0] === '17' && rows.plum?.[0] === '1';
    });
    // Same page, same JavaScript state: it was not reloaded.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });
});
