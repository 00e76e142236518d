// The add-in under test: built into a folder of the suite's own, served on loopback, and loaded
// into Chromium with test/addin/harness/office.js standing in for Office.js (Excel's part).
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { packageRoot } from '../../src/paths.js';
import { runConnector, type RunningConnector } from '../../src/local/connector.js';

const OFFICE_JS = 'https://appsforoffice.microsoft.com/**';
const harnessScript = readFileSync(join(packageRoot, 'test', 'addin', 'harness', 'office.js'), 'utf8');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.xml': 'text/xml', '.png': 'image/png', '.map': 'application/json' };

/** Runs addin/build.mjs into a fresh temp folder; returns the folder. */
export function buildAddin(env: NodeJS.ProcessEnv = {}): string {
  const out = mkdtempSync(join(tmpdir(), 'aerogrid-addin-'));
  execFileSync(process.execPath, [join(packageRoot, 'addin', 'build.mjs')], { env: { ...process.env, AEROGRID_ADDIN_OUT: out, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/** A static server for the built add-in on 127.0.0.1 (Excel would load it over HTTPS; the harness needs no TLS). */
export async function serveAddin(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'taskpane.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A browser context whose pages get the harness instead of Office.js (popups too). */
export async function harnessContext(browser: Browser, options: { platformUrl?: string } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 420, height: 700 } });
  await context.route(OFFICE_JS, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: harnessScript }));
  if (options.platformUrl) {
    await context.addInitScript((url) => { if (!localStorage.getItem('aerogrid.platformUrl')) localStorage.setItem('aerogrid.platformUrl', url); }, options.platformUrl);
  }
  return context;
}

/** The task pane page (the shared runtime), with its functions registered. */
export async function openTaskPane(context: BrowserContext, addinUrl: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${addinUrl}taskpane.html`);
  await page.waitForFunction(() => (window as any).harness?.functionIds().length === 3);
  return page;
}

/** "Enters" a formula: =AEROGRID.<id>(args...). Returns the cell's number. */
export function enter(page: Page, id: string, args: unknown[]): Promise<number> {
  return page.evaluate(([i, a]) => (window as any).harness.enter(i, a), [id, args] as const);
}

export function latest(page: Page, cell: number): Promise<any> {
  return page.evaluate((c) => (window as any).harness.latest(c), cell);
}

export function removeCell(page: Page, cell: number): Promise<void> {
  return page.evaluate((c) => (window as any).harness.remove(c), cell);
}

/** The grid's rows as a spilled array shows them: header, then [key, ...values] sorted by key. */
export function asSpill(rows: Record<string, Record<string, unknown>>, columns: string[]): unknown[][] {
  const keys = Object.keys(rows).sort(new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare);
  return [['key', ...columns], ...keys.map((k) => [k, ...columns.map((c) => rows[k]![c] ?? '')])];
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A connector (sidecar + runtime) on a fixed port, so that it can be stopped and started again at the same URL. */
export async function startConnectorOn(port: number, dir: string, broker: string, options: { tenant: string; env?: NodeJS.ProcessEnv }): Promise<RunningConnector> {
  return runConnector({ dir, broker, port, watch: false, tenant: options.tenant, env: options.env, log: (line) => { if (process.env.AEROGRID_TEST_VERBOSE) process.stderr.write(line + '\n'); } });
}
