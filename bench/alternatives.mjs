#!/usr/bin/env node
// The seed's job side by side on AeroGrid and the field's alternatives, in one run on one broker
// (the benchmarks' own, on port 19292): BENCH_ORDERS (1,000,000) orders pre-loaded once into
// `orders` (3 partitions, keys are order ids), then units sold per product computed by
//   aerogrid         the seed app verbatim (examples/ordersapp), as `aerogrid dev` runs it
//   faust-streaming  bench/alternatives/faust_job.py
//   quixstreams      bench/alternatives/quix_job.py (exactly-once, grouped by product)
// one after another, each from the topic's start with a consumer group of its own. Each result:
// records/s from the first record processed to the last, and including start-up, and whether its
// sums are exactly the sums of the orders produced. Then the ratios.
// The two Python libraries come from PyPI, pinned in bench/alternatives/requirements.txt, into a
// venv of the benchmark's own ($AEROGRID_HOME/bench/venv, rebuilt when the pins change).
// Usage: node bench/alternatives.mjs [aerogrid] [faust-streaming] [quixstreams]   (default: all)
// Every run is bounded in time (BENCH_TIMEOUT_SECONDS, 1800 each); everything listens on loopback.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { emit, log, metric, quiet, root, sleep } from './lib/fanout.mjs';

const { kafkaUp } = await import(join(root, 'dist/local-kafka/broker.js'));
const { runConnector } = await import(join(root, 'dist/runner/connector.js'));
const { randomOrder, expectedSums } = await import(join(root, 'dist/demo/orders.js'));
const { aerogridHome } = await import(join(root, 'dist/paths.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));

const BENCH_PORT = 19292;
const SYSTEMS = ['aerogrid', 'faust-streaming', 'quixstreams'];
const N = Number(process.env.BENCH_ORDERS ?? 1_000_000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 1800) * 1000;
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SYSTEMS.includes(w));
if (unknown.length) {
  console.error(`Unknown system ${unknown.join(', ')}; choose from ${SYSTEMS.join(', ')}`);
  process.exit(2);
}
const chosen = wanted.length ? SYSTEMS.filter((s) => wanted.includes(s)) : SYSTEMS;
const jobs = join(root, 'bench/alternatives');
const stamp = () => Date.now().toString(36);
const load = () => Math.round(loadavg()[0] * 100) / 100;

/** The venv with the pinned alternatives, built once per version of the pins. */
function ensureVenv() {
  const venv = join(aerogridHome(), 'bench', 'venv');
  const requirements = join(jobs, 'requirements.txt');
  const want = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stampFile = join(venv, '.requirements-sha256');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want) return join(venv, 'bin', 'python');
  log(`alternatives: installing ${chosen.filter((s) => s !== 'aerogrid').join(' and ')} from PyPI into ${venv} (once, about a minute)...`);
  rmSync(venv, { recursive: true, force: true });
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`alternatives: '${cmd} ${args.join(' ')}' failed (exit ${r.status}); the venv at ${venv} needs Python 3 with venv and PyPI reachable`);
  };
  run('python3', ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  writeFileSync(stampFile, want);
  return join(venv, 'bin', 'python');
}

/** Products whose sum differs from what was produced, as "product: got (expected n)". */
function differences(got, expected) {
  const products = new Set([...Object.keys(got), ...Object.keys(expected)]);
  return [...products]
    .filter((p) => got[p] !== expected[p])
    .map((p) => `${p}: ${got[p] ?? 'missing'} (expected ${expected[p] ?? 'none'})`);
}

/** The seed app through the local runner; timed by its records metric, sums from its grid. */
async function runAerogrid(broker) {
  const started = Date.now();
  const connector = await runConnector({ dir: join(root, 'examples/ordersapp'), broker, port: 0, watch: false, tenant: `bench${stamp()}`, log: quiet });
  try {
    let first = 0;
    const deadline = Date.now() + TIMEOUT_MS;
    while (Date.now() < deadline) {
      const n = await metric(connector.url, 'aerogrid_records_total');
      if (n > 0 && !first) first = Date.now();
      if (n >= N) {
        const last = Date.now();
        const grid = await (await fetch(`${connector.url}v1/grids/product_sum`)).json();
        const sums = Object.fromEntries(Object.entries(grid.rows).map(([p, row]) => [p, row.units_sold]));
        return { started, first, last, sums };
      }
      await sleep(100);
    }
    throw new Error(`the app did not process ${N} orders within ${TIMEOUT_MS / 1000} s`);
  } finally {
    await connector.stop();
  }
}

