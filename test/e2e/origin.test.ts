// With auth off, other web sites must not read grids or act through the directory: a page the
// developer visits could otherwise fetch 127.0.0.1, and DNS rebinding defeats loopback binding.
// Real servers: a sidecar front end, and `aerogrid serve` (directory) on a real GitOps repo and
// Kafka. A rebound name is a request whose Host header names it; a foreign page, an Origin header.
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import type { Frontend } from '../../sidecar/src/http/server.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import type { CliProcess } from '../helpers/cli.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { testBroker, uniqueName } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';
import { cliEnv, directoryUrl, gitIn, startServe, stopServe, tempDir, writeConnector } from '../helpers/gitops.js';
import { ordersStore, startAppFrontend } from '../helpers/frontend.js';

const EVIL = 'https://evil.example';
const ADDIN = 'https://localhost:3000';

/** An HTTP request with exactly these headers (fetch cannot set Host). */
function request(url: string, options: { method?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket from `origin`: its first message, or the HTTP status that refused it. */
function openFrom(url: string, protocol: string, origin: string, first?: unknown): Promise<{ refused: number } | { message: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol, { origin });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode! });
      ws.terminate();
    });
    ws.once('open', () => { if (first !== undefined) ws.send(JSON.stringify(first)); });
    ws.once('message', (data) => {
      resolve({ message: JSON.parse(data.toString()) });
      ws.close();
    });
    ws.once('error', (error) => { if (!/Unexpected server response/.test(error.message)) reject(error); });
  });
}

