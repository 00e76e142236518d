// `aerogrid serve --run local` against hostile apps (issue 15 items 3, 4, 5, 10, 11): real serve,
// real bubblewrap and cgroups, real Kafka, a real bare GitOps repo. The apps print what they could
// reach; the test reads their log files, the runner's state and this machine's processes.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { cloneRepo, commitChange, ensureLocalRepo, pushWithRetry } from '../../src/gitops/repo.js';
import type { CliProcess } from '../helpers/cli.js';
import { runCli } from '../helpers/cli.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { appSource, appYaml, cliEnv, startServe, stopServe, tempDir, writeConnector } from '../helpers/gitops.js';

const SECRET = 'ghp_sandboxTestSecret0123456789';

/** An app that prints, once loaded, what it could see and do; it also leaves a child running in a session of its own. */
function probeSource(name: string, topic: string, facts: { kafka: string; serveDir: string; otherFile: string; token: string }): string {
  return appSource(name, topic).replace("print('", `import json, os, socket, subprocess, sys

def attempt(fn):
    try:
        return fn()
    except Exception as e:
        return 'refused: ' + type(e).__name__

def connect():
    host, port = '${facts.kafka}'.rsplit(':', 1)
    socket.create_connection((host, int(port)), timeout=2).close()
    return 'connected'

def write_code():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'planted.py'), 'w') as f:
        f.write('x = 1')
    return 'written'

def write_work():
    with open('scratch.txt', 'w') as f:
        f.write('x')
    return 'written'

facts = {
    'env': sorted(os.environ),
    'broker_uri': BROKER_URI,
    'uid': os.getuid(),
    'processes': len([p for p in os.listdir('/proc') if p.isdigit()]),
    'serve_dir': attempt(lambda: sorted(os.listdir('${facts.serveDir}'))),
    'other_app': attempt(lambda: open('${facts.otherFile}').read()[:20]),
    'kafka': attempt(connect),
    'write_code': attempt(write_code),
    'write_work': attempt(write_work),
}
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '${facts.token}'], start_new_session=True)
print('PROBE ' + json.dumps(facts), flush=True)
print('`);
}

/** Pids on this machine whose command line holds `token`. */
function processesWith(token: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token); } catch { return false; }
  }).map(Number);
}

/** The memory limit of the cgroup a process is in (cgroup v1 or v2). */
function memoryLimitOf(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:[^:]*\bmemory\b[^:]*:/.test(l));
  if (v1) return Number(readFileSync(join('/sys/fs/cgroup/memory', v1.split(':')[2]!, 'memory.limit_in_bytes'), 'utf8'));
  const v2 = lines.find((l) => l.startsWith('0::'))!;
  return Number(readFileSync(join('/sys/fs/cgroup', v2.slice(3), 'memory.max'), 'utf8'));
}

/** The CPUs the cgroup of a process may use (quota over period; cgroup v1 or v2). */
function cpuQuotaOf(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:[^:]*\bcpu\b[^:]*:/.test(l));
  if (v1) {
    const dir = join('/sys/fs/cgroup/cpu', v1.split(':')[2]!);
    return Number(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8')) / Number(readFileSync(join(dir, 'cpu.cfs_period_us'), 'utf8'));
  }
  const [quota, period] = readFileSync(join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3), 'cpu.max'), 'utf8').trim().split(' ');
  return Number(quota) / Number(period);
}

