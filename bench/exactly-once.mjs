#!/usr/bin/env node
// Exactly-once benchmarks on a real Kafka broker (the benchmarks' own, on port 19292), real
// sidecar and Python runtime:
//   cost      the seed app over pre-loaded orders, committing each batch in one Kafka transaction
//             (changelog rows + offsets) against the same run with the same writes and no
//             transaction, and against committing offsets only. Goal: at most 15% slower.
//   restore   a changelog of 1,000,000 rows (with the sidecar's headers) to a sidecar serving
//             them. Goal: under 5 s. The changelog is written once, then BENCH_RUNS (default 3)
//             sidecars start on it one after another; the median is the result (the machine may
//             be shared and noisy).
//   takeover  two instances (sidecar + runtime each) of the seed app on a grid of 1,000,000 rows,
//             orders streaming at BENCH_RATE (default 500/s): the active one is killed with
//             SIGKILL; time until the standby has committed a batch of its own (serving updates
//             again). Goal: under 3 s. BENCH_RUNS kills (default 3), the killed one restarted
//             as the next standby; the median is the result.
// Usage: node bench/exactly-once.mjs [cost] [restore] [takeover]   (default: all). Prints JSON lines.
// Every loop is bounded in count and time; everything listens on loopback.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { kafkaUp } = await import(join(root, 'dist/local-kafka/broker.js'));
const { runConnector } = await import(join(root, 'dist/runner/connector.js'));
const { randomOrder } = await import(join(root, 'dist/demo/orders.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const { appKafkaNames } = await import(join(root, 'protocol/dist/kafka-names.js'));

const BENCH_PORT = 19292;
const which = process.argv.slice(2);
const want = (name) => which.length === 0 || which.includes(name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`${m}\n`);
const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');
const stamp = () => Date.now().toString(36);

const broker = (await kafkaUp({ port: BENCH_PORT, onProgress: log })).bootstrap;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-eo' });

async function status(url) {
  return (await fetch(`${url}v1/status`)).json();
}

async function produceOrders(topic, n) {
  const chunk = 10_000;
  for (let i = 0; i < n; i += chunk) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) messages.push({ key: `order-${j}`, value: JSON.stringify(randomOrder()) });
    await kafka.produce(topic, messages);
  }
}

/** One run of the app over the whole topic with a commit mode; records/s from first record to last commit. */
async function runOnce(topic, n, mode) {
  const connector = await runConnector({
    dir: join(root, 'test/fixtures/eo-orders'), broker, port: 0, watch: false,
    tenant: `bench${stamp()}`, env: { ORDERS_TOPIC: topic, AEROGRID_COMMIT: mode }, log: () => {},
  });
  try {
    let first = 0;
    const deadline = Date.now() + 10 * 60_000;
    while (Date.now() < deadline) {
      const s = await status(connector.url);
      if (s.records.processed > 0 && !first) first = Date.now();
      const committed = s.lag.reduce((sum, p) => sum + Number(p.committed ?? 0), 0);
      if (s.lag.length === 3 && committed >= n && s.lag.every((p) => p.lag === 0)) {
        const seconds = (Date.now() - first) / 1000;
        return { seconds, records_per_s: Math.round(n / seconds) };
      }
      await sleep(50);
    }
    throw new Error(`cost: the ${mode} run did not commit every order within 10 minutes`);
  } finally {
    await connector.stop();
  }
}

async function cost() {
  const n = Number(process.env.BENCH_ORDERS ?? 300_000);
  const topic = `bench-eo-${stamp()}`;
  log(`cost: pre-loading ${n} orders into '${topic}' (3 partitions)...`);
  await kafka.ensureTopic(topic, { partitions: 3 });
  await produceOrders(topic, n);
  const runs = { transaction: [], plain: [], offsets: [] };
  // Interleaved, twice each, so that warm-up and background noise hit every mode alike.
  for (const mode of ['plain', 'transaction', 'offsets', 'transaction', 'plain', 'offsets']) {
    log(`cost: ${mode}...`);
    const r = await runOnce(topic, n, mode);
    log(`cost: ${mode}: ${r.records_per_s} records/s`);
    runs[mode].push(r.records_per_s);
  }
  const best = (xs) => Math.max(...xs);
  const tx = best(runs.transaction);
  const plain = best(runs.plain);
  const offsets = best(runs.offsets);
  emit({
    bench: 'exactly-once.cost', records: n,
    transaction_records_per_s: tx,
    no_transaction_records_per_s: plain,
    offsets_only_records_per_s: offsets,
    slowdown_vs_no_transaction_pct: Math.round((1 - tx / plain) * 1000) / 10,
    slowdown_vs_offsets_only_pct: Math.round((1 - tx / offsets) * 1000) / 10,
    runs,
    goal_max_slowdown_pct: 15,
  });
}

