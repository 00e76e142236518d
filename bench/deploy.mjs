#!/usr/bin/env node
// Deploy benchmarks on one machine, with real parts: the CLI as a user runs it (bin/aerogrid), a
// local bare GitOps repo, `aerogrid serve --run local` with real sidecars and Python runtimes, and
// a Kafka broker of its own (127.0.0.1:19292, started if needed).
//   commit  seconds from `aerogrid deploy` starting to its commit pushed (the command's exit)
//   live    seconds from `aerogrid deploy --wait` starting to the new version's grid live
// Each is run BENCH_DEPLOYS times (default 5), with new code every time; prints median and max.
// Usage: node bench/deploy.mjs
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { kafkaUp } = await import(join(root, 'dist/local-kafka/broker.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const RUNS = Number(process.env.BENCH_DEPLOYS ?? 5);
const log = (m) => process.stderr.write(`${m}\n`);
const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');

const work = await mkdtemp(join(tmpdir(), 'aerogrid-bench-deploy-'));
const env = { ...process.env, AEROGRID_HOME: join(work, 'home'), AEROGRID_GITOPS: '', AEROGRID_ARGOCD_URL: '', NO_COLOR: '1', CI: '1' };

function cli(args) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(root, 'bin', 'aerogrid'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.once('close', (code) => resolve({ code, out, err, seconds: (performance.now() - started) / 1000 }));
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: Number(s[Math.floor(s.length / 2)].toFixed(3)), max: Number(s.at(-1).toFixed(3)), runs: s.length };
};

const broker = (await kafkaUp({ port: 19292, onProgress: log })).bootstrap;
const topic = `bench-deploy-${Date.now().toString(36)}`;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-deploy' });
for (let attempt = 1; ; attempt++) {
  // A broker that has just started may not answer metadata for a new topic at once.
  try { await kafka.ensureTopic(topic, { partitions: 1 }); break; } catch (error) { if (attempt >= 5) throw error; await new Promise((r) => setTimeout(r, 1000)); }
}
await kafka.close();

const tenant = 'bench';
const app = join(work, 'benchapp');
await mkdir(app, { recursive: true });
await writeFile(join(app, 'aerogrid.yaml'), `apiVersion: aerogrid.dev/v1\nkind: App\nmetadata: {name: benchapp, tenant: ${tenant}}\nspec:\n  topics: [${topic}]\n  grids: [{name: totals, columns: [total]}]\n`);
const source = (n) => `import aerogrid\n\napp = aerogrid.App('benchapp', broker=BROKER_URI)\n\nclass Tick(aerogrid.Record):\n    name: str\n    value: int\n\nticks = app.topic('${topic}', key_type=str, value_type=Tick)\ntotals = app.Grid('totals', columns=['total'], default=lambda: {'total': 0})\n\n@app.stream(ticks)\nasync def add(stream):\n    async for key, tick in stream.items():\n        totals[tick.name] = {'total': totals[tick.name]['total'] + tick.value * ${n}}\n`;

let serve;
try {
  const added = await cli(['tenant', 'add', tenant, '--topics', topic]);
  if (added.code !== 0) throw new Error(added.err);

  log(`commit: ${RUNS} deploys to the local GitOps repo...`);
  const commit = [];
  for (let i = 1; i <= RUNS; i++) {
    await writeFile(join(app, 'app.py'), source(i));
    const run = await cli(['deploy', app, '--json']);
    if (run.code !== 0) throw new Error(run.err);
    commit.push(run.seconds);
  }
  emit({ bench: 'deploy', metric: 'command_to_commit_pushed_s', ...stats(commit), goal: '< 2 s' });

  serve = spawn(process.execPath, [join(root, 'bin', 'aerogrid'), 'serve', '--run', 'local', '--broker', broker, '--poll', '200'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${text}`)), 60_000);
    serve.stderr.on('data', (d) => { text += d; if (text.includes('Serving ')) { clearTimeout(timer); resolve(); } });
  });
  log(`live: ${RUNS} deploys --wait with the local runner...`);
  const live = [];
  for (let i = 1; i <= RUNS; i++) {
    await writeFile(join(app, 'app.py'), source(100 + i));
    const run = await cli(['deploy', app, '--wait', '--timeout', '60', '--json']);
    if (run.code !== 0) throw new Error(run.err);
    live.push(run.seconds);
  }
  emit({ bench: 'deploy', metric: 'command_to_grid_live_s', ...stats(live), goal: '< 10 s' });
} finally {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGINT');
    await new Promise((r) => { serve.once('exit', r); setTimeout(r, 15_000); });
  }
  await rm(work, { recursive: true, force: true });
}
