// Rollback from the directory and the web console, through `aerogrid serve --run local` (auth off)
// and Chromium: the same release-based rollback `aerogrid rollback` commits.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { launchBrowser } from '../helpers/browser.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { appSource, appYaml, cliEnv, directoryUrl, fileAt, gitIn, startServe, stopServe, tempDir } from '../helpers/gitops.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';

describe('rollback from the directory and the console', () => {
  const broker = testBroker();
  const tenant = uniqueName('dirrb').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('dirrb-ticks');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-directory-rollback' });
  const code = (repo: string) => fileAt(repo, `tenants/${tenant}/apps/rbapp/code/app.py`);
  let env: NodeJS.ProcessEnv;
  let repo: string;
  let serve: CliProcess;
  let browser: Browser | undefined;
  const versions: string[] = [];

  beforeAll(async () => {
    repo = join(await tempDir('dirrb-remote'), 'gitops.git');
    env = { ...cliEnv(await tempDir('dirrb-home')), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    await kafka.ensureTopic(topic, { partitions: 1 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
    const dir = await tempDir('dirrb-conn');
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name: 'rbapp', tenant, topics: [topic] }));
    for (const factor of [1, 2]) {
      await writeFile(join(dir, 'app.py'), appSource('rbapp', topic, factor));
      const r = await runCli(['deploy', dir], { env });
      expect(r.code, r.stderr).toBe(0);
      versions.push(code(repo));
    }
    serve = await startServe(['--broker', broker, '--poll', '200'], env);
  });

  afterAll(async () => {
    await browser?.close();
    await stopServe(serve);
    await kafka.close();
  });

  it('the console\'s Roll back button re-deploys the previous release; the API takes a release number and refuses one that does not exist', async () => {
    const base = directoryUrl(serve);
    browser = await launchBrowser();
    const page = await browser.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${base}/`);
    const row = `tr[data-app="${tenant}/rbapp"]`;
    await page.waitForSelector(`${row} td.status[data-status="running"]`, { timeout: 60_000 });
    await page.click(`${row} button[data-action="rollback"]`);
    await waitFor('the rollback commit', () => code(repo) === versions[0], 30_000);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toMatch(/AeroGrid-Action: rollback\nAeroGrid-Rollback-To: 1\n/);

    const post = (query: string) => fetch(`${base}/v1/apps/${tenant}/rbapp/rollback${query}`, { method: 'POST' }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    const again = await post('?release=2');
    expect(again).toMatchObject({ status: 202, body: { changed: true, release: 2 } });
    expect(code(repo)).toBe(versions[1]);
    const missing = await post('?release=9');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain("has no release '9'");
  }, 180_000);
});
