// An add-in hosted on its own site (here http://addins.example.test, mapped to 127.0.0.1 inside
// Chromium, so the page's origin is not loopback) beside `aerogrid dev` with auth off: the cell
// and the task pane show the server's reason and the fix (--allow-origin), not "unreachable;
// retrying"; with --allow-origin the grid spills. Real CLI, sidecar, Kafka and Chromium; the
// harness page plays Excel.
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { chromiumPath } from '../helpers/browser.js';
import { runCli, startCli, viewerUrl, type CliProcess } from '../helpers/cli.js';
import { buildAddin, enter, freePort, harnessContext, latest, openTaskPane, serveAddin } from '../helpers/addin.js';
import { tempDir } from '../helpers/files.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const HOSTED = 'addins.example.test';

describe('a hosted add-in and aerogrid dev with auth off', () => {
  const broker = testBroker();
  const topic = uniqueName('hosted-orders');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-hosted-addin' });
  let dir: string;
  let addin: { url: string; close(): Promise<void> };
  let hostedUrl: string;
  let origin: string;
  let browser: Browser;
  let dev: CliProcess | undefined;

  async function startDev(extra: string[]): Promise<string> {
    const port = await freePort();
    dev = startCli(['dev', dir, '--port', String(port), '--broker', broker, '--no-watch', ...extra], { env: { NO_COLOR: '1' } });
    return waitFor('aerogrid dev to print its URL', () => {
      if (dev!.child.exitCode !== null) throw new Error(`dev exited:\n${dev!.output()}`);
      return viewerUrl(dev!.output());
    }, 60_000);
  }

  async function stopDev(): Promise<void> {
    if (!dev || dev.child.exitCode !== null) return;
    dev.child.kill('SIGINT');
    await Promise.race([dev.exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
  }

  async function pane(platformUrl: string): Promise<Page> {
    const context = await harnessContext(browser, { platformUrl });
    return openTaskPane(context, hostedUrl);
  }

  beforeAll(async () => {
    await kafka.ensureTopic(topic, { partitions: 1 });
    const base = tempDir();
    const init = await runCli(['init', 'hosted', '--template', 'orders-sum', '--tenant', 'sales', '--topic', topic, '--yes', '--no-git'], { cwd: base });
    expect(init.code, init.stderr).toBe(0);
    dir = join(base, 'hosted');
    addin = await serveAddin(buildAddin());
    hostedUrl = addin.url.replace('127.0.0.1', HOSTED);
    origin = new URL(hostedUrl).origin;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP ${HOSTED} 127.0.0.1`],
    });
  });

  afterAll(async () => {
    await stopDev();
    await browser?.close();
    await addin?.close();
    await kafka.close();
  });

  it('without --allow-origin, the cell and the pane give the server\'s reason and the fix', async () => {
    const url = await startDev([]);
    const page = await pane(url);
    const cell = await enter(page, 'GRID', ['hosted', 'product_sum', null, null]);
    const value = await waitFor('the cell to say why', async () => {
      const v = await latest(page, cell);
      return v?.message && !/^connecting|^looking up/.test(v.message) ? v : null;
    });
    expect(value.error).toBe('#N/A');
    expect(value.message).toContain(`not ${origin}`);
    expect(value.message).toContain(`--allow-origin ${origin}`);
    expect(value.message).not.toMatch(/unreachable/);
    const problem = await waitFor('the pane to say why', async () => (await page.textContent('#apps-problem')) || null);
    expect(problem).toContain(`--allow-origin ${origin}`);
    await page.context().close();
    await stopDev();
  });

  it('with --allow-origin <the add-in\'s origin>, the grid spills in the hosted add-in', async () => {
    const url = await startDev(['--allow-origin', origin]);
    const page = await pane(url);
    const cell = await enter(page, 'GRID', ['hosted', 'product_sum', null, null]);
    const value = await waitFor('the grid', async () => { const v = await latest(page, cell); return Array.isArray(v) ? v : null; });
    expect(value[0]).toEqual(['key', 'units_sold']);
    await page.context().close();
  });

  it('--allow-origin must be a bare origin (exit 2, with the fix)', async () => {
    const r = await runCli(['dev', dir, '--allow-origin', 'https://addins.example.com/taskpane.html', '--broker', broker]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not an origin/);
    expect(r.stderr).toMatch(/fix: --allow-origin https:\/\/addins\.example\.com/);
  });
});
