// The viewer page and the console in a real browser (Debian's Chromium) when the sidecar goes away
// and comes back: the page subscribes again with the seq its tables hold, and gets only the rows
// that changed meanwhile (`resumed`), not the whole grid again. The console's directory lists the
// app from a fixed source instead of a GitOps runner (the runner is not what is tested).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridStore } from '../../sidecar/src/grids.js';
import type { Frontend } from '../../sidecar/src/http/server.js';
import { launchBrowser } from '../helpers/browser.js';
import { serveDirectory } from '../../src/directory/serve.js';
import { startAppFrontend } from '../helpers/frontend.js';
import { waitFor } from '../helpers/wait.js';

/** The grid as the page shows it: key → the text of each value cell. */
function shownRows(page: Page): Promise<Record<string, string[]>> {
  return page.$$eval('main table tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => {
      const cells = Array.from(tr.children).map((td) => td.textContent ?? '');
      return [cells[0], cells.slice(1)];
    })));
}

/** The grid both pages show: 40 rows of prices. */
function seedPrices(store: GridStore): void {
  store.declare('prices', ['bid']);
  store.markListKnown();
  store.apply(Array.from({ length: 40 }, (_, i) => ({ grid: 'prices', key: `i${i}`, row: { bid: i } })));
}

describe('the viewer after a lost connection, in a real browser', () => {
  const store = new GridStore();
  let fe: Frontend;
  let browser: Browser;
  let page: Page;
  const sent: Record<string, unknown>[] = [];
  const received: Record<string, unknown>[] = [];

  beforeAll(async () => {
    seedPrices(store);
    fe = await startAppFrontend(store, null);
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => sent.push(JSON.parse(String(f.payload)) as Record<string, unknown>));
      ws.on('framereceived', (f) => received.push(JSON.parse(String(f.payload)) as Record<string, unknown>));
    });
    await page.goto(fe.url);
  });

  afterAll(async () => {
    await browser?.close();
    await fe?.close();
  });

  it('resumes its tables from their seq: only the changed rows come, and the table is exact', async () => {
    await waitFor('the table', async () => Object.keys(await shownRows(page)).length === 40);
    const port = Number(new URL(fe.url).port);
    await fe.close();
    await waitFor('the page to notice', async () => (await page.textContent('#conn-text'))?.startsWith('disconnected'));
    store.apply([{ grid: 'prices', key: 'i1', row: { bid: 100 } }, { grid: 'prices', key: 'i2', row: { bid: 200 } }, { grid: 'prices', key: 'i3', deleted: true }]);
    const before = received.length;
    fe = await startAppFrontend(store, null, { port });
    await waitFor('the resumed table', async () => {
      const rows = await shownRows(page);
      return Object.keys(rows).length === 39 && rows.i1?.[0] === '100' && rows.i2?.[0] === '200';
    });
    const after = received.slice(before);
    expect(after.map((m) => m.type)).toContain('resumed');
    expect(after.map((m) => m.type)).not.toContain('snapshot');
    expect(after.find((m) => m.type === 'resumed')).toMatchObject({ upserts: { i1: { bid: 100 }, i2: { bid: 200 } }, deletes: ['i3'] });
    expect(sent.filter((m) => m.op === 'subscribe').at(-1)).toMatchObject({ grid: 'prices', seq: expect.any(Number) });
  });
});

describe('the console after a lost connection to an app, in a real browser', () => {
  const store = new GridStore();
  let fe: Frontend;
  let directory: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  const received: Record<string, unknown>[] = [];

  beforeAll(async () => {
    seedPrices(store);
    fe = await startAppFrontend(store, null);
    const app = {
      desired: { key: 'acme/ordersapp', tenant: 'acme', app: 'ordersapp', tree: 't', commit: 'c0ffee', replicas: 1, entrypoint: 'app.py', grids: [{ name: 'prices', columns: ['bid'] }] },
      state: { tenant: 'acme', app: 'ordersapp', commit: 'c0ffee', replicas: 1, phase: 'running' as const, url: fe.url, logFile: '', updatedAt: new Date().toISOString() },
    };
    directory = await serveDirectory({ runner: { apps: () => [app], onChange: () => () => undefined }, repo: '', host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('websocket', (ws) => {
      if (!ws.url().includes(`:${fe.port}/`)) return;
      ws.on('framereceived', (f) => received.push(JSON.parse(String(f.payload)) as Record<string, unknown>));
    });
    await page.goto(`${directory.url}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await directory?.close();
    await fe?.close();
  });

  it('keeps the app\'s tables and resumes them from their seq: only the changed rows come', async () => {
    await page.locator('tr[data-app="acme/ordersapp"]').click();
    const rows = () => page.$$eval('#grids table tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent])));
    await waitFor('the table', async () => Object.keys(await rows()).length === 40);
    const port = fe.port;
    await fe.close();
    store.apply([{ grid: 'prices', key: 'i1', row: { bid: 100 } }, { grid: 'prices', key: 'i3', deleted: true }]);
    const before = received.length;
    fe = await startAppFrontend(store, null, { port });
    await waitFor('the resumed table', async () => {
      const shown = await rows();
      return Object.keys(shown).length === 39 && shown.i1 === '100';
    });
    const types = received.slice(before).map((m) => m.type);
    expect(types).toContain('resumed');
    expect(types).not.toContain('snapshot');
  });
});
