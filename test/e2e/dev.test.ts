// `aerogrid dev` as a user runs it: a connector folder with only app.py, a topic that does not
// exist yet, live reload of app.py, and Ctrl-C stopping every process it started.
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { runConnector } from '../../src/runner/connector.js';
import { startCli, viewerUrl, type CliProcess } from '../helpers/cli.js';
import { appSource as connectorApp, appYaml } from '../helpers/connector-files.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const appSource = (topic: string, factor: number) => connectorApp('devapp', topic, factor);

describe('aerogrid dev', () => {
  const broker = testBroker();
  const topic = uniqueName('dev-ticks');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-dev' });
  let dir: string;
  let cli: CliProcess;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerogrid-dev-'));
    await writeFile(join(dir, 'app.py'), appSource(topic, 1));
    cli = startCli(['dev', dir, '--port', '0', '--broker', broker, '--tenant', uniqueName('t')]);
    url = await waitFor('the viewer URL', () => viewerUrl(cli.output()), 60_000);
  });

  afterAll(async () => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await kafka.close();
  });

  it('shows a missing topic as a waiting status, not a crash', async () => {
    const ready = await waitFor('the waiting status', async () => {
      const r = await getJson(`${url}readyz`);
      return r.body?.state === 'waiting' && String(r.body.message).includes(topic) ? r : null;
    });
    expect(ready.status).toBe(503);
    expect(ready.body.message).toMatch(/waiting for topic/);
    expect(cli.child.exitCode).toBeNull();
  });

  it('starts streaming once the topic exists', async () => {
    await kafka.ensureTopic(topic, { partitions: 2 });
    await kafka.produce(topic, [
      { key: 'a', value: JSON.stringify({ name: 'x', value: 2 }) },
      { key: 'b', value: JSON.stringify({ name: 'y', value: 3 }) },
    ]);
    await waitFor('the grid', async () => {
      const { body } = await getJson(`${url}v1/grids/totals`);
      return body?.rows?.x?.total === 2 && body.rows.y?.total === 3;
    }, 60_000);
    expect((await getJson(`${url}readyz`)).status).toBe(200);
  });

  it('restarts the runtime when app.py changes, keeping the grid', async () => {
    await writeFile(join(dir, 'app.py'), appSource(topic, 100));
    await waitFor('the restart message', () => /app\.py changed: restarting the runtime/.test(cli.output()));
    await waitFor('the runtime to be back', async () => (await getJson(`${url}readyz`)).status === 200);
    await kafka.produce(topic, [{ key: 'c', value: JSON.stringify({ name: 'x', value: 1 }) }]);
    // 2 from before the change (kept), plus 1 × 100 by the new code.
    await waitFor('the new code to count', async () => (await getJson(`${url}v1/grids/totals`)).body?.rows?.x?.total === 102);
    expect((await readFile(join(dir, 'app.py'), 'utf8'))).toContain('* 100');
  });

  it('stops everything on Ctrl-C', async () => {
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    await expect(fetch(`${url}healthz`)).rejects.toThrow();
    // No runtime left behind: no process still runs this folder's app.py.
    expect(noRuntimeIn(dir)).toBe(true);
  });
});

