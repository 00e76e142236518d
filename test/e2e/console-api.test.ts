// The console's API on a real `aerogrid serve --run local`: a real OIDC issuer, a real bare GitOps
// repo, real Python (in the runner's sandbox for a try) and a real Kafka under the runner. Drafts,
// validation, tries, deploys, source, releases and restore, each authorised by role and tenant.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliProcess } from '../helpers/cli.js';
import { startConsoleServe } from '../helpers/console.js';
import { runCli } from '../helpers/cli.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { testBroker, uniqueName } from '../helpers/wait.js';
import { fileAt, gitIn, stopServe, tempDir, treeOf } from '../helpers/gitops.js';
import { call } from '../helpers/directory.js';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';

async function post(url: string, body: unknown, token?: string, method = 'POST'): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;

describe('the console API of aerogrid serve, with auth', () => {
  const broker = testBroker();
  const tenantA = uniqueName('capia').replace(/[^a-z0-9-]/g, '');
  const tenantB = uniqueName('capib').replace(/[^a-z0-9-]/g, '');
  const topic = uniqueName('capi-orders');
  let issuer: TestIssuer;
  let env: NodeJS.ProcessEnv;
  let repo: string;
  let serve: CliProcess;
  let base: string;
  let secretFile: string;
  const tokens = {} as Record<'viewerA' | 'developerA' | 'developerB', string>;
  const main = () => gitIn(repo, ['rev-parse', 'main']).trim();

  /** The orders-sum draft for tenant A: the files the page starts from. */
  const draftFiles = async (name: string) => {
    const r = await post(`${base}/v1/drafts`, { template: 'orders-sum', name, topics: [topic] }, tokens.developerA);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.files as Record<string, string>;
  };
  const withHandler = (files: Record<string, string>, body: string, imports = '') => ({
    ...files,
    'app.py': files['app.py']!.replace(/^import aerogrid$/m, `import aerogrid\n${imports}`).replace(/    async for order_id, order in orders\.items\(\):\n[\s\S]*$/, body),
  });

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tokens.viewerA = await issuer.token({ sub: 'vera', tenant: tenantA, roles: ['viewer'] });
    tokens.developerA = await issuer.token({ sub: 'dana', tenant: tenantA, roles: ['developer'] });
    tokens.developerB = await issuer.token({ sub: 'bob', tenant: tenantB, roles: ['developer'] });
    secretFile = join(await tempDir('capi-secret'), 'secret.txt');
    await writeFile(secretFile, SECRET);
    ({ repo, env, serve, base } = await startConsoleServe('capi', [tenantA, tenantB], `${topic},prices.*`, { issuer, env: { AEROGRID_TEST_SECRET: SECRET } }));
  }, 120_000);

  afterAll(async () => {
    await stopServe(serve);
    await issuer?.close();
  });

  it('lists the templates (rendered for myapp) and the caller\'s tenant\'s topics', async () => {
    const templates = await call(`${base}/v1/templates`, { token: tokens.viewerA });
    expect(templates.status).toBe(200);
    expect(templates.body.map((t: any) => t.name)).toEqual(['orders-sum', 'passthrough', 'top-n', 'blank']);
    expect(templates.body[0]).toMatchObject({ name: 'orders-sum', description: expect.stringContaining('units sold per product') });
    expect(Object.keys(templates.body[0].files).sort()).toEqual(['aerogrid.yaml', 'app.py']);
    expect(templates.body[0].files['app.py']).toContain("aerogrid.App('myapp'");
    expect(templates.body[0].files['aerogrid.yaml']).toContain(`tenant: ${tenantA}`);
    // The caller's tenant's topics, whatever the query says.
    const topics = await call(`${base}/v1/topics?tenant=${tenantB}`, { token: tokens.viewerA });
    expect(topics).toMatchObject({ status: 200, body: { tenant: tenantA, topics: [topic, 'prices.*'] } });
    expect((await call(`${base}/v1/templates`)).status).toBe(401);
    // HEAD wherever GET is, as HTTP has it: the same status and headers, no body.
    const head = await fetch(`${base}/v1/templates`, { method: 'HEAD', headers: { authorization: `Bearer ${tokens.viewerA}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toContain('application/json');
    expect(await head.text()).toBe('');
    expect((await fetch(`${base}/v1/validate`, { method: 'HEAD', headers: { authorization: `Bearer ${tokens.viewerA}` } })).headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('drafts a new app with the files aerogrid init writes; names are checked before anything', async () => {
    const files = await draftFiles('shop');
    expect(Object.keys(files).sort()).toEqual(['aerogrid.yaml', 'app.py']);
    const dir = join(await tempDir('capi-init'), 'shop');
    const init = await runCli(['init', 'shop', '--template', 'orders-sum', '--tenant', tenantA, '--topic', topic, '--dir', dir, '--no-git'], { env });
    expect(init.code, init.stderr).toBe(0);
    expect(files['aerogrid.yaml']).toBe(await readFile(join(dir, 'aerogrid.yaml'), 'utf8'));
    expect(files['app.py']).toBe(await readFile(join(dir, 'app.py'), 'utf8'));
    const r = await post(`${base}/v1/drafts`, { template: 'orders-sum', name: 'shop', topics: [topic] }, tokens.developerA);
    expect(r.body.yaml).toBe(files['aerogrid.yaml']);
    expect(r.body.grids).toEqual([{ name: 'product_sum', columns: ['units_sold'] }]);

    for (const name of ['../../evil', 'Shop', 'a/b']) {
      const bad = await post(`${base}/v1/drafts`, { template: 'orders-sum', name, topics: [topic] }, tokens.developerA);
      expect(bad.status, name).toBe(422);
      expect(bad.body.error.message).toContain(`the name '${name}'`);
    }
    const noTemplate = await post(`${base}/v1/drafts`, { template: 'nope', name: 'shop' }, tokens.developerA);
    expect(noTemplate.status).toBe(422);
    expect(noTemplate.body.error.message).toContain('orders-sum');
  });

  it('validates with the CLI\'s own validator: file, line, column, message and fix', async () => {
    const files = await draftFiles('shop');
    const ok = await post(`${base}/v1/validate`, { files }, tokens.developerA);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, errors: 0 });

    const broken = { ...files, 'app.py': files['app.py']!.replace("app.topic('", "app.topic('other-") };
    const r = await post(`${base}/v1/validate`, { files: broken }, tokens.developerA);
    expect(r.body.valid).toBe(false);
    const line = broken['app.py']!.split('\n').findIndex((l) => l.includes("app.topic('other-")) + 1;
    expect(r.body.problems).toContainEqual(expect.objectContaining({ file: 'app.py', line, column: expect.any(Number), code: 'topic-undeclared', severity: 'error' }));
    // The same message and fix as `aerogrid validate --json` on a folder of the same files.
    const dir = await mkdtemp(join(await tempDir('capi-val'), 'c-'));
    for (const [name, text] of Object.entries(broken)) await writeFile(join(dir, name), text);
    const cli = await runCli(['validate', '--json'], { env, cwd: dir });
    const expected = JSON.parse(cli.stdout).problems.map((p: any) => ({ ...p, ...(p.hint ? { fix: p.hint } : {}) }));
    expect(expected.length).toBeGreaterThan(0);
    expect(r.body.problems).toEqual(expected);
    expect(JSON.stringify(r.body)).not.toContain('aerogrid-console-');

    // A column app.py writes but its grid does not declare: at its line in app.py.
    const column = { ...files, 'app.py': files['app.py']!.replace("{'units_sold': units_sold}", "{'units_sold': units_sold, 'revenue': 0}") };
    const c = await post(`${base}/v1/validate`, { files: column }, tokens.developerA);
    const at = column['app.py']!.split('\n').findIndex((l) => l.includes("'revenue'")) + 1;
    expect(c.body.problems).toEqual([expect.objectContaining({
      file: 'app.py', line: at, column: column['app.py']!.split('\n')[at - 1]!.indexOf("'revenue'") + 1, code: 'column-undeclared',
      message: "app.py writes column 'revenue' to grid 'product_sum', which does not declare it (its columns: units_sold); the write fails when it runs",
      hint: expect.stringContaining("add 'revenue' to the grid's columns"),
    })]);
  });

  it('tries an app on pasted records: orders summed per product, the bad record dead-lettered, nothing deployed', async () => {
    const before = main();
    const files = await draftFiles('shop');
    const records = ['{"key": "o-1", "value": {"product": "tea", "quantity": 3}}', '{"key": "o-2", "value": {"product": "cake", "quantity": 1}}', '', '{"key": "o-3", "value": {"product": "tea", "quantity": "many"}}', '{"key": "o-4", "value": {"product": "tea", "quantity": 2}}'].join('\n');
    const r = await post(`${base}/v1/try`, { files, records, keyed: true }, tokens.developerA);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ sandboxed: true, topic, records: 4 });
    expect(r.body.grids).toEqual({ product_sum: { columns: ['units_sold'], rows: { tea: { units_sold: 5 }, cake: { units_sold: 1 } } } });
    expect(r.body.deadLetters).toEqual([{ index: 2, key: 'o-3', value: { product: 'tea', quantity: 'many' }, reason: 'validation', message: "field 'quantity': expected int, got str 'many'" }]);
    // Not keyed: each line is a value as written, and a line that is not JSON is dead-lettered.
    const plain = await post(`${base}/v1/try`, { files, records: '{"product": "tea", "quantity": 3}\nnot json' }, tokens.developerA);
    expect(plain.body.grids.product_sum.rows).toEqual({ tea: { units_sold: 3 } });
    expect(plain.body.deadLetters).toMatchObject([{ index: 1, key: null, value: 'not json', reason: 'decode' }]);
    expect(main()).toBe(before);
  }, 60_000);

  it('tries an app on the latest records of a topic, reading with a group that commits nothing and is gone after', async () => {
    const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-console-sample' });
    const admin = new Kafka({ brokers: [broker], clientId: 'test-console-sample-admin', logLevel: logLevel.NOTHING }).admin();
    try {
      await kafka.ensureTopic(topic, { partitions: 2 });
      const products = ['old', 'old', 'tea', 'tea', 'cake'];
      await kafka.produce(topic, products.map((product, i) => ({ key: `o-${i}`, value: JSON.stringify({ product, quantity: i + 1 }), partition: 0 })));
      await kafka.produce(topic, [{ key: 'o-9', value: '{"product": "pie", "quantity": 7}', partition: 1 }]);
      const before = await kafka.topicOffsets(topic);
      await admin.connect();
      const groupsBefore = (await admin.listGroups()).groups.map((g) => g.groupId);

      const files = await draftFiles('sampler');
      const r = await post(`${base}/v1/try`, { files, fromTopic: { topic, count: 3 } }, tokens.developerA);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      // The latest 3 of each partition, by partition then offset, and of those the last 3.
      expect(r.body).toMatchObject({ topic, records: 3, deadLetters: [] });
      expect(r.body.grids.product_sum.rows).toEqual({ tea: { units_sold: 4 }, cake: { units_sold: 5 }, pie: { units_sold: 7 } });

      expect(await kafka.topicOffsets(topic)).toEqual(before);
      const groupsAfter = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(groupsAfter.filter((g) => !groupsBefore.includes(g) && g.startsWith('aerogrid.console-sample'))).toEqual([]);

      const denied = await post(`${base}/v1/try`, { files, fromTopic: { topic: 'payroll', count: 3 } }, tokens.developerA);
      expect(denied.status).toBe(403);
      expect(denied.body.error.message).toContain(`tenant '${tenantA}' may not read topic 'payroll'`);
      expect((await post(`${base}/v1/try`, { files, fromTopic: { topic, count: 100000 } }, tokens.developerA)).status).toBe(400);
    } finally {
      await admin.disconnect();
      await kafka.close();
    }
  }, 60_000);

  it('stops an app that loops forever, with a clear error', async () => {
    const files = withHandler(await draftFiles('loop'), '    async for order_id, order in orders.items():\n        while True:\n            pass\n');
    const started = Date.now();
    const r = await post(`${base}/v1/try`, { files, records: '{"product": "tea", "quantity": 1}' }, tokens.developerA);
    expect(r.status).toBe(422);
    expect(r.body.error).toEqual({ code: 'time_limit', message: 'app.py ran longer than the 10 s a try may take on 1 record and was stopped', fix: 'look for a handler that loops forever or waits for something that never comes' });
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('holds a try to the app\'s memory limit, and refuses more than a deployed app may have', async () => {
    const draft = await draftFiles('hog');
    const hog = withHandler({ ...draft, 'aerogrid.yaml': draft['aerogrid.yaml']!.replace('memory: 256Mi', 'memory: 64Mi') }, [
      '    async for order_id, order in orders.items():',
      '        blob = bytearray(512 * 1024 * 1024)',
      "        product_sum['x'] = {'units_sold': len(blob)}",
      '',
    ].join('\n'));
    const r = await post(`${base}/v1/try`, { files: hog, records: '{"product": "tea", "quantity": 1}' }, tokens.developerA);
    expect(r.status, JSON.stringify(r.body)).toBe(422);
    expect(r.body.error).toMatchObject({ code: 'memory_limit', message: expect.stringContaining('its memory limit (64Mi, spec.resources.memory in aerogrid.yaml)') });

    const greedy = { ...draft, 'aerogrid.yaml': draft['aerogrid.yaml']!.replace('memory: 256Mi', 'memory: 64Gi') };
    const refused = await post(`${base}/v1/try`, { files: greedy, records: '{}' }, tokens.developerA);
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('memory 64Gi is more than the 2Gi allowed');
  }, 60_000);

  it('runs the app without the server\'s environment and without its files', async () => {
    const draft = await draftFiles('peek');
    const envFiles = withHandler(draft, [
      '    async for order_id, order in orders.items():',
      "        product_sum['env'] = {'units_sold': len(json.dumps(dict(os.environ)))}",
      "        app.log(json.dumps(dict(os.environ)))",
      '',
    ].join('\n'), 'import json, os');
    const env = await post(`${base}/v1/try`, { files: envFiles, records: '{"product": "tea", "quantity": 1}' }, tokens.developerA);
    expect(env.status, JSON.stringify(env.body)).toBe(200);
    expect(env.body.deadLetters, JSON.stringify(env.body)).toEqual([]);
    const seen = JSON.parse(env.body.logs[0][1]);
    expect(JSON.stringify(env.body)).not.toContain(SECRET);
    expect(Object.keys(seen)).not.toContain('AEROGRID_TEST_SECRET');
    expect(Object.keys(seen).filter((k) => /OIDC|GITOPS|AEROGRID_HOME/.test(k))).toEqual([]);

    const fileFiles = withHandler(draft, [
      '    async for order_id, order in orders.items():',
      `        with open(${JSON.stringify(secretFile)}) as f:`,
      "            product_sum[f.read()] = {'units_sold': 1}",
      '',
    ].join('\n'));
    const file = await post(`${base}/v1/try`, { files: fileFiles, records: '{"product": "tea", "quantity": 1}' }, tokens.developerA);
    expect(file.status, JSON.stringify(file.body)).toBe(200);
    expect(file.body.grids).toEqual({ product_sum: { columns: ['units_sold'], rows: {} } });
    expect(file.body.deadLetters).toHaveLength(1);
    expect(file.body.deadLetters[0]).toMatchObject({ reason: 'handler', message: expect.stringMatching(/No such file or directory|Permission denied/) });
    expect(JSON.stringify(file.body)).not.toContain(SECRET);
    // Tracebacks name the app's file as the user knows it, not by the server's folder.
    expect(JSON.stringify(file.body)).not.toContain('aerogrid-console-');
  }, 60_000);

  it('deploys with the signed-in user in the commit; gives the source and releases back; restores a deleted app', async () => {
    const files = await draftFiles('shop');
    const before = main();
    const invalid = await post(`${base}/v1/apps/${tenantA}/shop/deploy`, { files: { ...files, 'app.py': files['app.py']!.replace("app.topic('", "app.topic('other-") } }, tokens.developerA);
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.message).toMatch(/The connector is not valid; nothing was deployed:\n  app\.py:\d+:\d+: app\.py reads topic 'other-/);
    expect(invalid.body.error.message).not.toContain('aerogrid-console-');
    expect(main()).toBe(before);
    const elsewhere = await post(`${base}/v1/apps/${tenantA}/store/deploy`, { files }, tokens.developerA);
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.error.message).toContain(`aerogrid.yaml names the app '${tenantA}/shop'`);
    const deployed = await post(`${base}/v1/apps/${tenantA}/shop/deploy`, { files }, tokens.developerA);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    expect(deployed.body).toMatchObject({ tenant: tenantA, app: 'shop', changed: true, release: 1, commit: main() });
    const message = gitIn(repo, ['log', '-1', '--format=%B', 'main']);
    expect(message).toMatch(new RegExp(`AeroGrid-App: ${tenantA}/shop\nAeroGrid-Action: deploy\nAeroGrid-Requested-By: dana \\(tenant ${tenantA}, via the directory\\)`));
    expect(fileAt(repo, `tenants/${tenantA}/apps/shop/code/app.py`)).toBe(files['app.py']);

    const source = await call(`${base}/v1/apps/${tenantA}/shop/source`, { token: tokens.developerA });
    expect(source.status).toBe(200);
    expect(source.body).toMatchObject({ tenant: tenantA, app: 'shop', deployed: true, release: 1, revision: deployed.body.commit, files });
    const releases = await call(`${base}/v1/apps/${tenantA}/shop/releases`, { token: tokens.viewerA });
    expect(releases.body.releases).toMatchObject([{ number: 1, commit: deployed.body.commit, action: 'deploy', by: `dana (tenant ${tenantA}, via the directory)` }]);

    // Not deleted yet: nothing to restore.
    expect((await post(`${base}/v1/apps/${tenantA}/shop/restore`, {}, tokens.developerA)).status).toBe(409);
    const deleted = await call(`${base}/v1/apps/${tenantA}/shop`, { token: tokens.developerA, method: 'DELETE' });
    expect(deleted.status).toBe(202);
    expect(treeOf(repo, `tenants/${tenantA}/apps/shop`)).toEqual([]);
    expect((await call(`${base}/v1/apps/${tenantA}/shop/source`, { token: tokens.developerA })).status).toBe(404);
    expect((await call(`${base}/v1/apps/${tenantA}/shop/source?release=1`, { token: tokens.developerA })).body.files).toEqual(files);

    const restored = await post(`${base}/v1/apps/${tenantA}/shop/restore`, {}, tokens.developerA);
    expect(restored.status, JSON.stringify(restored.body)).toBe(202);
    expect(restored.body).toMatchObject({ tenant: tenantA, app: 'shop', release: 1, commit: main() });
    expect(fileAt(repo, `tenants/${tenantA}/apps/shop/code/app.py`)).toBe(files['app.py']);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain(`AeroGrid-Requested-By: dana (tenant ${tenantA}, via the directory)`);
    const after = await call(`${base}/v1/apps/${tenantA}/shop/releases`, { token: tokens.viewerA });
    expect(after.body.deleted).toBe(false);
    // Newest first.
    expect(after.body.releases.map((r: any) => [r.number, r.action, r.rollbackTo])).toEqual([[2, 'rollback', 1], [1, 'deploy', undefined]]);
  }, 120_000);

  it('refuses a viewer (403) and another tenant (404) on every write, and commits nothing', async () => {
    const files = await draftFiles('guarded');
    const before = main();
    const writes: Array<[string, unknown]> = [
      ['/v1/drafts', { template: 'orders-sum', name: 'guarded', tenant: tenantA }],
      ['/v1/validate', { files }],
      ['/v1/try', { files, records: '{}' }],
      [`/v1/apps/${tenantA}/guarded/deploy`, { files }],
      [`/v1/apps/${tenantA}/shop/restore`, {}],
    ];
    for (const [path, body] of writes) {
      const viewer = await post(`${base}${path}`, body, tokens.viewerA);
      expect(viewer.status, `viewer ${path}`).toBe(403);
      expect(viewer.body.error.code).toBe('forbidden');
      const other = await post(`${base}${path}`, body, tokens.developerB);
      expect(other.status, `tenant B ${path}`).toBe(404);
      expect(other.body.error.code).toBe('not_found');
    }
    for (const path of [`/v1/apps/${tenantA}/shop/source`, `/v1/apps/${tenantA}/shop/releases`]) {
      expect((await call(`${base}${path}`, { token: tokens.developerB })).status, path).toBe(404);
    }
    expect((await call(`${base}/v1/apps/${tenantA}/shop/source`, { token: tokens.viewerA })).status).toBe(403);
    expect(main()).toBe(before);
  }, 60_000);

  it('caps what it is given: a file, a body, a name that is a path', async () => {
    const files = await draftFiles('big');
    const bigFile = await post(`${base}/v1/validate`, { files: { ...files, 'app.py': `${files['app.py']}\n#${'x'.repeat(128 * 1024)}\n` } }, tokens.developerA);
    expect(bigFile.status).toBe(413);
    expect(bigFile.body.error.message).toMatch(/^app\.py is 128\.\d KiB; it may be at most 128 KiB$/);
    const bigSpec = await post(`${base}/v1/validate`, { files: { ...files, 'aerogrid.yaml': `${files['aerogrid.yaml']}\n#${'x'.repeat(32 * 1024)}\n` } }, tokens.developerA);
    expect(bigSpec.body.error.message).toMatch(/^aerogrid\.yaml is 3\d\.\d KiB; it may be at most 32 KiB$/);
    const bigBody = await post(`${base}/v1/try`, { files, records: 'x'.repeat(600 * 1024) }, tokens.developerA);
    expect(bigBody.status).toBe(413);
    expect(bigBody.body.error.message).toContain('over 512 KiB');
    for (const name of ['../app.py', '/etc/passwd', 'sub/app.py', 'notes.txt', 'helpers.py']) {
      const bad = await post(`${base}/v1/validate`, { files: { ...files, [name]: 'x' } }, tokens.developerA);
      expect(bad.status, name).toBe(400);
      expect(bad.body.error.code).toBe('bad_file_name');
    }
    const traversal = await call(`${base}/v1/apps/${encodeURIComponent('../..')}/shop/releases`, { token: tokens.developerA });
    expect(traversal.status).toBe(404);
    // With the caller's own tenant, a name that is a path is refused by the CLI's rules before anything.
    const badApp = await post(`${base}/v1/apps/${tenantA}/${encodeURIComponent('../../platform')}/deploy`, { files }, tokens.developerA);
    expect(badApp.status).toBe(422);
    expect(badApp.body.error.message).toContain("App '../../platform' is not a valid name");
    const badTenant = await fetch(`${base}/v1/apps/..%2F..%2Fetc/shop/source`);
    expect(badTenant.status).toBe(401);
    expect((await post(`${base}/v1/validate`, 'not json', tokens.developerA)).status).toBe(400);
    expect((await call(`${base}/v1/validate`, { token: tokens.developerA })).status).toBe(405);
  }, 60_000);
});

describe('the console API of aerogrid serve, with auth off (loopback)', () => {
  const tenant = uniqueName('capio').replace(/[^a-z0-9-]/g, '');
  const topic = uniqueName('capio-orders');
  let repo: string;
  let serve: CliProcess;
  let base: string;

  beforeAll(async () => {
    ({ repo, serve, base } = await startConsoleServe('capio', [tenant], topic));
  }, 120_000);

  afterAll(() => stopServe(serve));

  it('allows every endpoint without a token', async () => {
    const draft = await post(`${base}/v1/drafts`, { template: 'passthrough', name: 'open', tenant, topics: [topic] });
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
    const files = draft.body.files;
    expect((await post(`${base}/v1/validate`, { files })).body.valid).toBe(true);
    const tried = await post(`${base}/v1/try`, { files, records: '{"key": "a", "value": {"price": 1}}', keyed: true });
    expect(tried.status, JSON.stringify(tried.body)).toBe(200);
    expect(tried.body.grids.latest.rows).toEqual({ a: { price: 1, currency: null } });
    const deployed = await post(`${base}/v1/apps/${tenant}/open/deploy`, { files });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).not.toContain('AeroGrid-Requested-By');
    expect((await call(`${base}/v1/apps/${tenant}/open/releases`)).body.releases).toHaveLength(1);
    expect((await call(`${base}/v1/topics?tenant=${tenant}`)).body.topics).toEqual([topic]);
  }, 60_000);
});
