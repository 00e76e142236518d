#!/usr/bin/env node
// Many apps on one machine, as a platform runs them: BENCH_APPS apps (20) deployed with the CLI to
// a local GitOps repo and run by `aerogrid serve --run local` (a sandboxed Python runtime and a
// sidecar each, one broker), each keeping the latest tick per key of a topic of its own.
//   idle    after every app is live and BENCH_SETTLE_SECONDS (10) more: RSS of serve, of every
//           sidecar and runtime (with its sandbox), total and per app; and PSS per app (shared
//           pages split among the processes sharing them: what one more app costs the machine)
//   loaded  BENCH_RATE (1,000) ticks/s into every app's topic for BENCH_SECONDS (20): the same
//           figures at their peak, CPU used, and seconds until every app has processed every tick
// Goal: an idle app (sidecar + runtime) under 80 MB.
// Usage: node bench/many-apps.mjs  (BENCH_BROKER to use a running broker). Prints JSON lines.
// Every wait is bounded; everything listens on loopback.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBroker, emit, log, metric, produceTicks, pssMiB, root, sleep, usage } from './lib/fanout.mjs';

const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const APPS = Number(process.env.BENCH_APPS ?? 20);
const SETTLE = Number(process.env.BENCH_SETTLE_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const KEYS = 100;
const round = (n) => Math.round(n * 10) / 10;

const work = await mkdtemp(join(tmpdir(), 'aerogrid-bench-many-'));
const env = { ...process.env, AEROGRID_HOME: join(work, 'home'), AEROGRID_GITOPS: '', AEROGRID_ARGOCD_URL: '', NO_COLOR: '1', CI: '1' };

function cli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'aerogrid'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`aerogrid ${args.join(' ')} failed (${code}): ${err}`))));
  });
}

/** Every process under `pid`, with its command line. */
async function descendants(pid) {
  const parent = new Map();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.split(') ')[1].split(' ')[1]));
    } catch { /* gone meanwhile */ }
  }
  const found = [];
  const under = (p) => { for (const [child, pp] of parent) if (pp === p) { found.push(child); under(child); } };
  under(pid);
  const procs = [];
  for (const p of found) {
    try { procs.push({ pid: p, argv: (await readFile(`/proc/${p}/cmdline`, 'utf8')).split('\0') }); } catch { /* gone */ }
  }
  return procs;
}

/** RSS (MiB) and CPU seconds of serve, its sidecars, and its runtimes with their sandboxes. */
async function measure(servePid) {
  const parts = { serve: usage(servePid), sidecars: [], runtimes: [] };
  for (const p of await descendants(servePid)) {
    let u;
    try { u = { ...usage(p.pid), pssMiB: pssMiB(p.pid) }; } catch { continue; }
    if (p.argv.includes('--runtime-addr')) parts.sidecars.push(u);
    else parts.runtimes.push(u); // python and the bwrap processes around it
  }
  const sum = (xs, f) => xs.reduce((n, x) => n + f(x), 0);
  const sidecarRss = sum(parts.sidecars, (u) => u.rssMiB);
  const runtimeRss = sum(parts.runtimes, (u) => u.rssMiB);
  return {
    sidecars: parts.sidecars.length,
    rss_mib: {
      total: round(parts.serve.rssMiB + sidecarRss + runtimeRss),
      serve: round(parts.serve.rssMiB),
      per_app: round((sidecarRss + runtimeRss) / APPS),
      sidecar_mean: round(sidecarRss / Math.max(1, parts.sidecars.length)),
      runtime_mean: round(runtimeRss / APPS),
      largest_sidecar: round(Math.max(...parts.sidecars.map((u) => u.rssMiB))),
    },
    // What the apps cost the machine together: shared pages (Node's and Python's binaries) split.
    pss_mib: {
      per_app: round((sum(parts.sidecars, (u) => u.pssMiB) + sum(parts.runtimes, (u) => u.pssMiB)) / APPS),
      sidecar_mean: round(sum(parts.sidecars, (u) => u.pssMiB) / Math.max(1, parts.sidecars.length)),
      runtime_mean: round(sum(parts.runtimes, (u) => u.pssMiB) / APPS),
    },
    cpu_seconds: parts.serve.cpuSeconds + sum(parts.sidecars, (u) => u.cpuSeconds) + sum(parts.runtimes, (u) => u.cpuSeconds),
  };
}

