// The directory and web console of `aerogrid serve --run local` with auth on: a real local OIDC
// issuer, a real bare GitOps repo, real sidecars and Python runtimes on a real Kafka, and the
// console in a real Chromium. Two tenants: what one sees of the other is nothing at all.
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { launchBrowser } from '../helpers/browser.js';
import type { CliProcess } from '../helpers/cli.js';
import { startTestIssuer, type TestIssuer, type TokenClaims } from '../helpers/oidc.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';
import { cliEnv, directoryUrl, gitIn, startServe, stopServe, tempDir, writeConnector } from '../helpers/gitops.js';
import { call, watch } from '../helpers/directory.js';

describe('aerogrid serve: the directory and the console, with auth', () => {
  const broker = testBroker();
  const tenantA = uniqueName('dira').replace(/[^a-z0-9-]/g, '');
  const tenantB = uniqueName('dirb').replace(/[^a-z0-9-]/g, '');
  const topicA = uniqueName('dir-ticks-a');
  const topicB = uniqueName('dir-ticks-b');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-directory' });
  let issuer: TestIssuer;
  let env: NodeJS.ProcessEnv;
  let repo: string;
  let serve: CliProcess;
  let base: string;
  let browser: Browser | undefined;
  const tokens = {} as Record<'viewerA' | 'developerA' | 'developerB' | 'noRoleA', string>;

  const main = () => gitIn(repo, ['rev-parse', 'main']).trim();
  const deploy = async (name: string, tenant: string, topic: string, options: { groups?: string[]; stopAtBadRecords?: boolean } = {}) => {
    const dir = await writeConnector(join(await tempDir('dir-conn'), name), { name, tenant, topics: [topic], ...(options.groups ? { groups: options.groups } : {}) });
    if (options.stopAtBadRecords) await appendFile(join(dir, 'aerogrid.yaml'), '  deadLetter: {policy: stop}\n');
    const run = await runCli(['deploy', dir, '--json'], { env });
    if (run.code !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout) as { commit: string };
  };
  const appOf = async (token: string, tenant: string, name: string) => (await call(`${base}/v1/apps/${tenant}/${name}`, { token })).body;
  const send = (topic: string, name: string, value: number) => kafka.produce(topic, [{ key: name, value: JSON.stringify({ name, value }) }]);

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tokens.viewerA = await issuer.token({ sub: 'vera', tenant: tenantA, roles: ['viewer'] });
    tokens.developerA = await issuer.token({ sub: 'dev', tenant: tenantA, roles: ['developer'] });
    tokens.developerB = await issuer.token({ sub: 'bob', tenant: tenantB, roles: ['developer'] });
    tokens.noRoleA = await issuer.token({ sub: 'nobody', tenant: tenantA, roles: [] });
    const home = await tempDir('dir-home');
    repo = join(await tempDir('dir-remote'), 'gitops.git');
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '', ...issuer.env() };
    await ensureLocalRepo(repo);
    await Promise.all([kafka.ensureTopic(topicA, { partitions: 1 }), kafka.ensureTopic(topicB, { partitions: 1 })]);
    for (const [tenant, topic] of [[tenantA, topicA], [tenantB, topicB]] as const) {
      const added = await runCli(['tenant', 'add', tenant, '--topics', topic], { env });
      expect(added.code, added.stderr).toBe(0);
    }
    await deploy('alpha', tenantA, topicA);
    await deploy('beta', tenantB, topicB, { groups: ['traders'] });
    serve = await startServe(['--broker', broker, '--poll', '200'], env);
    base = directoryUrl(serve);
    expect(serve.output()).toContain(`auth: on — tokens from ${issuer.issuer}`);
  });

  afterAll(async () => {
    await browser?.close();
    await stopServe(serve);
    await kafka.close();
    await issuer?.close();
  });

  it('answers /v1/apps with the caller\'s tenant only; another tenant\'s app is 404; a viewer cannot stop, a developer can', async () => {
    // No token: 401 with the challenge; probes and CORS preflights stay open.
    const anonymous = await call(`${base}/v1/apps`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect((await call(`${base}/healthz`)).status).toBe(200);
    const preflight = await fetch(`${base}/v1/apps`, { method: 'OPTIONS', headers: { origin: 'https://excel.example', 'access-control-request-headers': 'authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
    // A token of the tenant without any role is refused.
    expect((await call(`${base}/v1/apps`, { token: tokens.noRoleA })).status).toBe(403);

    // Tenant A's viewer: alpha, desired and live, with the sidecar to use.
    const listA = await waitFor('alpha running and ready', async () => {
      const r = await call(`${base}/v1/apps`, { token: tokens.viewerA });
      return r.body.apps?.[0]?.ready ? r : null;
    }, 60_000);
    expect(listA.headers.get('access-control-allow-origin')).toBe('*');
    expect(listA.body.tenant).toBe(tenantA);
    expect(listA.body.apps.map((a: any) => a.name)).toEqual(['alpha']);
    const alpha = listA.body.apps[0];
    expect(alpha).toMatchObject({ tenant: tenantA, desired: 'running', status: 'running', ready: true, grids: [{ name: 'totals', columns: ['total'] }] });
    expect(alpha.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(alpha.ws).toBe(`${alpha.url.replace('http', 'ws')}/v1/ws`);
    expect((await fetch(`${alpha.url}/readyz`)).status).toBe(200);

    // Tenant B sees only beta: no name, no count of tenant A's.
    const listB = await call(`${base}/v1/apps`, { token: tokens.developerB });
    expect(listB.body.tenant).toBe(tenantB);
    expect(listB.body.apps.map((a: any) => a.name)).toEqual(['beta']);
    expect(JSON.stringify(listB.body)).not.toContain(tenantA);
    // The apps run with serve's auth and their spec.access.groups: beta's grids are for traders only.
    const beta = await waitFor('beta ready', async () => { const x = await appOf(tokens.developerB, tenantB, 'beta'); return x.ready ? x : null; }, 60_000);
    expect((await call(`${beta.url}/v1/grids/totals`)).status).toBe(401);
    expect((await call(`${beta.url}/v1/grids/totals`, { token: tokens.developerB })).status).toBe(403);
    const trader = await issuer.token({ sub: 'tess', tenant: tenantB, roles: ['viewer'], groups: ['traders'] });
    expect((await call(`${beta.url}/v1/grids/totals`, { token: trader })).status).toBe(200);

    // Tenant A's app is as missing to B as an app that does not exist, for every method.
    const before = main();
    const missing = await call(`${base}/v1/apps/${tenantA}/nosuchapp`, { token: tokens.developerB });
    for (const [method, path] of [['GET', 'alpha'], ['POST', 'alpha/stop'], ['POST', 'alpha/start'], ['DELETE', 'alpha']] as const) {
      const r = await call(`${base}/v1/apps/${tenantA}/${path}`, { token: tokens.developerB, method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error.code).toBe('not_found');
      expect(r.body.error.message).toBe(missing.body.error.message.replace('nosuchapp', 'alpha'));
    }
    expect(missing.status).toBe(404);

    // A viewer may look but not stop, start or delete: 403 and nothing committed.
    for (const [method, path] of [['POST', 'alpha/stop'], ['POST', 'alpha/start'], ['DELETE', 'alpha']] as const) {
      const refused = await call(`${base}/v1/apps/${tenantA}/${path}`, { token: tokens.viewerA, method });
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
    }
    expect(main()).toBe(before);

    // A developer's stop is a commit, and the app stops.
    const stopped = await call(`${base}/v1/apps/${tenantA}/alpha/stop`, { token: tokens.developerA, method: 'POST' });
    expect(stopped.status).toBe(202);
    expect(stopped.body.commit).toBe(main());
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toMatch(new RegExp(`AeroGrid-Action: stop\nAeroGrid-Requested-By: dev \\(tenant ${tenantA}, via the directory\\)`));
    const down = await waitFor('alpha stopped', async () => { const a = await appOf(tokens.viewerA, tenantA, 'alpha'); return a.status === 'stopped' ? a : null; }, 30_000);
    expect(down).toMatchObject({ desired: 'stopped', ready: false, url: null, ws: null, revision: stopped.body.commit });
    await waitFor('alpha\'s sidecar gone', () => fetch(`${alpha.url}/readyz`).then(() => false, () => true), 30_000);

    const started = await call(`${base}/v1/apps/${tenantA}/alpha/start`, { token: tokens.developerA, method: 'POST' });
    expect(started.status).toBe(202);
    await waitFor('alpha running again', async () => { const a = await appOf(tokens.viewerA, tenantA, 'alpha'); return a.status === 'running' && a.ready && a.revision === started.body.commit; }, 60_000);
  }, 180_000);

  it('watch: auth first, then the tenant\'s apps and every change of them — app, ready, removed — and nothing of other tenants', async () => {
    // Anything but auth first, a bad token, or no role: closed.
    const early = await watch(base, { first: { op: 'ping' } });
    expect(await early.closed).toBe(4401);
    expect(early.messages[0]).toMatchObject({ type: 'error', code: 'unauthorized' });
    const forged = await watch(base, { token: await issuer.token({ tenant: tenantA, roles: ['admin'] }, { audience: 'someone-else' }) });
    expect(await forged.closed).toBe(4401);
    const roleless = await watch(base, { token: tokens.noRoleA });
    expect(await roleless.closed).toBe(4403);
    expect(roleless.messages[0]).toMatchObject({ type: 'error', code: 'forbidden' });

    const a = await watch(base, { token: tokens.viewerA });
    const b = await watch(base, { token: tokens.developerB });
    const hello = await a.next('authenticated', (m) => m.type === 'authenticated');
    expect(hello).toMatchObject({ subject: 'vera', tenant: tenantA });
    expect(Date.parse(hello.expires_at)).toBeGreaterThan(Date.now());
    const snapshot = await a.next('the apps', (m) => m.type === 'apps');
    expect(snapshot).toMatchObject({ tenant: tenantA, allowed: [] });
    expect(snapshot.apps.map((x: any) => x.name)).toEqual(['alpha']);
    expect((await b.next('the apps of B', (m) => m.type === 'apps')).apps.map((x: any) => x.name)).toEqual(['beta']);

    // A new app: first listed as it starts, then `ready` once its sidecar serves the grids.
    await deploy('gamma', tenantA, topicA, { stopAtBadRecords: true });
    const listed = await a.next('gamma listed', (m) => m.type === 'app' && m.app.name === 'gamma');
    expect(listed.app.desired).toBe('running');
    const ready = await a.next('gamma ready', (m) => m.type === 'ready' && m.app.name === 'gamma');
    expect(ready.app).toMatchObject({ tenant: tenantA, status: 'running', ready: true });
    expect((await fetch(`${ready.app.url}/readyz`)).status).toBe(200);
    // Its `app` message with ready: true comes too.
    await a.next('gamma ready as an app', (m) => m.type === 'app' && m.app.name === 'gamma' && m.app.ready);

    // A bad record stops gamma (its dead-letter policy is stop): the watch says it is failing, and why.
    let from = a.messages.length;
    await kafka.produce(topicA, [{ key: 'bad', value: 'not json' }]);
    const failing = await a.next('gamma failing', (m) => m.type === 'app' && m.app.name === 'gamma' && m.app.status === 'failing', { from });
    expect(failing.app.message).toBeTruthy();

    // Stop and delete: an `app` message, then `removed`.
    from = a.messages.length;
    expect((await call(`${base}/v1/apps/${tenantA}/gamma/stop`, { token: tokens.developerA, method: 'POST' })).status).toBe(202);
    await a.next('gamma stopped', (m) => m.type === 'app' && m.app.name === 'gamma' && m.app.status === 'stopped', { from });
    expect((await call(`${base}/v1/apps/${tenantA}/gamma`, { token: tokens.developerA, method: 'DELETE' })).status).toBe(202);
    await a.next('gamma removed', (m) => m.type === 'removed' && m.name === 'gamma' && m.tenant === tenantA, { from });
    expect((await call(`${base}/v1/apps/${tenantA}/gamma`, { token: tokens.viewerA })).status).toBe(404);

    // Tenant B heard nothing of any of it.
    expect(JSON.stringify(b.messages)).not.toContain(tenantA);
    expect(b.messages.filter((m) => m.type !== 'authenticated' && m.type !== 'apps' && m.app?.name !== 'beta')).toEqual([]);

    // Renewal with a fresh token of the same user; another user's token is refused.
    const renewedFrom = a.messages.length;
    a.send({ op: 'auth', token: await issuer.token({ sub: 'vera', tenant: tenantA, roles: ['viewer'], expiresIn: '1h' }) });
    const renewed = await a.next('renewed', (m) => m.type === 'authenticated', { from: renewedFrom });
    expect(Date.parse(renewed.expires_at)).toBeGreaterThan(Date.parse(hello.expires_at));
    a.send({ op: 'auth', token: tokens.developerA });
    expect(await a.closed).toBe(4401);
    b.close();

    // A token that runs out without renewal ends the watch.
    const brief = await watch(base, { token: await issuer.token({ sub: 'vera', tenant: tenantA, roles: ['viewer'], expiresIn: 2 }) });
    expect(await brief.closed).toBe(4401);
    expect(brief.messages.at(-1)).toMatchObject({ type: 'error', code: 'token_expired' });
  }, 180_000);

  it('console in Chromium: the apps with their status, stop and start for a developer, none for a viewer, and a grid live', async () => {
    browser = await launchBrowser();
    // Through the issuer's authorization code + PKCE redirect, which approves as `user` at once.
    const signIn = async (user: TokenClaims) => {
      issuer.signInAs(user);
      const page = await browser!.newPage({ viewport: { width: 1200, height: 640 } });
      await page.goto(`${base}/`);
      await page.click('#signin');
      await page.waitForURL(`${base}/`);
      return page;
    };
    const row = `tr[data-app="${tenantA}/alpha"]`;

    // A viewer sees the app and its status, but no button that changes it.
    const viewer = await signIn({ sub: 'vera', tenant: tenantA, roles: ['viewer'] });
    await viewer.waitForSelector(`${row} td.status[data-status="running"]`, { timeout: 30_000 });
    expect(await viewer.locator(`${row} button[data-action]`).count()).toBe(0);
    // Only Releases and Logs, which read and change nothing.
    expect(await viewer.locator(`${row} button`).evaluateAll((bs) => bs.map((b) => (b as HTMLElement).dataset.open))).toEqual(['releases', 'logs']);
    expect(await viewer.isVisible('#new-app')).toBe(false);
    expect(await viewer.locator('#who').textContent()).toContain(`vera · tenant ${tenantA}`);
    expect(await viewer.locator('tr[data-app]').count()).toBe(1);

    // A developer stops and starts it from the page; the viewer's page follows.
    const developer = await signIn({ sub: 'dev', tenant: tenantA, roles: ['developer'] });
    await developer.click(`${row} button[data-action="stop"]`);
    await developer.waitForSelector(`${row} td.status[data-status="stopped"]`, { timeout: 30_000 });
    await viewer.waitForSelector(`${row} td.status[data-status="stopped"]`, { timeout: 30_000 });
    expect((await appOf(tokens.viewerA, tenantA, 'alpha')).desired).toBe('stopped');
    await developer.click(`${row} button[data-action="start"]`);
    await developer.waitForSelector(`${row} td.status[data-status="running"]`, { timeout: 60_000 });

    // The grid, live: records produced now show up in the page.
    await developer.click(`${row} td.status`);
    await developer.waitForSelector('.grid[data-grid="totals"]', { timeout: 30_000 });
    await send(topicA, 'apples', 40);
    await send(topicA, 'apples', 2);
    await send(topicA, 'pears', 7);
    const cell = (key: string) => developer.locator(`.grid[data-grid="totals"] tr[data-key="${key}"] td[data-column="total"]`);
    await waitFor('apples to sum 42 in the page', async () => (await cell('apples').textContent({ timeout: 500 }).catch(() => null)) === '42', 30_000);
    expect(await cell('pears').textContent()).toBe('7');
    await developer.screenshot({ path: 'test-results/console.png' });
  }, 180_000);
});
