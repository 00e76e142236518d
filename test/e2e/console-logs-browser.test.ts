// An app's logs in the console, in a real Chromium against a real `aerogrid serve --run local` with
// auth on (the test issuer, signed in through the real PKCE redirect), real Kafka and the app's real
// sidecar and Python runtime: a viewer opens Logs on the app's row and sees the lines of both
// containers, picks the runtime's, follows a line the app logs after the panel opened, and closing
// the panel ends the server's stream. A refusal is shown in words.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOG_FOLLOWS_PER_CALLER } from '@aerogrid/protocol/console-api';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { launchBrowser } from '../helpers/browser.js';
import type { CliProcess } from '../helpers/cli.js';
import { signedInPage, startConsoleServe } from '../helpers/console.js';
import { deployPrintingApp, follow, type Follow } from '../helpers/console-logs.js';
import { stopServe } from '../helpers/gitops.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';

describe('the console: an app\'s logs, both containers or one, followed', () => {
  const broker = testBroker();
  const tenant = uniqueName('clgui').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('clgui-orders');
  const app = 'shop';
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-console-logs-browser' });
  const viewerClaims = { sub: 'vera', tenant, roles: ['viewer'] };
  let issuer: TestIssuer;
  let serve: CliProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  const held: Follow[] = [];
  const row = `tr[data-app="${tenant}/${app}"]`;
  const shownLines = () => page.$$eval('#logs-lines .log-line', (nodes) => nodes.map((n) => n.textContent ?? ''));

  beforeAll(async () => {
    issuer = await startTestIssuer();
    await kafka.ensureTopic(topic, { partitions: 1 });
    ({ serve, base } = await startConsoleServe('clgui', [tenant], topic, { issuer }));
    await deployPrintingApp(base, await issuer.token({ sub: 'dana', tenant, roles: ['developer'] }), tenant, app, topic);
    // A good order (the runtime prints it) and a bad one (the sidecar dead-letters it).
    await kafka.produce(topic, [{ key: 'o-1', value: '{"product": "tea", "quantity": 4}' }, { key: 'o-2', value: '{"product": "tea", "quantity": "many"}' }]);
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    for (const f of held) f.close();
    await browser?.close();
    await stopServe(serve);
    await issuer?.close();
    await kafka.close();
  });

  const signedIn = (claims: Parameters<TestIssuer['signInAs']>[0]) => signedInPage(browser, base, issuer, claims);

  it('a viewer opens Logs on the app\'s row: the last lines of the sidecar and the runtime, each with its prefix', async () => {
    page = await signedIn(viewerClaims);
    await page.locator(`${row} button[data-open="logs"]`).click();
    await page.locator('#logs-title', { hasText: `Logs of ${tenant}/${app}` }).waitFor({ timeout: 10_000 });
    // The orders may still be on their way: reopen until both containers have said something of them.
    await waitFor('both containers\' lines of the orders', async () => {
      await page.selectOption('#logs-container', '');
      await page.locator('#logs-meta', { hasText: 'the last' }).waitFor({ timeout: 10_000 });
      const lines = await shownLines();
      return lines.some((l) => l.startsWith('[runtime] summing order o-1: 4 x tea')) && lines.some((l) => l.startsWith('[sidecar] ') && l.includes('rejected record'));
    }, 60_000, 500);
    expect(await page.textContent('#logs-meta')).toMatch(/sidecar and runtime · the last \d+ lines/);
  }, 90_000);

  it('choosing runtime shows only the runtime\'s lines', async () => {
    await page.selectOption('#logs-container', 'runtime');
    await page.locator('#logs-meta', { hasText: 'runtime only' }).waitFor({ timeout: 10_000 });
    await page.locator('#logs-lines .log-line', { hasText: 'summing order o-1' }).waitFor({ timeout: 10_000 });
    const lines = await shownLines();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => !l.startsWith('[runtime] '))).toEqual([]);
  });

  it('with Follow on, a line the app logs after the panel opened appears, at the bottom, in view', async () => {
    await page.check('#logs-follow');
    await page.locator('#logs-meta', { hasText: 'runtime only · following' }).waitFor({ timeout: 10_000 });
    await kafka.produce(topic, [{ key: 'o-3', value: '{"product": "cake", "quantity": 2}' }]);
    const line = page.locator('#logs-lines .log-line', { hasText: '[runtime] summing order o-3: 2 x cake' });
    await line.waitFor({ timeout: 30_000 });
    expect((await shownLines()).at(-1)).toBe('[runtime] summing order o-3: 2 x cake');
    expect(await line.isVisible()).toBe(true);
    // Scrolled to it: the box's bottom is the line's.
    const [box, last] = await Promise.all([page.locator('#logs-lines').boundingBox(), line.boundingBox()]);
    expect(last!.y + last!.height).toBeLessThanOrEqual(box!.y + box!.height + 1);
    expect(last!.y).toBeGreaterThanOrEqual(box!.y);
  }, 60_000);

  it('the page\'s stream counts as one of the user\'s follows; closing the panel ends it on the server', async () => {
    // With the panel following, the user has room for one follow less.
    const token = await issuer.token(viewerClaims);
    const others = await Promise.all(Array.from({ length: MAX_LOG_FOLLOWS_PER_CALLER - 1 }, () => follow(`${base}/v1/apps/${tenant}/${app}/logs?follow=1&tail=0`, token)));
    held.push(...others);
    expect(others.map((f) => f.status)).toEqual(others.map(() => 200));
    const refused = await follow(`${base}/v1/apps/${tenant}/${app}/logs?follow=1&tail=0`, token);
    expect(refused.status).toBe(429);
    await page.click('#logs-close');
    expect(await page.isVisible('#logs-section')).toBe(false);
    // The server's stream of the panel ended: its slot is free.
    const freed = await waitFor('the panel\'s follow to end on the server', async () => {
      const f = await follow(`${base}/v1/apps/${tenant}/${app}/logs?follow=1&tail=0`, token);
      held.push(f);
      return f.status === 200 ? f : undefined;
    }, 10_000, 200);
    expect(freed.status).toBe(200);
    // Now the user's follows are all taken: the panel says so, in the server's words.
    await page.locator(`${row} button[data-open="logs"]`).click();
    await page.check('#logs-follow');
    await page.locator('#logs-meta.error', { hasText: `you already follow ${MAX_LOG_FOLLOWS_PER_CALLER} logs` }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#logs-meta')).toContain('close a logs panel');
    for (const f of held.splice(0)) f.close();
    await page.click('#logs-close');
  }, 60_000);

  it('a developer has Logs on the row too', async () => {
    const developer = await signedIn({ sub: 'dana', tenant, roles: ['developer'] });
    await developer.locator(`${row} button[data-open="logs"]`).click();
    await developer.locator('#logs-lines .log-line', { hasText: 'summing order o-3' }).waitFor({ timeout: 10_000 });
    await developer.close();
  }, 60_000);
});