describe('serve --run local sandboxes every app', () => {
  const broker = testBroker();
  const tenant = uniqueName('box').replace(/[^a-z0-9-]/g, '');
  const topic = uniqueName('box-ticks');
  const otherTopic = uniqueName('gorders');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-sandbox' });
  let home: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  let serve: CliProcess;

  const state = () => JSON.parse(readFileSync(join(home, 'serve', 'state.json'), 'utf8')) as { apps: Record<string, any> };
  const logOf = (app: string) => readFile(join(home, 'serve', 'logs', tenant, `${app}.log`), 'utf8').catch(() => '');
  const running = (app: string) => waitFor(`${app} to run`, () => state().apps[`${tenant}/${app}`]?.phase === 'running' && state().apps[`${tenant}/${app}`], 60_000);
  const deploy = async (name: string, source: string, yaml = appYaml({ name, tenant, topics: [topic] })) => {
    const dir = await writeConnector(join(await tempDir('box-conn'), name), { name, tenant, topics: [topic] });
    await writeFile(join(dir, 'aerogrid.yaml'), yaml);
    await writeFile(join(dir, 'app.py'), source);
    const run = await runCli(['deploy', dir], { env });
    expect(run.code, run.stderr).toBe(0);
  };
  /** A commit straight to the GitOps repo, as anyone who may push there can make. */
  const pushDirect = async (paths: Record<string, string>, subject: string) => {
    const work = await cloneRepo(repo);
    try {
      for (const [path, text] of Object.entries(paths)) {
        await (await import('node:fs/promises')).mkdir(join(work.dir, path, '..'), { recursive: true });
        await writeFile(join(work.dir, path), text);
      }
      await commitChange(work, { paths: Object.keys(paths), subject, trailers: {} });
      await pushWithRetry(work, { what: subject, conflictMessage: () => 'conflict' });
    } finally {
      await work.dispose();
    }
  };

  beforeAll(async () => {
    home = await tempDir('box-home');
    repo = join(await tempDir('box-remote'), 'gitops.git');
    // serve's environment holds secrets an app must never see.
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '', GITHUB_TOKEN: SECRET, KAFKA_SASL_PASSWORD: SECRET };
    await ensureLocalRepo(repo);
    await kafka.ensureTopic(topic, { partitions: 1 });
    await kafka.ensureTopic(otherTopic, { partitions: 1 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
    serve = await startServe(['--broker', broker, '--poll', '200'], env);
  }, 180_000);

  afterAll(async () => {
    await stopServe(serve);
    await kafka.close();
  }, 180_000);

  it('gives the runtime only the protocol\'s environment, no broker address, no network, no other process, file or app, and read-only code', async () => {
    await deploy('plain', appSource('plain', topic));
    await running('plain');
    const token = uniqueName('probe-child');
    const otherFile = join(home, 'serve', 'checkout', 'tenants', tenant, 'apps', 'plain', 'code', 'app.py');
    await deploy('probe', probeSource('probe', topic, { kafka: broker, serveDir: join(home, 'serve'), otherFile, token }));
    await running('probe');
    const line = await waitFor('the probe\'s facts', async () => /PROBE (.*)/.exec(await logOf('probe'))?.[1], 30_000);
    const facts = JSON.parse(line);
    if (process.env.AEROGRID_TEST_VERBOSE) console.log(facts);
    expect(facts.env).toEqual(['AEROGRID_APP', 'AEROGRID_BROKER', 'AEROGRID_RUNTIME_ADDR', 'AEROGRID_TENANT', 'HOME', 'LANG', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE', 'PYTHONPATH', 'PYTHONUNBUFFERED', 'TMPDIR']);
    expect(facts.broker_uri).toBe('sidecar');
    expect(facts.uid).not.toBe(0);
    // Its own runtime, the child it started, and bubblewrap's init: nothing of serve, the sidecars or other apps.
    expect(facts.processes).toBeLessThanOrEqual(3);
    expect(facts.serve_dir).not.toContain('checkout');
    expect(facts.serve_dir).not.toContain('logs');
    expect(facts.serve_dir).not.toContain('state.json');
    expect(facts.other_app).toMatch(/^refused: /);
    expect(facts.kafka).toMatch(/^refused: /);
    expect(facts.write_code).toMatch(/^refused: /);
    expect(facts.write_work).toBe('written');
    expect(await logOf('probe')).not.toContain(SECRET);
    // spec.resources (the defaults, 250m and 256Mi) as the cgroup's limits.
    const pid = state().apps[`${tenant}/probe`].pids.runtime;
    expect(memoryLimitOf(pid)).toBe(256 * 1024 * 1024);
    expect(cpuQuotaOf(pid)).toBe(0.25);

    // The child it started in a session of its own ends with the app.
    await waitFor('the probe\'s child to run', () => processesWith(token).length > 0, 10_000);
    expect((await runCli(['delete', 'probe', '--confirm', 'probe'], { env })).code).toBe(0);
    await waitFor('the probe to be deleted', () => !state().apps[`${tenant}/probe`], 30_000);
    await waitFor('the probe\'s child to end', () => processesWith(token).length === 0, 10_000);
  }, 180_000);

  it('refuses a topic computed at run time that the tenant may not read: the sidecar holds the allowance', async () => {
    await kafka.produce(otherTopic, [{ key: 'k', value: JSON.stringify({ name: 'x', value: 1 }) }]);
    await deploy('sneaky', appSource('sneaky', topic));
    // Deploy refuses a computed name, so the change is pushed straight to the GitOps repo.
    const [prefix, rest] = [otherTopic.slice(0, 4), otherTopic.slice(4)];
    const folder = `tenants/${tenant}/apps/sneaky`;
    await pushDirect({ [`${folder}/code/app.py`]: appSource('sneaky', topic).replace(`app.topic('${topic}'`, `app.topic(''.join(['${prefix}', '${rest}'])`) }, 'computed topic');
    await waitFor('the sidecar to refuse the topic', async () => (await logOf('sneaky')).includes(`may not read '${otherTopic}'`), 60_000);
    const url = state().apps[`${tenant}/sneaky`]?.url;
    if (url) expect((await getJson(`${url}v1/grids/totals`)).body?.rows?.x).toBeUndefined();
  }, 180_000);

  it('runs no folder of a tenant that was never onboarded, and says so in status', async () => {
    const rogue = uniqueName('rogue').replace(/[^a-z0-9-]/g, '');
    const folder = `tenants/${rogue}/apps/intruder`;
    await pushDirect({
      [`${folder}/aerogrid.yaml`]: appYaml({ name: 'intruder', tenant: rogue, topics: [otherTopic] }),
      [`${folder}/code/app.py`]: appSource('intruder', otherTopic),
      [`${folder}/kustomization.yaml`]: 'resources: []\n',
    }, 'a folder nobody onboarded');
    const app = await waitFor('the folder to be refused', () => state().apps[`${rogue}/intruder`], 30_000);
    expect(app.phase).toBe('failed');
    expect(app.message).toContain(`${folder} is refused: tenant '${rogue}' is not onboarded`);
    expect(app.pids).toBeUndefined();
    expect(existsSync(join(home, 'serve', 'logs', rogue, 'intruder.log'))).toBe(false);
    const status = await runCli(['status', '--json'], { env });
    expect(status.stdout).toContain(`${folder} is refused: tenant '${rogue}' is not onboarded`);
  }, 180_000);

  it('refuses a folder pushed straight to the repo that reads beyond the tenant\'s topics or asks beyond its LimitRange', async () => {
    const folder = (app: string) => `tenants/${tenant}/apps/${app}`;
    await pushDirect({
      [`${folder('wide')}/aerogrid.yaml`]: appYaml({ name: 'wide', tenant, topics: [otherTopic] }),
      [`${folder('wide')}/code/app.py`]: appSource('wide', otherTopic),
      [`${folder('wide')}/kustomization.yaml`]: 'resources: []\n',
      [`${folder('huge')}/aerogrid.yaml`]: appYaml({ name: 'huge', tenant, topics: [topic] }).replace('  grids:', '  resources: {cpu: "1000", memory: 100Ti}\n  grids:'),
      [`${folder('huge')}/code/app.py`]: appSource('huge', topic),
      [`${folder('huge')}/kustomization.yaml`]: 'resources: []\n',
    }, 'folders beyond the tenant');
    const wide = await waitFor('the wide folder to be refused', () => state().apps[`${tenant}/wide`], 30_000);
    expect(wide).toMatchObject({ phase: 'failed', message: `${folder('wide')} is refused: tenant '${tenant}' may not read '${otherTopic}' (it may read: ${topic})` });
    const huge = await waitFor('the huge folder to be refused', () => state().apps[`${tenant}/huge`], 30_000);
    expect(huge).toMatchObject({ phase: 'failed', message: `${folder('huge')} is refused: cpu 1000 is more than the 2 allowed; memory 100Ti is more than the 2Gi allowed (the tenant's LimitRange allows cpu 2, memory 2Gi)` });
    expect(wide.pids).toBeUndefined();
    expect(huge.pids).toBeUndefined();
  }, 180_000);

  it('runs the runtime in a cgroup with spec.resources as limits: an app that allocates past its memory is killed', async () => {
    const yaml = appYaml({ name: 'hungry', tenant, topics: [topic] }).replace('  grids:', '  resources: {cpu: 500m, memory: 64Mi}\n  grids:');
    await deploy('hungry', appSource('hungry', topic).replace("print('", "hog = bytearray(256 * 1024 * 1024)\nprint('"), yaml);
    await waitFor('the runtime to be killed', async () => /the runtime exited \((SIGKILL|code 137)\)/.test(await logOf('hungry')), 60_000);
    expect(await logOf('hungry')).not.toContain('hungry loaded');
  }, 180_000);

  it('cuts a 1 MB output line at 16 KiB with a marker and rotates the app\'s log at 10 MiB', async () => {
    const noisy = appSource('noisy', topic).replace("print('", `import sys
sys.stdout.write('A' * (1024 * 1024) + '\\n')
print('after the long line', flush=True)
for i in range(12 * 1024):
    sys.stdout.write('%05d %s\\n' % (i, 'b' * 1000))
sys.stdout.flush()
print('`);
    await deploy('noisy', noisy);
    await waitFor('the noisy app to finish printing', async () => (await logOf('noisy')).includes('noisy loaded'), 60_000);
    const file = join(home, 'serve', 'logs', tenant, 'noisy.log');
    const all = (existsSync(`${file}.1`) ? await readFile(`${file}.1`, 'utf8') : '') + await logOf('noisy');
    const long = all.split('\n').find((l) => l.includes('AAAA'));
    expect(long, all.slice(0, 2000)).toBeDefined();
    expect(long).toMatch(/ … \[line cut at 16 KiB: \d+ more bytes dropped\]$/);
    expect(long.length).toBeLessThan(17 * 1024);
    expect(all).toContain('after the long line');
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(statSync(file).size).toBeLessThanOrEqual(10 * 1024 * 1024);
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(10 * 1024 * 1024 + 64 * 1024);
  }, 180_000);
});