describe('aerogrid dev in a folder with an aerogrid.yaml', () => {
  const broker = testBroker();
  const topic = uniqueName('dev-spec-ticks');
  const tenant = uniqueName('sales');
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerogrid-dev-spec-'));
    // No app.py: the spec names main.py.
    await writeFile(join(dir, 'main.py'), appSource(topic, 1));
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name: 'devapp', tenant, topics: [topic], entrypoint: 'main.py', deadLetterPolicy: 'stop' }));
  });

  /** Runs dev with `args`, returns its /v1/status once the runtime has said hello, and stops it. */
  async function statusOf(args: string[]): Promise<any> {
    const cli = startCli(['dev', dir, '--port', '0', '--broker', broker, '--no-watch', ...args]);
    try {
      const url = await waitFor('the viewer URL', () => viewerUrl(cli.output()), 60_000);
      const { body } = await waitFor('the runtime\'s hello', async () => {
        const r = await getJson(`${url}v1/status`);
        return r.body?.app === 'devapp' ? r : null;
      }, 60_000);
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      return body;
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  }

  it('runs the spec\'s entrypoint for the spec\'s tenant, with its dead-letter policy and topic', async () => {
    const status = await statusOf([]);
    expect(status.tenant).toBe(tenant);
    // A dev run keeps dead letters of its own: the deployed app's topic is never written.
    expect(status.dead_letter).toEqual({ policy: 'stop', topic: `aerogrid.${tenant}.devapp.dev.dlq` });
  });

  it('lets --tenant and --dead-letter given on the command line win', async () => {
    const other = uniqueName('ops');
    const status = await statusOf(['--tenant', other, '--dead-letter', 'dlq']);
    expect(status.tenant).toBe(other);
    expect(status.dead_letter).toEqual({ policy: 'dlq', topic: `aerogrid.${other}.devapp.dev.dlq` });
  });

  it('stops with the spec\'s problems (exit 3) when aerogrid.yaml is invalid, starting nothing', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'aerogrid-dev-broken-'));
    await writeFile(join(broken, 'app.py'), appSource(topic, 1));
    await writeFile(join(broken, 'aerogrid.yaml'), `apiVersion: aerogrid.dev/v1
kind: App
metadata:
  name: DevApp
  tenant: ${tenant}
spec:
  topics: [${topic}]
  grids: [{name: totals}]
  deadLetter: {policy: skip}
`);
    const cli = startCli(['dev', broken, '--port', '0', '--broker', broker]);
    expect(await cli.exited).toBe(3);
    expect(cli.output()).toMatch(/aerogrid\.yaml:4:9: metadata\.name "DevApp" has uppercase letters/);
    expect(cli.output()).toMatch(/aerogrid\.yaml:9:24: spec\.deadLetter\.policy must be dlq or stop, not "skip"/);
    expect(viewerUrl(cli.output())).toBeNull();
  });

  it('says in --help where the tenant comes from', async () => {
    const cli = startCli(['dev', '--help']);
    expect(await cli.exited).toBe(0);
    expect(cli.output().replace(/\s+/g, ' ')).toMatch(/--tenant <tenant> .*\(default: metadata\.tenant of aerogrid\.yaml, else "default"\)/);
  });
});

/** A throwaway connector folder run by `aerogrid dev`, once its runtime has connected. */
async function devWithRuntime(prefix: string, options: { ownGroup?: boolean } = {}): Promise<{ dir: string; url: string; cli: CliProcess }> {
  const dir = await mkdtemp(join(tmpdir(), `aerogrid-dev-${prefix}-`));
  await writeFile(join(dir, 'app.py'), appSource(uniqueName(`${prefix}-ticks`), 1));
  const cli = startCli(['dev', dir, '--port', '0', '--broker', testBroker(), '--tenant', uniqueName('t')], { ...options });
  const url = await waitFor('the viewer URL', () => viewerUrl(cli.output()), 60_000);
  await waitFor('the runtime to connect', () => /runtime connected/.test(cli.output()));
  return { dir, url, cli };
}

/** True when no process runs the folder's app.py any more. */
function noRuntimeIn(dir: string): boolean {
  return spawnSync('pgrep', ['-f', join(dir, 'app.py')], { encoding: 'utf8' }).stdout.trim() === '';
}

describe('aerogrid dev killed with SIGKILL', () => {
  it('leaves no sidecar or runtime behind', async () => {
    const { dir, url, cli } = await devWithRuntime('kill');
    cli.child.kill('SIGKILL');
    await cli.exited;
    // Nothing can stop them for it now: they notice their parent is gone and stop themselves.
    await waitFor('the sidecar to stop', async () => fetch(`${url}healthz`).then(() => false, () => true), 20_000);
    await waitFor('the runtime to stop', () => noRuntimeIn(dir), 20_000);
  });
});

