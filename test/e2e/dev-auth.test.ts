/**
 * Auth end to end with real processes: `aerogrid dev --oidc-issuer ... --oidc-audience ...` on a
 * connector whose aerogrid.yaml narrows its viewers to a group, a real local issuer, real Kafka,
 * the real Python runtime; and the `aerogrid-sidecar` binary's loopback rule.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { startCli, viewerUrl, type CliProcess } from '../helpers/cli.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { WsClient, wsUrl } from '../helpers/sidecar.js';

const SIDECAR_MAIN = fileURLToPath(new URL('../../sidecar/dist/main.js', import.meta.url));

describe('aerogrid dev with auth', () => {
  const broker = testBroker();
  const tenant = uniqueName('acme');
  const topic = `aerogrid.${tenant}.prices`;
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-auth-dev' });
  let issuer: TestIssuer;
  let cli: CliProcess;
  let url: string;

  beforeAll(async () => {
    issuer = await startTestIssuer({ tenantClaim: 'https://aerogrid.dev/tenant' });
    const dir = await mkdtemp(join(tmpdir(), 'aerogrid-auth-dev-'));
    await writeFile(join(dir, 'aerogrid.yaml'), `apiVersion: aerogrid.dev/v1
kind: App
metadata:
  name: pricesapp
  tenant: ${tenant}
spec:
  entrypoint: app.py
  topics: [${topic}]
  grids:
    - name: last
      columns: [price]
  access:
    groups: [traders]
`);
    await writeFile(join(dir, 'app.py'), `import aerogrid

app = aerogrid.App('pricesapp', broker=BROKER_URI)
prices = app.topic('${topic}', key_type=str, value_type=dict)
last = app.Grid('last', columns=['price'], default=lambda: {'price': 0})

@app.stream(prices)
async def keep(stream):
    async for key, value in stream.items():
        last[key] = {'price': value['price']}
`);
    await kafka.ensureTopic(topic, { partitions: 1 });
    await kafka.produce(topic, [{ key: 'EURUSD', value: JSON.stringify({ price: 1.1 }) }]);
    // The audience by flag, the issuer and tenant claim from the environment.
    cli = startCli(['dev', dir, '--port', '0', '--broker', broker, '--no-watch', '--oidc-audience', issuer.audience], { env: {
      AEROGRID_OIDC_ISSUER: issuer.issuer,
      AEROGRID_TENANT_CLAIM: 'https://aerogrid.dev/tenant',
    } });
    url = await waitFor('the viewer URL', () => viewerUrl(cli.output()), 60_000);
  });

  afterAll(async () => {
    if (cli && cli.child.exitCode === null) {
      cli.child.kill('SIGINT');
      await Promise.race([cli.exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
    await kafka.deleteTopic(topic).catch(() => {});
    await kafka.close();
    await issuer?.close();
  });

  const read = async (token?: string) => {
    const res = await fetch(`${url}v1/grids/last`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as { rows?: Record<string, unknown>; error?: { code: string } } };
  };

  it('says auth is on, and serves a grid to a trader of the tenant', async () => {
    expect(cli.output()).toContain(`Auth:   OIDC ${issuer.issuer}`);
    const token = await issuer.token({ tenant, groups: ['traders'] });
    const ok = await waitFor('the grid row', async () => {
      const r = await read(token);
      return r.status === 200 && r.body.rows?.EURUSD ? r : null;
    }, 60_000);
    expect(ok.body.rows).toEqual({ EURUSD: { price: 1.1 } });

    const ws = await WsClient.open(wsUrl(url));
    try {
      ws.send({ op: 'auth', token });
      expect(await ws.next('authenticated')).toMatchObject({ subject: 'alice', tenant });
      expect((await ws.next('hello')).app).toBe('pricesapp');
    } finally {
      ws.close();
    }
  });

  it('refuses no token, a user outside spec.access.groups, and another tenant', async () => {
    expect((await read()).status).toBe(401);
    const outsider = await read(await issuer.token({ tenant, groups: ['sales'] }));
    expect(outsider.status).toBe(403);
    const other = await read(await issuer.token({ tenant: 'globex', groups: ['traders'] }));
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).not.toContain('pricesapp');
  });
});

describe('loopback only without auth', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [SIDECAR_MAIN, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });

  it('refuses to bind the sidecar to a non-loopback address without auth (exit 2, says how to fix)', () => {
    const r = run(['--broker', '127.0.0.1:9', '--host', '0.0.0.0', '--port', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('binding to 0.0.0.0 without auth is refused; set --oidc-issuer/--oidc-audience or bind 127.0.0.1');
    expect(r.stdout).toBe('');
  });

  it('refuses half an auth configuration, naming what is missing (exit 2)', () => {
    const r = run(['--broker', '127.0.0.1:9', '--port', '0'], { AEROGRID_OIDC_ISSUER: 'https://auth.example/' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--oidc-issuer is set without --oidc-audience/);
    const cli = spawnSync(process.execPath, [fileURLToPath(new URL('../../bin/aerogrid', import.meta.url)), 'dev', '--oidc-issuer', 'http://auth.example/', '--oidc-audience', 'api'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/must be an https:\/\/ URL/);
  });

  it('says at start that auth is off and it listens on loopback only', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [SIDECAR_MAIN, '--broker', testBroker(), '--port', '0'], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await waitFor('the auth notice', () => stderr.includes('auth: off — listening on loopback only'), 20_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