/** Writes `rows` grid rows of `product_sum` to an app's changelog, with the sidecar's headers. */
async function writeChangelog(topic, rows) {
  await kafka.ensureTopic(topic, { partitions: 1, config: { 'cleanup.policy': 'compact' } });
  const chunk = 5_000; // one produce request stays under the broker's 1 MB limit
  for (let i = 0; i < rows; i += chunk) {
    const messages = [];
    for (let j = i; j < Math.min(rows, i + chunk); j++) {
      // Headers as the sidecar writes them (the source offsets of the batch the row came from).
      const headers = { 'aerogrid-source': `orders/${j % 3}/${j}`, 'aerogrid-batch': String(Math.floor(j / 500)) };
      messages.push({ key: JSON.stringify(['product_sum', `product-${j}`]), value: JSON.stringify({ units_sold: j }), headers, partition: 0 });
    }
    await kafka.produce(topic, messages);
  }
}

async function restore() {
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const tenant = `bench${stamp()}`;
  const app = 'restorebench';
  const topic = appKafkaNames(tenant, app).changelog;
  log(`restore: writing ${rows} rows to '${topic}'...`);
  await writeChangelog(topic, rows);
  const runs = [];
  for (let run = 1; run <= Number(process.env.BENCH_RUNS ?? 3); run++) {
    log(`restore: starting sidecar ${run}...`);
    const r = await restoreOnce(tenant, app);
    if (r.served_rows !== rows) throw new Error(`restore: the sidecar serves ${r.served_rows} rows, not ${rows}`);
    log(`restore: ${r.seconds_to_served} s to served (restore ${r.restore_seconds} s)`);
    runs.push(r);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  emit({
    bench: 'exactly-once.restore', rows, served_rows: rows,
    seconds_to_served: median(runs.map((r) => r.seconds_to_served)),
    restore_seconds: median(runs.map((r) => r.restore_seconds)),
    runs,
    goal_seconds: 5,
  });
}

/** Starts a sidecar on the app's changelog and times it from spawn to its grids served. */
async function restoreOnce(tenant, app) {
  const started = Date.now();
  const child = spawn(process.execPath, [join(root, 'sidecar/dist/main.js'), '--broker', broker, '--port', '0', '--app', app, '--tenant', tenant, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const url = await new Promise((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
        const m = /"http":"([^"]+)"/.exec(text);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`the sidecar exited (${code})`)));
    });
    let progressSeen = 0;
    const deadline = Date.now() + 5 * 60_000;
    while (Date.now() < deadline) {
      const ready = await (await fetch(`${url}readyz`)).json();
      if (ready.restore?.state === 'restoring' && ready.restore.records_read > 0) progressSeen += 1;
      if (ready.restore?.state === 'done') {
        const served = Date.now();
        const grids = await (await fetch(`${url}v1/grids`)).json();
        return {
          served_rows: grids.grids.find((g) => g.name === 'product_sum')?.rows ?? 0,
          seconds_to_served: (served - started) / 1000,
          restore_seconds: ready.restore.seconds,
          progress_polls_seen: progressSeen,
        };
      }
      await sleep(20);
    }
    throw new Error('restore: not done within 5 minutes');
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
}

/** One instance of the seed app as a pod runs it: the sidecar and the Python runtime. */
function startInstance({ tenant, topic, port, runtimePort }) {
  const sidecar = spawn(process.execPath, [join(root, 'sidecar/dist/main.js'), '--broker', broker, '--port', String(port),
    '--runtime-addr', `tcp://127.0.0.1:${runtimePort}`, '--app', 'ordersapp', '--tenant', tenant, '--log-level', process.env.BENCH_SIDECAR_LOG ?? 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const runtime = spawn(process.env.AEROGRID_PYTHON ?? 'python3', ['-m', 'aerogrid', 'run', join(root, 'test/fixtures/eo-orders/app.py')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PYTHONPATH: join(root, 'sdk/python'), AEROGRID_RUNTIME_ADDR: `tcp://127.0.0.1:${runtimePort}`, AEROGRID_CONNECT_TIMEOUT: '120', ORDERS_TOPIC: topic },
  });
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    kill: () => { for (const c of [sidecar, runtime]) c.kill('SIGKILL'); },
    status: () => status(url).catch(() => null),
  };
}

async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what, probe, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v) return v;
    await sleep(20);
  }
  throw new Error(`takeover: ${what} did not happen within ${ms / 1000} s`);
}

