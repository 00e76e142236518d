#!/usr/bin/env node
// Cluster benchmarks on the local control plane (scripts/k8s: kube-apiserver, controller manager,
// scheduler, kwok, Argo CD's controllers and repo-server; built once by `npm run k8s:build`):
//   cold_start_s         seconds from scripts/k8s/start.sh to every piece ready (goal < 30 s)
//   deploy_to_synced_s   seconds from `aerogrid deploy --wait` starting to the app Synced/Healthy
//                        through the real Argo CD (goal < 10 s), BENCH_DEPLOYS times (default 5),
//                        new code each time, Argo CD told of each push as a git webhook would
//   build                the cached build's size on disk
// Usage: node bench/cluster.mjs (fails with the reason when the control plane is not built)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_DEPLOYS ?? 5);
const log = (m) => process.stderr.write(`${m}\n`);
const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');
const k8sHome = join(process.env.AEROGRID_HOME ?? join(homedir(), '.aerogrid'), 'k8s');

const built = spawnSync('bash', [join(root, 'scripts/k8s/build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
if (built.status !== 0) { log('the control plane could not be built; see above'); process.exit(1); }

const work = mkdtempSync(join(tmpdir(), 'aerogrid-bench-cluster-'));
const state = join(work, 'k8s');
const started = performance.now();
const start = spawnSync('bash', [join(root, 'scripts/k8s/start.sh'), state], { stdio: ['ignore', 'inherit', 'inherit'] });
if (start.status !== 0) { log('the control plane did not start; see above'); process.exit(1); }
emit({ bench: 'cluster', metric: 'cold_start_s', value: Number(((performance.now() - started) / 1000).toFixed(2)), goal: '< 30 s' });

const kubeconfig = join(state, 'kubeconfig');
const repo = join(work, 'gitops.git');
const env = { ...process.env, AEROGRID_HOME: join(work, 'home'), KUBECONFIG: kubeconfig, AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '', NO_COLOR: '1', CI: '1' };
const kubectl = (args) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const cli = (args) => new Promise((resolve) => {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, 'bin', 'aerogrid'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  child.stdout.resume();
  child.once('close', (code) => resolve({ code, err, seconds: (performance.now() - t0) / 1000 }));
});
const must = async (args) => { const r = await cli(args); if (r.code !== 0) throw new Error(`aerogrid ${args.join(' ')}: ${r.err}`); return r; };
// The git webhook Argo CD gets on every push in a real installation.
const webhook = () => {
  for (const kind of ['applicationset', 'application']) {
    const names = kubectl(['get', kind, '-n', 'argocd', '-o', 'name']).split('\n').filter(Boolean);
    for (const name of names) kubectl(['annotate', '--overwrite', '-n', 'argocd', name, kind === 'application' ? 'argocd.argoproj.io/refresh=normal' : 'argocd.argoproj.io/application-set-refresh=true']);
  }
};
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: Number(s[Math.floor(s.length / 2)].toFixed(2)), max: Number(s.at(-1).toFixed(2)), runs: s.length };
};

let timer;
try {
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', repo]);
  await must(['platform', 'init', '--host', 'aerogrid.bench', '--repo-url', repo]);
  const clone = join(work, 'clone');
  execFileSync('git', ['clone', '--quiet', repo, clone]);
  kubectl(['apply', '--server-side', '-k', join(clone, 'bootstrap')]);
  await must(['tenant', 'add', 'bench', '--topics', 'ticks', '--kafka', 'kafka.kafka.svc:9092']);
  let busy = false;
  timer = setInterval(() => { if (busy) return; busy = true; try { webhook(); } catch { /* not there yet */ } busy = false; }, 1000);
  const app = join(work, 'benchapp');
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'aerogrid.yaml'), 'apiVersion: aerogrid.dev/v1\nkind: App\nmetadata: {name: benchapp, tenant: bench}\nspec:\n  topics: [ticks]\n  grids: [{name: totals, columns: [total]}]\n');
  const times = [];
  // Run 0 creates the app (the ApplicationSet generates it); the timed runs update it.
  for (let i = 0; i <= RUNS; i++) {
    await writeFile(join(app, 'app.py'), `import aerogrid\n\napp = aerogrid.App('benchapp', broker=BROKER_URI)\n\nclass Tick(aerogrid.Record):\n    name: str\n    value: int\n\nticks = app.topic('ticks', key_type=str, value_type=Tick)\ntotals = app.Grid('totals', columns=['total'], default=lambda: {'total': 0})\n\n@app.stream(ticks)\nasync def add(stream):\n    async for key, tick in stream.items():\n        totals[tick.name] = {'total': totals[tick.name]['total'] + tick.value * ${i + 1}}\n`);
    const r = await must(['deploy', app, '--wait', '--timeout', '300']);
    if (i > 0) times.push(r.seconds);
    log(`deploy ${i}: ${r.seconds.toFixed(2)} s${i === 0 ? ' (creates the app; not counted)' : ''}`);
  }
  emit({ bench: 'cluster', metric: 'deploy_to_synced_s', ...stats(times), goal: '< 10 s' });
  if (existsSync(k8sHome)) {
    const size = execFileSync('du', ['-sh', k8sHome], { encoding: 'utf8' }).split('\t')[0];
    emit({ bench: 'cluster', metric: 'build_on_disk', value: size, where: k8sHome });
  }
} finally {
  clearInterval(timer);
  spawnSync('bash', [join(root, 'scripts/k8s/stop.sh'), state], { stdio: 'inherit' });
}
