// What the console's tests set up alike: `aerogrid serve` on a fresh bare GitOps repo with tenants
// allowed some topics (auth on when an issuer is given), and a console page signed in through the
// issuer's real PKCE redirect.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { runCli, type CliProcess } from './cli.js';
import { cliEnv, directoryUrl, startServe, tempDir } from './gitops.js';
import type { TestIssuer } from './oidc.js';
import { testBroker } from './wait.js';

export interface ConsoleServe {
  repo: string;
  env: NodeJS.ProcessEnv;
  serve: CliProcess;
  /** The directory's (and console's) URL. */
  base: string;
}

/** A serve on the test broker, its repo made and every tenant added with `topics` (comma-separated). */
export async function startConsoleServe(prefix: string, tenants: string[], topics: string, options: { issuer?: TestIssuer; env?: NodeJS.ProcessEnv } = {}): Promise<ConsoleServe> {
  const repo = join(await tempDir(`${prefix}-remote`), 'gitops.git');
  const env = { ...cliEnv(await tempDir(`${prefix}-home`)), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '', ...options.env, ...options.issuer?.env() };
  await ensureLocalRepo(repo);
  for (const tenant of tenants) {
    const added = await runCli(['tenant', 'add', tenant, '--topics', topics], { env });
    expect(added.code, added.stderr).toBe(0);
  }
  const serve = await startServe(['--broker', testBroker(), '--poll', '200'], env);
  return { repo, env, serve, base: directoryUrl(serve) };
}

/** A new console page signed in as `claims`; `prepare` sees the page before it loads (to watch its requests). */
export async function signedInPage(browser: Browser, base: string, issuer: TestIssuer, claims: Parameters<TestIssuer['signInAs']>[0], prepare?: (page: Page) => void): Promise<Page> {
  const page = await browser.newPage();
  prepare?.(page);
  await page.goto(`${base}/`);
  await page.locator('#conn', { hasText: 'signed out' }).waitFor({ timeout: 10_000 });
  issuer.signInAs(claims);
  await page.click('#signin');
  await page.locator('#who', { hasText: `${claims.sub} · tenant ${claims.tenant}` }).waitFor({ timeout: 15_000 });
  return page;
}

/** Which of the console's two editors. */
export type ConsoleEditor = '#code' | '#spec';

/** Replaces a file in its editor as typing would (the editor sees an input, not a script). */
export async function typeIn(page: Page, editor: ConsoleEditor, text: string): Promise<void> {
  await page.click(`${editor} .cm-content`);
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

/** An editor's text. It is in a shadow root: Playwright's locators pierce it, querySelector does not. */
export function editorText(page: Page, editor: ConsoleEditor): Promise<string> {
  return page.evaluate((sel) => [...document.querySelector(sel)!.shadowRoot!.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n'), editor);
}
