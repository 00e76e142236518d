#!/usr/bin/env node
// Data-path benchmarks on a real Kafka broker (its own, on port 19292), real sidecar and runtime:
//   throughput  1,000,000 orders pre-loaded in 3 partitions through the seed app verbatim
//   latency     produce-to-WebSocket-client p50/p99 at a steady 5,000 records/s
//   fanout      200 clients on a 1,000-row grid at 5,000 updates/s: what each receives, sidecar CPU/RSS
// Usage: node bench/datapath.mjs [throughput] [latency] [fanout]   (default: all three)
// Every loop is bounded in count and time; everything listens on loopback.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { kafkaUp } = await import(join(root, 'dist/kafka/broker.js'));
const { runConnector } = await import(join(root, 'dist/local/connector.js'));
const { GridClient } = await import(join(root, 'dist/client/grid-client.js'));
const { randomOrder } = await import(join(root, 'dist/demo/orders.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));

const BENCH_PORT = 19292;
const run = promisify(execFile);
const which = process.argv.slice(2);
const want = (name) => which.length === 0 || which.includes(name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`${m}\n`);
const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');

const broker = (await kafkaUp({ port: BENCH_PORT, onProgress: log })).bootstrap;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench' });
const quiet = () => {};

async function metric(url, name) {
  const text = await (await fetch(`${url}metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** CPU seconds (user+sys) and RSS in MiB of a process, from /proc. */
function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  return { cpuSeconds: ticks / 100, rssMiB: rss };
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function throughput() {
  const N = Number(process.env.BENCH_ORDERS ?? 1_000_000);
  log(`throughput: pre-loading ${N} orders into 'orders' (3 partitions)...`);
  await kafka.deleteTopic('orders').catch(() => {});
  await kafka.ensureTopic('orders', { partitions: 3 });
  const chunk = 10_000;
  for (let i = 0; i < N; i += chunk) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + chunk); j++) messages.push({ key: `order-${j}`, value: JSON.stringify(randomOrder()) });
    await kafka.produce('orders', messages);
  }
  log('throughput: running the seed app...');
  const started = Date.now();
  const connector = await runConnector({ dir: join(root, 'examples/ordersapp'), broker, port: 0, watch: false, tenant: `bench${Date.now().toString(36)}`, log: quiet });
  let first = 0;
  let done = 0;
  const deadline = Date.now() + 15 * 60_000;
  while (Date.now() < deadline) {
    const n = await metric(connector.url, 'aerogrid_records_total');
    if (n > 0 && !first) first = Date.now();
    if (n >= N) { done = Date.now(); break; }
    await sleep(100);
  }
  await connector.stop();
  if (!done) throw new Error('throughput: the app did not process every order within 15 minutes');
  emit({
    bench: 'datapath.throughput', records: N,
    seconds: (done - started) / 1000,
    records_per_s: Math.round(N / ((done - first) / 1000)),
    records_per_s_including_startup: Math.round(N / ((done - started) / 1000)),
    goal_records_per_s: 50_000,
  });
}

/** Produces ticks for `keys` keys at `rate`/s for `seconds` in a child process, each stamped with its send time. */
async function produceTicks(topic, { rate, seconds, keys }) {
  const { stdout } = await run(process.execPath, [join(root, 'bench/lib/produce-ticks.mjs'), broker, topic, String(rate), String(seconds), String(keys)]);
  return Number(stdout.trim());
}

async function withLatestApp(topic, fn) {
  await kafka.ensureTopic(topic, { partitions: 3 });
  const connector = await runConnector({ dir: join(root, 'bench/apps/latest'), broker, port: 0, watch: false, env: { BENCH_TOPIC: topic }, log: quiet });
  try {
    return await fn(connector);
  } finally {
    // The topic stays: deleting a topic this producer wrote to makes kafkajs fail later sends.
    await connector.stop();
  }
}

async function fanout() {
  const clients = 200;
  const rate = 5000;
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  const keys = 1000;
  log(`fanout: ${clients} clients, ${keys}-row grid, ${rate} updates/s for ${seconds} s...`);
  const topic = `bench-fanout-${Date.now().toString(36)}`;
  await withLatestApp(topic, async (connector) => {
    await produceTicks(topic, { rate: keys * 10, seconds: 0.1, keys }); // fill the grid
    const sockets = [];
    const stats = [];
    for (let i = 0; i < clients; i++) {
      const client = await GridClient.connect(connector.url);
      const s = { messages: 0, rows: 0 };
      client.onUpdate = (_v, m) => { s.messages++; s.rows += m.upserts ? Object.keys(m.upserts).length : 0; };
      client.subscribe('latest');
      sockets.push(client);
      stats.push(s);
    }
    await sleep(2000);
    for (const s of stats) { s.messages = 0; s.rows = 0; }
    const pid = connector.pids().sidecar;
    const before = usage(pid);
    const t0 = Date.now();
    let peakRss = before.rssMiB;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, usage(pid).rssMiB); }, 250);
    const produced = await produceTicks(topic, { rate, seconds, keys });
    const elapsed = (Date.now() - t0) / 1000;
    clearInterval(sampler);
    const after = usage(pid);
    // Every client must end with the same grid as the sidecar: wait (bounded) for the last deltas.
    const truth = (await (await fetch(`${connector.url}v1/grids/latest`)).json()).rows;
    const canonical = (rows) => JSON.stringify(Object.entries(rows ?? {}).sort(([a], [b]) => a.localeCompare(b)));
    const expected = canonical(truth);
    const countConverged = () => sockets.filter((c) => canonical(c.rows('latest')) === expected).length;
    const settleStart = Date.now();
    let converged = countConverged();
    while (converged < clients && Date.now() - settleStart < 20_000) {
      await sleep(250);
      converged = countConverged();
    }
    const convergeSeconds = (Date.now() - settleStart) / 1000;
    await Promise.all(sockets.map((c) => c.close()));
    const perClientMsgs = stats.map((s) => s.messages / elapsed).sort((a, b) => a - b);
    const perClientRows = stats.map((s) => s.rows / elapsed).sort((a, b) => a - b);
    emit({
      bench: 'datapath.fanout', clients, grid_rows: keys, updates_per_s: Math.round(produced / elapsed),
      per_client_messages_per_s: { min: perClientMsgs[0], median: percentile(perClientMsgs, 50) },
      per_client_rows_per_s: { min: perClientRows[0], median: percentile(perClientRows, 50) },
      clients_converged: converged, seconds_to_converge_after_last_update: convergeSeconds,
      sidecar_cpu_percent: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 100),
      sidecar_rss_mib: { before: Math.round(before.rssMiB), peak: Math.round(peakRss), after: Math.round(after.rssMiB) },
    });
  });
}

async function latency() {
  const topic = `bench-latency-${Date.now().toString(36)}`;
  const rate = 5000;
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  log(`latency: ${rate} records/s for ${seconds} s...`);
  await withLatestApp(topic, async (connector) => {
    const client = await GridClient.connect(connector.url);
    const samples = [];
    let measuring = false;
    client.onUpdate = (_view, message) => {
      if (!measuring || message.type !== 'delta') return;
      const now = Date.now();
      for (const row of Object.values(message.upserts)) samples.push(now - row.sent);
    };
    client.subscribe('latest');
    await produceTicks(topic, { rate, seconds: 3, keys: 100 }); // warm-up
    measuring = true;
    const produced = await produceTicks(topic, { rate, seconds, keys: 100 });
    await sleep(1000);
    measuring = false;
    await client.close();
    samples.sort((a, b) => a - b);
    emit({
      bench: 'datapath.latency', rate_per_s: rate, seconds, produced, samples: samples.length,
      p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99), max_ms: samples.at(-1), goal_p99_ms: 100,
    });
  });
}

try {
  if (want('throughput')) await throughput();
  if (want('latency')) await latency();
  if (want('fanout')) await fanout();
} finally {
  await kafka.close();
}