describe('the sidecar with auth off: loopback names and loopback pages only', () => {
  let frontend: Frontend;
  let base: string;
  beforeAll(async () => {
    frontend = await startAppFrontend(ordersStore(), null);
    base = frontend.url;
  });
  afterAll(async () => frontend?.close());

  it('refuses a rebound host name and a foreign page, and lets the add-in and the viewer read', async () => {
    const rebound = await request(`${base}v1/grids`, { headers: { host: `evil.example:${frontend.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error.code).toBe('forbidden_host');
    expect(rebound.body.error.message).toContain('turn auth on');
    // The viewer page itself is refused under a rebound name too: its script would be same-origin.
    expect((await request(base, { headers: { host: 'evil.example' } })).status).toBe(403);

    const foreign = await request(`${base}v1/grids`, { headers: { origin: EVIL } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('forbidden_origin');
    // The refused page may read why (and the fix), never data: the body is the error alone.
    expect(foreign.headers['access-control-allow-origin']).toBe(EVIL);
    expect(Object.keys(foreign.body)).toEqual(['error']);
    expect(foreign.body.error.message).toContain(`--allow-origin ${EVIL}`);

    // The add-in served locally: allowed, and told so by CORS (its origin, not '*').
    const addin = await request(`${base}v1/grids/product_sum`, { headers: { origin: ADDIN } });
    expect(addin.status).toBe(200);
    expect(addin.body.rows['How to...'].units_sold).toBe(300);
    expect(addin.headers['access-control-allow-origin']).toBe(ADDIN);
    const preflight = await request(`${base}v1/grids`, { method: 'OPTIONS', headers: { origin: ADDIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ADDIN);
    // Its own page, localhost and [::1] as names: allowed.
    expect((await request(`${base}v1/grids`, { headers: { origin: base.replace(/\/$/, '') } })).status).toBe(200);
    expect((await request(`${base}v1/status`, { headers: { host: `localhost:${frontend.port}` } })).status).toBe(200);
    expect((await request(`${base}v1/status`, { headers: { host: `[::1]:${frontend.port}`, origin: 'http://[::1]:8080' } })).status).toBe(200);
  });

  it('refuses a WebSocket from a foreign page, accepts one from a loopback page', async () => {
    const ws = `${base.replace(/^http/, 'ws')}v1/ws`;
    expect(await openFrom(ws, 'aerogrid.v1', EVIL)).toEqual({ refused: 403 });
    const local = await openFrom(ws, 'aerogrid.v1', ADDIN);
    expect('message' in local && local.message.type).toBe('hello');
  });
});

describe('the sidecar with auth on: any origin, the token decides', () => {
  let issuer: TestIssuer;
  let frontend: Frontend;
  beforeAll(async () => {
    issuer = await startTestIssuer();
    frontend = await startAppFrontend(ordersStore(), issuer);
  });
  afterAll(async () => {
    await frontend?.close();
    await issuer?.close();
  });

  it('answers a foreign page that sends a token, over HTTP and WebSocket', async () => {
    const token = await issuer.token({ sub: 'vera', tenant: 'acme', roles: ['viewer'] });
    const grids = await request(`${frontend.url}v1/grids`, { headers: { origin: EVIL, authorization: `Bearer ${token}` } });
    expect(grids.status).toBe(200);
    expect(grids.headers['access-control-allow-origin']).toBe('*');
    const anonymous = await request(`${frontend.url}v1/grids`, { headers: { origin: EVIL } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['access-control-expose-headers']).toBe('WWW-Authenticate');
    const ws = await openFrom(`${frontend.url.replace(/^http/, 'ws')}v1/ws`, 'aerogrid.v1', EVIL, { op: 'auth', token });
    expect('message' in ws && ws.message.type).toBe('authenticated');
  });
});

describe('the directory of aerogrid serve with auth off: actions from its own page only', () => {
  const broker = testBroker();
  const tenant = uniqueName('orig').replace(/[^a-z0-9-]/g, '');
  const topic = uniqueName('orig-ticks');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-origin' });
  let repo: string;
  let serve: CliProcess;
  let base: string;
  const main = () => gitIn(repo, ['rev-parse', 'main']).trim();

  beforeAll(async () => {
    const home = await tempDir('orig-home');
    repo = join(await tempDir('orig-remote'), 'gitops.git');
    const env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    await kafka.ensureTopic(topic, { partitions: 1 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
    const dir = await writeConnector(join(await tempDir('orig-conn'), 'origapp'), { name: 'origapp', tenant, topics: [topic] });
    const deployed = await runCli(['deploy', dir], { env });
    expect(deployed.code, deployed.stderr).toBe(0);
    serve = await startServe(['--broker', broker, '--poll', '200'], env);
    base = directoryUrl(serve);
  });
  afterAll(async () => {
    await stopServe(serve);
    await kafka.close();
  });

  it('refuses stop from a foreign page (nothing committed) and a rebound name; its own page stops the app', async () => {
    const stop = `${base}/v1/apps/${tenant}/origapp/stop`;
    const before = main();
    const foreign = await request(stop, { method: 'POST', headers: { origin: EVIL } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('forbidden_origin');
    // A loopback page other than the console may read, not act.
    expect((await request(stop, { method: 'POST', headers: { origin: ADDIN } })).status).toBe(403);
    const rebound = await request(stop, { method: 'POST', headers: { host: 'evil.example' } });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error.code).toBe('forbidden_host');
    // DELETE's preflight fails for any other page; a loopback page's read preflight is offered reads.
    const app = `${base}/v1/apps/${tenant}/origapp`;
    const preflight = (origin: string, method: string) => request(app, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method } });
    expect((await preflight(EVIL, 'DELETE')).status).toBe(403);
    expect((await preflight(ADDIN, 'DELETE')).status).toBe(403);
    const read = await preflight(ADDIN, 'GET');
    expect(read.status).toBe(204);
    expect(read.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(read.headers['access-control-allow-origin']).toBe(ADDIN);
    expect(main()).toBe(before);

    // The console (the directory's own origin) and the CLI (no Origin) may act.
    const own = await request(stop, { method: 'POST', headers: { origin: base } });
    expect(own.status, JSON.stringify(own.body)).toBe(202);
    expect(own.body.changed).toBe(true);
    expect(main()).toBe(own.body.commit);
  });

  it('lets the add-in read the apps and the watch; refuses both to a foreign page', async () => {
    const apps = await request(`${base}/v1/apps`, { headers: { origin: ADDIN } });
    expect(apps.status).toBe(200);
    expect(apps.headers['access-control-allow-origin']).toBe(ADDIN);
    expect(apps.body.apps.map((a: any) => a.name)).toContain('origapp');
    expect((await request(`${base}/v1/apps`, { headers: { origin: EVIL } })).status).toBe(403);
    const watch = `${base.replace(/^http/, 'ws')}/v1/apps/watch`;
    expect(await openFrom(watch, 'aerogrid.directory.v1', EVIL)).toEqual({ refused: 403 });
    const local = await openFrom(watch, 'aerogrid.directory.v1', ADDIN);
    expect('message' in local && local.message.type).toBe('apps');
  });
});
