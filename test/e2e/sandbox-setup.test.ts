// How `serve --run local` sets its sandbox up (issue 15 item 4): a clear refusal where the machine
// cannot sandbox, the explicit opt-out and what it gives up, and the clean-up of a killed serve's
// cgroups. Real serve, real cgroups, real Kafka and git.
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { runCli, startCli } from '../helpers/cli.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { appSource, appYaml, cliEnv, startServe, stopServe, tempDir, writeConnector } from '../helpers/gitops.js';

const SECRET = 'ghp_sandboxSetupSecret0123456789';

async function setUp(prefix: string) {
  const home = await tempDir(`${prefix}-home`);
  const repo = join(await tempDir(`${prefix}-remote`), 'gitops.git');
  await ensureLocalRepo(repo);
  return { home, repo, env: { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '', GITHUB_TOKEN: SECRET } as NodeJS.ProcessEnv };
}

describe('serve --run local: setting the sandbox up', () => {
  const broker = testBroker();
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-sandbox-setup' });
  afterAll(() => kafka.close());

  it('refuses to start where bubblewrap cannot create namespaces (a bwrap that fails stands in for such a machine), naming the fix and the opt-out', async () => {
    const { env } = await setUp('nobox');
    const bin = await tempDir('nobox-bin');
    await writeFile(join(bin, 'bwrap'), '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n');
    await chmod(join(bin, 'bwrap'), 0o755);
    const serve = startCli(['serve', '--run', 'local', '--port', '0', '--broker', broker], { env: { ...env, PATH: `${bin}:${process.env.PATH}` } });
    const code = await Promise.race([serve.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    expect(code).toBe(5);
    expect(serve.output()).toMatch(/cannot sandbox the apps on this machine: bwrap cannot create namespaces here \(bwrap: No permissions to create new namespace\)/);
    expect(serve.output()).toMatch(/fix: .*AEROGRID_SANDBOX=off .*no memory or CPU limit/);
  }, 180_000);

  it('AEROGRID_SANDBOX=off says what it gives up; the app still gets only the protocol\'s environment', async () => {
    const { home, env } = await setUp('offbox');
    const tenant = uniqueName('off').replace(/[^a-z0-9-]/g, '');
    const topic = uniqueName('off-ticks');
    await kafka.ensureTopic(topic, { partitions: 1 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
    const dir = await writeConnector(join(await tempDir('off-conn'), 'envapp'), { name: 'envapp', tenant, topics: [topic] });
    await writeFile(join(dir, 'app.py'), appSource('envapp', topic).replace("print('", "import json, os\nprint('ENV ' + json.dumps(sorted(os.environ)) + ' ' + BROKER_URI, flush=True)\nprint('"));
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name: 'envapp', tenant, topics: [topic] }));
    const offEnv = { ...env, AEROGRID_SANDBOX: 'off' };
    const serve = await startServe(['--broker', broker, '--poll', '200'], offEnv);
    try {
      expect(serve.output()).toMatch(/AEROGRID_SANDBOX=off: the apps run without a sandbox \(apps then run as this user, see every file and process it can, reach the network \(Kafka too\) and have no memory or CPU limit\)/);
      expect((await runCli(['deploy', dir], { env: offEnv })).code).toBe(0);
      const log = join(home, 'serve', 'logs', tenant, 'envapp.log');
      const line = await waitFor('the app\'s environment', async () => /ENV (\[.*\]) (\S+)/.exec(await readFile(log, 'utf8').catch(() => '')), 60_000);
      expect(JSON.parse(line[1]!)).toEqual(['AEROGRID_APP', 'AEROGRID_BROKER', 'AEROGRID_RUNTIME_ADDR', 'AEROGRID_TENANT', 'HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONPATH', 'PYTHONUNBUFFERED', 'TMPDIR']);
      expect(line[2]).toBe('sidecar');
    } finally {
      await stopServe(serve);
    }
  }, 180_000);

  it('removes, when it starts, the cgroups of a serve that was killed before it could', async () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    const v1 = own.find((l) => /^\d+:[^:]*\bmemory\b[^:]*:/.test(l));
    const parent = v1 ? join('/sys/fs/cgroup/memory', v1.split(':')[2]!) : join('/sys/fs/cgroup', own.find((l) => l.startsWith('0::'))!.slice(3));
    // A pid above the kernel's maximum can never be alive.
    const stale = join(parent, 'aerogrid-4194305-gone-app');
    mkdirSync(stale);
    expect(existsSync(stale)).toBe(true);
    try {
      const { env } = await setUp('stale');
      const serve = await startServe(['--broker', broker, '--poll', '200'], env);
      await stopServe(serve);
      expect(existsSync(stale)).toBe(false);
    } finally {
      if (existsSync(stale)) rmdirSync(stale);
    }
  }, 180_000);
});
