// The CLI as a user gets it: `npm pack` of this checkout (once), installed with
// `npm install --global --prefix <temp>` and run from a temporary folder with a clean PATH and HOME,
// so nothing can reach back into the checkout. Then a connector's whole life with the installed
// CLI, and each pipeline `aerogrid init` writes, run step by step with that tarball.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { packageRoot } from '../../src/paths.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const root = mkdtempSync(join(tmpdir(), 'aerogrid-install-tests-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const version = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: packageRoot, encoding: 'utf8' })).version as string;

// What the machine needs to reach the registry (TLS trust, proxies): settings of the machine, not of the checkout.
const MACHINE_SETTINGS = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'LANG'];
// The npm cache already holds this project's packages: installs revalidate against it, not refetch.
const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
// The folders of the Python that has pytest (its real folder, not a version manager's shim), node, git, kubectl.
const toolDirs = [...new Set([
  dirname(execFileSync('python3', ['-c', 'import sys, pytest; print(sys.executable)'], { encoding: 'utf8' }).trim()),
  dirname(process.execPath),
  dirname(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()),
  dirname(execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()),
  '/usr/bin', '/bin',
])];

/** A clean environment: HOME and the npm prefix in temp folders, PATH with the tools only. */
function userEnv(home: string, prefix: string, pathFirst: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    PATH: [...pathFirst, join(prefix, 'bin'), ...toolDirs].join(':'),
    CI: '1',
    NO_COLOR: '1',
    npm_config_prefix: prefix,
    npm_config_cache: npmCache,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  for (const key of MACHINE_SETTINGS) if (process.env[key]) env[key] = process.env[key];
  return env;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    return { code: 0, stdout, stderr: '' };
  } catch (error: any) {
    return { code: error.status ?? null, stdout: String(error.stdout ?? ''), stderr: `${error.stderr ?? ''}${error.signal ? `\n(killed: ${error.signal})` : ''}` };
  }
}

let tarball: string;

beforeAll(() => {
  // `npm pack` runs prepack, which builds what is stale; once for the whole file.
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', root], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  tarball = join(root, JSON.parse(out)[0].filename);
}, 300_000);

describe('the packed CLI installed into a clean prefix', () => {
  const broker = testBroker();
  const tenant = uniqueName('pkg').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('pkg-orders');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-install' });
  let serve: ChildProcess | undefined;

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.kill('SIGINT');
      await new Promise((r) => { serve!.once('exit', r); setTimeout(r, 15_000); });
      if (serve.exitCode === null) serve.kill('SIGKILL');
    }
    await kafka.close();
  });

  it('runs init → validate → test → deploy to the local GitOps repo → serve --run local → grid live', async () => {
    const home = join(root, 'user-home');
    const prefix = join(root, 'user-prefix');
    const work = join(root, 'user-work');
    await Promise.all([home, work].map((d) => mkdir(d, { recursive: true })));
    const env = userEnv(home, prefix);

    const install = run('npm', ['install', '--global', tarball], work, env, 300_000);
    expect(install.code, install.stderr).toBe(0);
    const cli = join(prefix, 'bin', 'aerogrid');
    // The installed CLI is the package's own copy, not a link back to the checkout.
    expect(realpathSync(cli).startsWith(realpathSync(prefix))).toBe(true);
    const aerogrid = (args: string[], cwd = work) => run(cli, args, cwd, env);

    expect(aerogrid(['--version']).stdout.trim()).toBe(version);
    const init = aerogrid(['init', 'pkgapp', '--template', 'orders-sum', '--tenant', tenant, '--topic', topic]);
    expect(init.code, init.stderr).toBe(0);
    const app = join(work, 'pkgapp');
    const validate = aerogrid(['validate'], app);
    expect(validate.code, validate.stderr).toBe(0);
    const tested = aerogrid(['test'], app);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/\d+ passed/);

    // The default GitOps repo: a local one in the (clean) home.
    expect(aerogrid(['tenant', 'add', tenant, '--topics', topic]).code).toBe(0);
    const deployed = aerogrid(['deploy', '--json'], app);
    expect(deployed.code, deployed.stderr).toBe(0);
    const commit = JSON.parse(deployed.stdout).commit as string;
    expect(existsSync(join(home, '.aerogrid', 'gitops.git', 'HEAD'))).toBe(true);

    await kafka.ensureTopic(topic, { partitions: 2 });
    serve = spawn(cli, ['serve', '--run', 'local', '--broker', broker, '--port', '0', '--poll', '200'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    serve.stdout!.on('data', (d) => { output += d; });
    serve.stderr!.on('data', (d) => { output += d; });
    await waitFor('serve to start', () => /Serving /.test(output) || serve!.exitCode !== null, 60_000);
    expect(serve.exitCode, output).toBeNull();

    const live = await waitFor('the app live', () => {
      const s = aerogrid(['status', 'pkgapp', '--json']);
      const status = s.code === 0 ? JSON.parse(s.stdout) : null;
      return status?.live.state === 'live' && status.live.runningCommit === commit ? status.live.url as string : null;
    }, 90_000, 500);
    await kafka.produce(topic, [3, 4].map((quantity, i) => ({ key: `o${i}`, value: JSON.stringify({ product: 'widget', quantity }) })));
    await waitFor('the grid to sum 7 widgets', async () => (await getJson(`${live}v1/grids/product_sum`)).body?.rows?.widget?.units_sold === 7, 60_000);
  }, 600_000);
});

describe('the sidecar image', () => {
  it('takes the sidecar from the same tarball: the Dockerfile\'s extraction step, run here (a stand-in for docker build: no containers on this machine), yields a sidecar that starts', async () => {
    const dockerfile = await readFile(join(packageRoot, 'docker', 'sidecar.Dockerfile'), 'utf8');
    const stage = dockerfile.split(/^FROM /m).find((s) => / AS package\n/.test(s))!;
    expect(stage).toMatch(/^COPY aerogrid-\*\.tgz \.\/$/m);
    const step = /^RUN ((?:.*\\\n)*.*)$/m.exec(stage)![1]!.replace(/\\\n/g, ' ');
    const ctx = join(root, 'image');
    await mkdir(ctx, { recursive: true });
    execFileSync('cp', [tarball, ctx]);
    const opt = join(ctx, 'opt');
    const r = run('bash', ['-eo', 'pipefail', '-c', step.replaceAll('/opt/aerogrid', opt)], ctx, { PATH: toolDirs.join(':'), HOME: ctx });
    expect(r.code, r.stderr).toBe(0);
    // Only the bundled packages, and the entry point the image runs.
    const modules = execFileSync('sh', ['-c', 'ls -d node_modules/* node_modules/@aerogrid/*'], { cwd: opt, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(modules).toEqual(['node_modules/@aerogrid', 'node_modules/@aerogrid/protocol', 'node_modules/@aerogrid/sidecar', 'node_modules/jose', 'node_modules/kafkajs', 'node_modules/ws']);
    const entry = /^ENTRYPOINT \["\/nodejs\/bin\/node", "([^"]+)"\]$/m.exec(dockerfile)![1]!;
    const help = run(process.execPath, [join(opt, entry), '--help'], ctx, { PATH: toolDirs.join(':') });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: aerogrid-sidecar');
  });
});