/** One of the Python jobs, which prints {first, last, count, sums} when it has seen N orders. */
async function runPythonJob(python, script, args, broker) {
  const work = mkdtempSync(join(tmpdir(), 'aerogrid-alt-'));
  const started = Date.now();
  const child = spawn(python, [join(jobs, script), ...args], {
    cwd: work, // faust keeps its data directory in the working directory
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BENCH_ORDERS: String(N), BENCH_BROKER: broker, BENCH_APP_ID: `bench-alt-${stamp()}`, BENCH_STATE_DIR: join(work, 'state') },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  try {
    const result = await Promise.race([
      exited.then((code) => {
        const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
        if (!line) throw new Error(`${script} exited (${code}) without a result:\n${err}`);
        return JSON.parse(line);
      }),
      sleep(TIMEOUT_MS).then(() => { throw new Error(`${script} did not finish ${N} orders within ${TIMEOUT_MS / 1000} s:\n${err}`); }),
    ]);
    return { started, first: result.first * 1000, last: result.last * 1000, sums: result.sums };
  } finally {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    await Promise.race([exited, sleep(5000)]);
    rmSync(work, { recursive: true, force: true });
  }
}

const broker = (await kafkaUp({ port: BENCH_PORT, onProgress: log })).bootstrap;
const python = chosen.some((s) => s !== 'aerogrid') ? ensureVenv() : undefined;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-alternatives' });

log(`alternatives: pre-loading ${N} orders into 'orders' (3 partitions)...`);
await kafka.deleteTopic('orders').catch(() => {});
await kafka.ensureTopic('orders', { partitions: 3 });
const produced = [];
for (let i = 0; i < N; i += 10_000) {
  const messages = [];
  for (let j = i; j < Math.min(N, i + 10_000); j++) {
    const order = randomOrder();
    produced.push(order);
    messages.push({ key: `order-${j}`, value: JSON.stringify(order) });
  }
  await kafka.produce('orders', messages);
}
const expected = Object.fromEntries(Object.entries(expectedSums(produced)).map(([p, s]) => [p, s.units_sold]));
produced.length = 0;

const runners = {
  aerogrid: () => runAerogrid(broker),
  'faust-streaming': () => runPythonJob(python, 'faust_job.py', ['worker', '--loglevel=warn', '--without-web'], broker),
  quixstreams: () => runPythonJob(python, 'quix_job.py', [], broker),
};
const results = {};
let failed = false;
for (const system of chosen) {
  log(`alternatives: ${system}...`);
  const loadBefore = load();
  try {
    const r = await runners[system]();
    const wrong = differences(r.sums, expected);
    results[system] = Math.round(N / ((r.last - r.first) / 1000));
    if (wrong.length) failed = true;
    emit({
      bench: `alternatives.${system}`, records: N,
      seconds: (r.last - r.started) / 1000,
      records_per_s: results[system],
      records_per_s_including_startup: Math.round(N / ((r.last - r.started) / 1000)),
      exact: wrong.length === 0, ...(wrong.length ? { wrong } : {}),
      load_average_1m: { before: loadBefore, after: load() },
    });
    log(`alternatives: ${system}: ${results[system]} records/s${wrong.length ? `, INEXACT: ${wrong.join('; ')}` : ', exact'}`);
  } catch (e) {
    failed = true;
    emit({ bench: `alternatives.${system}`, records: N, error: e.message });
    log(`alternatives: ${system} failed: ${e.message}`);
  }
}
const ratio = (a, b) => (results[a] && results[b] ? Math.round((results[a] / results[b]) * 10) / 10 : null);
if (results.aerogrid && Object.keys(results).length > 1) {
  emit({
    bench: 'alternatives.ratios', records: N,
    aerogrid_vs_faust_streaming: ratio('aerogrid', 'faust-streaming'),
    aerogrid_vs_quixstreams: ratio('aerogrid', 'quixstreams'),
  });
}
process.exit(failed ? 1 : 0);