const broker = await benchBroker();
const run = Date.now().toString(36);
const topics = Array.from({ length: APPS }, (_, i) => `bench-many-${run}-${i}`);
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-many-apps' });
for (const topic of topics) await kafka.ensureTopic(topic, { partitions: 1 });
await kafka.close();

let serve;
try {
  await cli(['tenant', 'add', 'bench', '--topics', `bench-many-${run}-*`]);
  log(`many-apps: deploying ${APPS} apps...`);
  for (let i = 0; i < APPS; i++) {
    const dir = join(work, 'apps', `many${i}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'aerogrid.yaml'), `apiVersion: aerogrid.dev/v1\nkind: App\nmetadata: {name: many${i}, tenant: bench}\nspec:\n  topics: [${topics[i]}]\n  grids: [{name: latest, columns: [sent]}]\n`);
    await writeFile(join(dir, 'app.py'), `import aerogrid\n\napp = aerogrid.App('many${i}', broker=BROKER_URI)\n\nclass Tick(aerogrid.Record):\n    key: str\n    sent: float\n\nticks = app.topic('${topics[i]}', key_type=str, value_type=Tick)\nlatest = app.Grid('latest', columns=['sent'])\n\n@app.stream(ticks)\nasync def track(stream):\n    async for _, tick in stream.items():\n        latest[tick.key] = {'sent': tick.sent}\n`);
    await cli(['deploy', dir, '--json']);
  }

  serve = spawn(process.execPath, [join(root, 'bin', 'aerogrid'), 'serve', '--run', 'local', '--port', '0', '--broker', broker, '--poll', '500'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let serveLog = '';
  serve.stderr.on('data', (d) => { serveLog = (serveLog + d).slice(-4000); });
  const started = Date.now();
  let urls = [];
  while (Date.now() - started < 5 * 60_000) {
    const statuses = JSON.parse(await cli(['status', '--json']));
    const live = statuses.filter((s) => s.live.state === 'live' && s.live.url);
    if (live.length === APPS) { urls = live.map((s) => s.live.url); break; }
    if (serve.exitCode !== null) throw new Error(`serve exited: ${serveLog}`);
    await sleep(1000);
  }
  if (urls.length !== APPS) throw new Error(`not every app was live within 5 minutes:\n${serveLog}`);
  log(`many-apps: ${APPS} apps live after ${round((Date.now() - started) / 1000)} s; settling ${SETTLE} s...`);
  await sleep(SETTLE * 1000);
  const idle = await measure(serve.pid);
  emit({ bench: 'many-apps.idle', apps: APPS, sidecars: idle.sidecars, rss_mib: idle.rss_mib, pss_mib: idle.pss_mib, goal: { per_app_mb: 80 } });

  log(`many-apps: ${RATE} ticks/s into each of the ${APPS} topics for ${SECONDS} s...`);
  const before = idle.cpu_seconds;
  let peak = idle;
  const producing = produceTicks(broker, topics.join(','), { rate: RATE, seconds: SECONDS, keys: KEYS });
  let done = false;
  void producing.finally(() => { done = true; });
  const loadStarted = Date.now();
  while (!done) {
    await sleep(2000);
    const m = await measure(serve.pid);
    if (m.rss_mib.total > peak.rss_mib.total) peak = m;
  }
  const produced = await producing;
  const produceEnded = Date.now();
  let caughtUp = null;
  while (Date.now() - produceEnded < 2 * 60_000) {
    const counts = await Promise.all(urls.map((u) => metric(u, 'aerogrid_records_total')));
    if (counts.every((n) => n >= produced)) { caughtUp = (Date.now() - produceEnded) / 1000; break; }
    await sleep(500);
  }
  const after = await measure(serve.pid);
  emit({
    bench: 'many-apps.loaded', apps: APPS, rate_per_app: RATE, seconds: SECONDS, produced_per_app: produced,
    // What the broker took: below RATE when the machine cannot carry every app's load at once.
    produced_per_s_per_app: Math.round(produced / ((produceEnded - loadStarted) / 1000)),
    peak_rss_mib: peak.rss_mib,
    pss_mib_at_peak: peak.pss_mib,
    cpu_cores: round((after.cpu_seconds - before) / ((Date.now() - loadStarted) / 1000)),
    seconds_to_catch_up_after_producing: caughtUp,
    every_app_processed_every_tick: caughtUp !== null,
  });
} finally {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGINT');
    await new Promise((r) => { serve.once('exit', r); setTimeout(r, 30_000); });
  }
  await rm(work, { recursive: true, force: true });
}
