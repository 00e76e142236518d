// The task pane against real sidecars: sign-in fields only when the platform asks for a sign-in
// (auth on: a 401), never with auth off; Insert offers the whole grid, some of its columns, or one
// value (AEROGRID.VALUE), and each formula it writes is one the add-in computes. Real Kafka,
// runtime and Chromium; the harness page plays Excel.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { runConnector, type RunningConnector } from '../../src/runner/connector.js';
import { launchBrowser } from '../helpers/browser.js';
import { buildAddin, enter, harnessContext, latest, openTaskPane, serveAddin } from '../helpers/addin.js';
import { tempDir } from '../helpers/files.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const APP = 'paneinsert';

function writeApp(dir: string, topic: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.py'), `import aerogrid

app = aerogrid.App('${APP}', broker=BROKER_URI)

class Tick(aerogrid.Record):
    name: str
    value: int

ticks = app.topic('${topic}', key_type=str, value_type=Tick)
stats = app.Grid('stats', columns=['count', 'total'], default=lambda: {'count': 0, 'total': 0})

@app.stream(ticks)
async def add(stream):
    async for tick in stream:
        row = stats[tick.name]
        stats[tick.name] = {'count': row['count'] + 1, 'total': row['total'] + tick.value}
`);
}

describe('the task pane: sign-in only when asked, Insert of columns and of one value', () => {
  const broker = testBroker();
  const topic = uniqueName('pane-insert');
  const tenant = uniqueName('pane').replace(/[^a-z0-9-]/g, '');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-pane-insert' });
  let open: RunningConnector;
  let guarded: RunningConnector;
  let issuer: TestIssuer;
  let addin: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;

  const formulaIn = (cell: string) => page.evaluate((c) => (window as any).harness.sheet.formulas[c], cell);

  beforeAll(async () => {
    await kafka.ensureTopic(topic, { partitions: 1 });
    const dir = join(tempDir(), APP);
    writeApp(dir, topic);
    issuer = await startTestIssuer();
    open = await runConnector({ dir, broker, port: 0, watch: false, tenant, log: () => {} });
    guarded = await runConnector({ dir, broker, port: 0, watch: false, tenant, instance: 'guarded', auth: { issuer: issuer.issuer, audience: issuer.audience }, log: () => {} });
    await kafka.produce(topic, [{ key: 'a', value: JSON.stringify({ name: 'x', value: 5 }) }, { key: 'b', value: JSON.stringify({ name: 'x', value: 2 }) }]);
    addin = await serveAddin(buildAddin());
    browser = await launchBrowser();
    page = await openTaskPane(await harnessContext(browser, { platformUrl: open.url }), addin.url);
  });

  afterAll(async () => {
    await browser?.close();
    await addin?.close();
    await open?.stop();
    await guarded?.stop();
    await issuer?.close();
    await kafka.close();
  });

  it('with auth off the pane lists the app and shows no sign-in fields', async () => {
    await page.waitForSelector(`#apps-body tr[data-app="${APP}"]`);
    expect(await page.isVisible('#issuer')).toBe(false);
    expect(await page.isVisible('#client-id')).toBe(false);
    expect(await page.isVisible('#signin')).toBe(false);
  });

  it('Insert offers some columns: the formula passes them, and the add-in spills only those', async () => {
    const row = `#apps-body tr[data-app="${APP}"]`;
    await page.click(`${row} .insert-more`);
    await page.uncheck(`${row} .insert-options input[value="count"]`);
    await page.evaluate(() => { (window as any).harness.sheet.selection = 'B2'; });
    await page.click(`${row} .insert-columns`);
    await waitFor('the formula in B2', () => formulaIn('B2'));
    expect(await formulaIn('B2')).toBe(`=AEROGRID.GRID("${APP}","stats","total")`);
    const cell = await enter(page, 'GRID', [APP, 'stats', 'total', null]);
    await waitFor('the columns spilled', async () => JSON.stringify(await latest(page, cell)) === JSON.stringify([['key', 'total'], ['x', 7]]));
  });

  it('Insert offers one value: AEROGRID.VALUE with the key and column, which the add-in computes', async () => {
    const row = `#apps-body tr[data-app="${APP}"]`;
    await page.fill(`${row} .value-key`, 'x');
    await page.selectOption(`${row} .value-column`, 'count');
    await page.evaluate(() => { (window as any).harness.sheet.selection = 'D4'; });
    await page.click(`${row} .insert-value`);
    await waitFor('the formula in D4', () => formulaIn('D4'));
    expect(await formulaIn('D4')).toBe(`=AEROGRID.VALUE("${APP}","stats","x","count")`);
    const cell = await enter(page, 'VALUE', [APP, 'stats', 'x', 'count']);
    await waitFor('the value', async () => (await latest(page, cell)) === 2);
  });

  it('a platform with auth on (401) brings the sign-in fields up', async () => {
    const other = await openTaskPane(await harnessContext(browser, { platformUrl: guarded.url }), addin.url);
    await other.waitForSelector('#issuer', { state: 'visible' });
    expect(await other.isVisible('#client-id')).toBe(true);
    expect(await other.textContent('#apps-problem')).toMatch(/sign in/);
    await other.context().close();
  });
});