describe('aerogrid dev and Ctrl-C at a terminal', () => {
  it('stops cleanly when SIGINT reaches its whole process group, without restarting the runtime', async () => {
    const { dir, cli } = await devWithRuntime('tty', { ownGroup: true });
    process.kill(-cli.child.pid!, 'SIGINT'); // what a terminal does on Ctrl-C
    expect(await cli.exited).toBe(0);
    expect(cli.output()).not.toMatch(/restarting in/);
    expect(cli.output()).toMatch(/shut down on request/);
    await waitFor('no runtime left', () => noRuntimeIn(dir), 10_000);
  });
});

describe('aerogrid dev in the folder of a deployed app that is live', () => {
  it('runs a copy of its own: the deployed app stays the writer of its state and its grid stays exact', async () => {
    const broker = testBroker();
    const topic = uniqueName('dev-beside');
    const tenant = uniqueName('live');
    const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-dev-beside', logger: { warn: () => {}, error: () => {} } });
    const dir = await mkdtemp(join(tmpdir(), 'aerogrid-dev-beside-'));
    await writeFile(join(dir, 'app.py'), appSource(topic, 1));
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name: 'devapp', tenant, topics: [topic] }));
    await kafka.ensureTopic(topic, { partitions: 3 });
    // The deployed app, as the local runner runs it (no instance of its own).
    const deployed = await runConnector({ dir, broker, port: 0, watch: false, tenant, app: 'devapp', log: () => {} });
    let cli: CliProcess | undefined;
    try {
      await waitFor('the deployed app running', async () => (await getJson(`${deployed.url}v1/status`)).body?.state === 'running', 60_000);
      const ticks = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `t${from + i}`, value: JSON.stringify({ name: `n${(from + i) % 7}`, value: 1 + ((from + i) % 5) }) }));
      await kafka.produce(topic, ticks(0, 3000));
      cli = startCli(['dev', dir, '--port', '0', '--broker', broker, '--no-watch']);
      const devUrl = await waitFor('the dev viewer URL', () => viewerUrl(cli!.output()), 60_000);
      await waitFor('the start-up lines', () => /Ctrl-C to stop/.test(cli!.output()), 60_000);
      expect(cli.output()).toMatch(new RegExp(`State: +its own: group 'aerogrid\\.${tenant}\\.devapp\\.dev', changelog 'aerogrid\\.${tenant}\\.devapp\\.dev\\.changelog'`));
      expect(cli.output()).toMatch(/'devapp' is also deployed and live here \(1 instance in group/);
      await kafka.produce(topic, ticks(3000, 3000));
      const expected: Record<string, { total: number }> = {};
      for (const t of ticks(0, 6000)) {
        const v = JSON.parse(t.value) as { name: string; value: number };
        expected[v.name] = { total: (expected[v.name]?.total ?? 0) + v.value };
      }
      for (const url of [deployed.url, devUrl]) {
        await waitFor(`the exact totals at ${url}`, async () => JSON.stringify((await getJson(`${url}v1/grids/totals`)).body?.rows) === JSON.stringify(Object.fromEntries(Object.entries(expected).sort())), 60_000, 200);
      }
      const status = (await getJson(`${deployed.url}v1/status`)).body;
      expect(status.role).toBe('active');
      expect(status.commit.recoveries).toBe(0);
      const committed = await kafka.committedOffsets(`aerogrid.${tenant}.devapp`, topic);
      expect(committed.reduce((n, p) => n + Number(p.offset), 0)).toBe(6000);
    } finally {
      if (cli && cli.child.exitCode === null) cli.child.kill('SIGINT');
      if (cli) await cli.exited;
      await deployed.stop();
      await kafka.close();
    }
  }, 180_000);
});
