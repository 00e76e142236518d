// The CLI as a user gets it: `npm pack` of this checkout (once), installed with
// `npm install --global --prefix <temp>` and run from a temporary folder with a clean PATH and HOME,
// so nothing can reach back into the checkout. Then a connector's whole life with the installed
// CLI, and each pipeline `aerogrid init` writes, run step by step with that tarball.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { packageRoot } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
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
    // What the CLI reads beside its code at run time (src/paths.ts's packageRoot), the demo's app included.
    const installed = join(prefix, 'lib', 'node_modules', 'aerogrid');
    for (const file of ['src/templates/_common/_gitlab-ci.yml', 'src/connector/inspect_app.py', 'schemas/aerogrid-app.v1.schema.json', 'gitops/bases', 'examples/ordersapp/app.py', 'sdk/python/aerogrid/__main__.py', 'addin/dist/manifest.xml', 'web/dist/console/index.html', 'web/dist/console/console.js']) {
      expect(existsSync(join(installed, file)), file).toBe(true);
    }
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

describe('the images', () => {
  /**
   * Runs the extraction step of a Dockerfile's `package` stage here, on the tarball, with
   * /opt/aerogrid moved into a temp folder (a stand-in for docker build: no containers on this machine).
   */
  async function extract(name: string): Promise<{ dockerfile: string; opt: string }> {
    const dockerfile = await readFile(join(packageRoot, 'docker', `${name}.Dockerfile`), 'utf8');
    const stage = dockerfile.split(/^FROM /m).find((s) => / AS package\n/.test(s))!;
    expect(stage).toMatch(/^COPY aerogrid-\*\.tgz \.\/$/m);
    const step = /^RUN ((?:.*\\\n)*.*)$/m.exec(stage)![1]!.replace(/\\\n/g, ' ');
    const ctx = join(root, `image-${name}`);
    await mkdir(ctx, { recursive: true });
    execFileSync('cp', [tarball, ctx]);
    const opt = join(ctx, 'opt');
    const r = run('bash', ['-eo', 'pipefail', '-c', step.replaceAll('/opt/aerogrid', opt)], ctx, { PATH: toolDirs.join(':'), HOME: ctx });
    expect(r.code, r.stderr).toBe(0);
    return { dockerfile, opt };
  }

  it('the sidecar image takes the sidecar and only its bundled packages from the same tarball, and it starts (Dockerfile step run here: a stand-in for docker build)', async () => {
    const { dockerfile, opt } = await extract('sidecar');
    const modules = execFileSync('sh', ['-c', 'ls -d node_modules/* node_modules/@aerogrid/*'], { cwd: opt, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(modules).toEqual(['node_modules/@aerogrid', 'node_modules/@aerogrid/protocol', 'node_modules/@aerogrid/sidecar', 'node_modules/jose', 'node_modules/kafkajs', 'node_modules/ws']);
    const entry = /^ENTRYPOINT \["\/nodejs\/bin\/node", "([^"]+)"\]$/m.exec(dockerfile)![1]!;
    const help = run(process.execPath, [join(opt, entry), '--help'], opt, { PATH: toolDirs.join(':') });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: aerogrid-sidecar');
    // The live viewer it serves at / (web/build.mjs builds it into the sidecar package).
    for (const file of ['index.html', 'viewer.js', 'viewer.css']) expect(existsSync(join(opt, 'node_modules/@aerogrid/sidecar/dist/viewer', file)), file).toBe(true);
  });

  it('the runtime image takes the Python SDK from the same tarball, and python -m aerogrid runs (Dockerfile step run here: a stand-in for docker build)', async () => {
    const { dockerfile, opt } = await extract('runtime');
    expect(dockerfile).toMatch(/^ENV .*PYTHONPATH=\/opt\/aerogrid$/m);
    expect(existsSync(join(opt, 'aerogrid', '__main__.py'))).toBe(true);
    const help = run(join(toolDirs[0]!, 'python3'), ['-m', 'aerogrid', '--help'], opt, { PATH: toolDirs.join(':'), PYTHONPATH: opt });
    expect(help.code, help.stderr).toBe(0);
  });
});

describe('the pipelines aerogrid init writes, each step run in order with the packed CLI', () => {
  const tenant = uniqueName('pipe').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('pipe-orders');
  let connector: string;
  let gitops: string;
  let standIns: string;

  beforeAll(async () => {
    // The admin's side (not under test): a GitOps repo with the tenant onboarded.
    gitops = join(root, 'pipe-gitops.git');
    await ensureLocalRepo(gitops);
    const admin = await runCli(['tenant', 'add', tenant, '--topics', topic, '--gitops', gitops], { env: { AEROGRID_HOME: join(root, 'admin-home'), NO_COLOR: '1', CI: '1' } });
    expect(admin.code, admin.stderr).toBe(0);
    // The connector repo, its pipelines installing the CLI from the tarball.
    const init = await runCli(['init', 'pipeapp', '--template', 'orders-sum', '--tenant', tenant, '--topic', topic, '--dir', join(root, 'pipeapp'), '--cli', tarball]);
    expect(init.code, init.stderr).toBe(0);
    connector = join(root, 'pipeapp');
    // Stand-ins for what the hosted runners bring and this machine cannot: GitLab's image
    // (apt-get: its packages are on this machine already) and the kubectl download (curl of
    // dl.k8s.io: this machine's kubectl is copied instead).
    standIns = join(root, 'stand-ins');
    await mkdir(standIns, { recursive: true });
    await writeFile(join(standIns, 'apt-get'), '#!/bin/sh\necho "apt-get (stand-in): $*"\n', { mode: 0o755 });
    await writeFile(join(standIns, 'curl'), `#!/bin/bash
# curl (stand-in) of a kubectl release: copies this machine's kubectl to the -o target.
out=''; url=''
while [ $# -gt 0 ]; do case "$1" in -*o) out="$2"; shift 2;; -*) shift;; *) url="$1"; shift;; esac; done
case "$url" in https://dl.k8s.io/*/bin/linux/amd64/kubectl) cp "${execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()}" "$out";; *) echo "curl (stand-in): unexpected $url" >&2; exit 1;; esac
`, { mode: 0o755 });
  });

  const sourceCommit = () => execFileSync('git', ['rev-parse', 'HEAD'], { cwd: connector, encoding: 'utf8' }).trim();
  const deployedSource = () => /^AeroGrid-Source-Commit: (\S+)$/m.exec(execFileSync('git', ['log', '-1', '--format=%B', 'main', '--', `tenants/${tenant}/apps/pipeapp`], { cwd: gitops, encoding: 'utf8' }))?.[1];
  const secrets: Record<string, string> = {};

  /** A fresh runner: its own workspace, HOME and npm prefix. */
  async function runner(name: string) {
    const base = join(root, name);
    const dirs = { ws: join(base, 'ws'), home: join(base, 'home'), prefix: join(base, 'prefix'), bin: join(base, 'bin') };
    await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
    return dirs;
  }

  it('GitHub Actions: the check job, then the deploy job of a push to main (uses: steps played by stand-ins, secrets by local values)', async () => {
    Object.assign(secrets, { AEROGRID_GITOPS: gitops, AEROGRID_GITOPS_TOKEN: 'stand-in-token' });
    const wf = parse(await readFile(join(connector, '.github', 'workflows', 'aerogrid.yml'), 'utf8'));
    expect(wf.env.AEROGRID_CLI).toBe(tarball);
    const expand = (value: unknown) => String(value).replace(/\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}/g, (_, k: string) => secrets[k] ?? '');
    const order = Object.keys(wf.jobs).sort((a, b) => (wf.jobs[b].needs === a ? -1 : wf.jobs[a].needs === b ? 1 : 0));
    expect(order).toEqual(['check', 'deploy']);
    expect(wf.jobs.deploy.if).toContain("github.ref == 'refs/heads/main'");
    const outputs: Record<string, string> = {};
    for (const job of order) {
      const r = await runner(`gh-${job}`);
      let path: string[] = [];
      outputs[job] = '';
      for (const step of wf.jobs[job].steps) {
        if (step.uses) {
          const action = String(step.uses).replace(/@.*/, '');
          if (action === 'actions/checkout') execFileSync('git', ['clone', '-q', connector, r.ws]);
          else if (action === 'actions/setup-node') expect(process.versions.node.split('.')[0]).toBe(String(step.with['node-version']));
          else if (action === 'actions/setup-python') {
            // A Python with pytest at hand (pip finds it installed: no download).
            execFileSync(toolDirs[0] + '/python3', ['-m', 'venv', '--system-site-packages', join(r.bin, 'py')]);
            path = [join(r.bin, 'py', 'bin'), ...path];
          } else if (action === 'azure/setup-kubectl') expect(toolDirs.some((d) => existsSync(join(d, 'kubectl')))).toBe(true);
          else throw new Error(`no stand-in for ${step.uses}`);
          continue;
        }
        const env = { ...userEnv(r.home, r.prefix, path), GITHUB_ACTIONS: 'true', GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_NAME: 'push' };
        for (const scope of [wf.env, wf.jobs[job].env, step.env]) for (const [k, v] of Object.entries(scope ?? {})) env[k] = expand(v);
        expect(step.run).not.toMatch(/\$\{\{/);
        const done = run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], r.ws, env, 300_000);
        outputs[job] += done.stdout + done.stderr;
        expect(done.code, `${job} / ${step.name}:\n${done.stdout}${done.stderr}`).toBe(0);
      }
    }
    expect(outputs.check).toMatch(/\d+ passed/);
    expect(deployedSource()).toBe(sourceCommit());
  }, 600_000);

  it('GitLab CI: the check stage, then the deploy stage on main (the image and the kubectl download played by stand-ins, CI/CD variables by local values)', async () => {
    // A new commit of the code, so this deploy is a change of its own.
    await writeFile(join(connector, 'app.py'), `${await readFile(join(connector, 'app.py'), 'utf8')}\n# Deployed by GitLab CI.\n`);
    execFileSync('git', ['commit', '-q', '-am', 'a comment'], { cwd: connector, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@localhost', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@localhost' } });
    const ci = parse(await readFile(join(connector, '.gitlab-ci.yml'), 'utf8'));
    expect(ci.variables.AEROGRID_CLI).toBe(tarball);
    expect(String(ci.default.image)).toMatch(/^node:20-/);
    const predefined = { CI: 'true', GITLAB_CI: 'true', CI_COMMIT_BRANCH: 'main' };
    const jobs = (stage: string) => Object.keys(ci).filter((k) => ci[k]?.stage === stage);
    for (const stage of ci.stages as string[]) {
      for (const job of jobs(stage)) {
        for (const rule of ci[job].rules ?? []) expect(rule.if).toBe('$CI_COMMIT_BRANCH == "main"');
        const r = await runner(`gl-${job}`);
        execFileSync('git', ['clone', '-q', connector, r.ws]);
        const env = { ...userEnv(r.home, r.prefix, [r.bin, standIns]), ...predefined, ...ci.variables, ...ci[job].variables, AEROGRID_GITOPS: gitops, AEROGRID_GITOPS_TOKEN: 'stand-in-token' };
        // /usr/local/bin of the image is the runner's own bin folder here.
        const lines = [...(ci[job].before_script ?? []), ...ci[job].script].map((l: string) => l.replaceAll('/usr/local/bin', r.bin));
        const done = run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', lines.join('\n')], r.ws, env, 300_000);
        expect(done.code, `${job}:\n${done.stdout}${done.stderr}`).toBe(0);
        if (job === 'check') expect(done.stdout + done.stderr).toMatch(/\d+ passed/);
      }
    }
    expect(deployedSource()).toBe(sourceCommit());
  }, 600_000);
});
