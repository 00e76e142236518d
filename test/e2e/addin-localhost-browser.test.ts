// `aerogrid addin`: the built add-in on https://localhost:<port> with the development certificate
// of Microsoft's office-addin-dev-certs (made in a temporary HOME; --no-trust, so the test never
// changes the machine's trust store), its manifest rewritten for that address, and the task pane
// starting with the platform of `aerogrid dev` beside it. The TLS chain is checked by Node against
// the generated CA; the pane runs in real Chromium (the harness page plays Excel). Real CLI,
// sidecar and Kafka.
import { get } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { launchBrowser } from '../helpers/browser.js';
import { runCli, startCli, viewerUrl, type CliProcess } from '../helpers/cli.js';
import { buildAddin, freePort } from '../helpers/addin.js';
import { tempDir } from '../helpers/files.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';

function fetchTrusting(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

async function stop(p: CliProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return;
  p.child.kill('SIGINT');
  await Promise.race([p.exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

describe('aerogrid addin: the add-in on https://localhost, paired with aerogrid dev', () => {
  const broker = testBroker();
  const topic = uniqueName('addin-host');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-addin-host' });
  let home: string;
  let addin: CliProcess;
  let dev: CliProcess;
  let port: number;
  let platform: string;
  let browser: Browser;

  beforeAll(async () => {
    await kafka.ensureTopic(topic, { partitions: 1 });
    home = tempDir();
    const base = tempDir();
    expect((await runCli(['init', 'hostapp', '--template', 'orders-sum', '--tenant', 'sales', '--topic', topic, '--yes', '--no-git'], { cwd: base })).code).toBe(0);
    dev = startCli(['dev', join(base, 'hostapp'), '--port', String(await freePort()), '--broker', broker, '--no-watch']);
    platform = await waitFor('dev\'s URL', () => viewerUrl(dev.output()), 60_000);
    port = await freePort();
    addin = startCli(['addin', '--port', String(port), '--platform', platform, '--no-trust', '--dist', buildAddin()], { env: { HOME: home, AEROGRID_HOME: join(home, '.aerogrid') } });
    await waitFor('addin to serve', () => {
      if (addin.child.exitCode !== null) throw new Error(`addin exited:\n${addin.output()}`);
      return /Ctrl-C to stop/.test(addin.output());
    }, 60_000);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stop(addin);
    await stop(dev);
    await kafka.close();
  });

  it('serves over TLS with a localhost certificate that chains to the development CA', async () => {
    const ca = readFileSync(join(home, '.office-addin-dev-certs', 'ca.crt'));
    const pane = await fetchTrusting(`https://localhost:${port}/taskpane.html`, ca);
    expect(pane.status).toBe(200);
    expect(pane.body).toContain(`<meta name="aerogrid-platform" content="${platform}">`);
    const functions = await fetchTrusting(`https://localhost:${port}/functions.json`, ca);
    expect(JSON.parse(functions.body).functions.map((f: { id: string }) => f.id)).toEqual(['GRID', 'VALUE', 'APPS']);
    // Without the CA, the same request is refused: the certificate is not a public one.
    await expect(fetchTrusting(`https://localhost:${port}/`, Buffer.from(''))).rejects.toThrow();
  });

  it('prints the manifest to sideload, written for https://localhost:<port>', () => {
    const out = addin.output();
    expect(out).toContain(`Add-in:   https://localhost:${port}/`);
    const file = /Manifest: (\S+)/.exec(out)![1]!;
    const manifest = readFileSync(file, 'utf8');
    expect(manifest).toContain(`https://localhost:${port}/taskpane.html`);
    expect(manifest).toContain(`https://localhost:${port}/functions.json`);
    expect(manifest).not.toContain('https://localhost:3000');
    expect(out).toMatch(/fix: trust .*ca\.crt/); // --no-trust: says how to trust it
  });

  it('the pane served by it lists the dev app on the first try, with no URL entered', async () => {
    const trusting = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 420, height: 700 } }); // the chain is checked above, by Node
    const script = readFileSync(join(import.meta.dirname, '..', 'addin', 'harness', 'office.js'), 'utf8');
    await trusting.route('https://appsforoffice.microsoft.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: script }));
    const page = await trusting.newPage();
    await page.goto(`https://localhost:${port}/taskpane.html`);
    await page.waitForSelector('#apps-body tr[data-app="hostapp"]', { timeout: 30_000 });
    expect(await page.inputValue('#platform-url')).toBe(platform);
    await trusting.close();
  });
});
