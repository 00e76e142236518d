// Shared by the add-in tests and bench/addin-latency.mjs (plain JS so both can load it): build the
// add-in into a folder, serve it on loopback, and give a browser context the harness that plays
// Office.js/Excel (harness/office.js) in place of Microsoft's CDN script.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const OFFICE_JS = 'https://appsforoffice.microsoft.com/**';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.xml': 'text/xml', '.png': 'image/png', '.map': 'application/json' };

/** Runs addin/build.mjs into a fresh temp folder (suites never race on one); returns the folder. */
export function buildAddin(env = {}) {
  const out = mkdtempSync(join(tmpdir(), 'aerogrid-addin-'));
  execFileSync(process.execPath, [join(root, 'addin', 'build.mjs')], { env: { ...process.env, AEROGRID_ADDIN_OUT: out, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/** A static server for the built add-in on 127.0.0.1 (Excel loads it over HTTPS; the harness needs no TLS). */
export async function serveAddin(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'taskpane.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A browser context whose pages (popups too) get the harness instead of Office.js; optionally a platform URL preset. */
export async function harnessContext(browser, options = {}) {
  const script = readFileSync(join(here, 'office.js'), 'utf8');
  const context = await browser.newContext({ viewport: { width: 420, height: 700 } });
  await context.route(OFFICE_JS, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: script }));
  if (options.platformUrl) {
    await context.addInitScript((url) => { if (!localStorage.getItem('aerogrid.platformUrl')) localStorage.setItem('aerogrid.platformUrl', url); }, options.platformUrl);
  }
  return context;
}

/** The task pane page (the shared runtime), once its functions are registered. */
export async function openTaskPane(context, addinUrl) {
  const page = await context.newPage();
  await page.goto(`${addinUrl}taskpane.html`);
  await page.waitForFunction(() => window.harness?.functionIds().length === 3);
  return page;
}