async function takeover() {
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const rate = Number(process.env.BENCH_RATE ?? 500);
  const tenant = `bench${stamp()}`;
  const topic = `bench-takeover-${stamp()}`;
  log(`takeover: writing ${rows} rows to the changelog...`);
  await writeChangelog(appKafkaNames(tenant, 'ordersapp').changelog, rows);
  await kafka.ensureTopic(topic, { partitions: 3 });
  const slots = [];
  for (let i = 0; i < 2; i++) slots.push({ tenant, topic, port: await freePort(), runtimePort: await freePort() });
  const instances = slots.map((s) => startInstance(s));
  let streaming = true;
  let sent = 0;
  const stream = (async () => {
    const started = Date.now();
    const until = started + 20 * 60_000;
    while (streaming && Date.now() < until) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      if (due > sent) {
        const messages = [];
        for (; sent < due; sent++) messages.push({ key: `order-${sent}`, value: JSON.stringify(randomOrder()) });
        await kafka.produce(topic, messages);
      }
      await sleep(20);
    }
  })();
  const runs = [];
  try {
    const roles = async () => Promise.all(instances.map(async (inst) => (await inst.status())?.state));
    log('takeover: waiting for one writer and one standby (each restores the changelog)...');
    for (let run = 1; run <= Number(process.env.BENCH_RUNS ?? 3); run++) {
      await waitUntil('one writer and one caught-up standby', async () => {
        const st = await Promise.all(instances.map((inst) => inst.status()));
        return st.some((s) => s?.state === 'running') && st.some((s) => s?.state === 'standby' && s.standby?.changelog_behind === 0);
      }, 5 * 60_000);
      const states = await roles();
      const a = states.indexOf('running');
      const b = 1 - a;
      // The standby's runtime is still loading the welcome snapshot for a while after its sidecar
      // has caught up (1M rows): a takeover right then waits for it. Measured in steady state.
      await sleep(Number(process.env.BENCH_SETTLE_MS ?? 10_000));
      const killedAt = Date.now();
      instances[a].kill();
      const served = await waitUntil('the standby committing', async () => {
        const s = await instances[b].status();
        return s?.role === 'active' && s.last_commit && Date.parse(s.last_commit.at) > killedAt ? s : null;
      }, 60_000);
      const seconds = (Date.parse(served.last_commit.at) - killedAt) / 1000;
      log(`takeover ${run}: ${seconds} s from kill -9 to the standby's first commit`);
      runs.push(seconds);
      await sleep(1000);
      instances[a] = startInstance(slots[a]);
    }
  } finally {
    streaming = false;
    await stream;
    for (const inst of instances) inst.kill();
  }
  const median = [...runs].sort((x, y) => x - y)[Math.floor(runs.length / 2)];
  emit({ bench: 'exactly-once.takeover', rows, orders_per_s: rate, seconds_to_serving: median, runs, session_timeout_ms: Number(process.env.AEROGRID_SESSION_TIMEOUT_MS ?? 2000), goal_seconds: 3 });
}

try {
  if (want('takeover')) await takeover();
  if (want('restore')) await restore();
  if (want('cost')) await cost();
} finally {
  await kafka.close();
}
