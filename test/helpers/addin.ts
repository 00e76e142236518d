// The add-in under test: built into a folder of the suite's own, served on loopback, and loaded
// into Chromium with test/addin/harness/office.js standing in for Office.js (Excel's part).
import { createServer as createNetServer } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { runConnector, type RunningConnector } from '../../src/runner/connector.js';
// @ts-expect-error plain JS shared with the benchmark
import * as harness from '../addin/harness/serve.mjs';

export const buildAddin: (env?: NodeJS.ProcessEnv) => string = harness.buildAddin;
export const serveAddin: (dir: string) => Promise<{ url: string; close(): Promise<void> }> = harness.serveAddin;
export const harnessContext: (browser: Browser, options?: { platformUrl?: string }) => Promise<BrowserContext> = harness.harnessContext;
export const openTaskPane: (context: BrowserContext, addinUrl: string) => Promise<Page> = harness.openTaskPane;

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
