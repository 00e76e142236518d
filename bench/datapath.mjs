#!/usr/bin/env node
// Data-path benchmarks on a real Kafka broker (its own, on port 19292), real sidecar and runtime:
//   throughput  1,000,000 orders pre-loaded in 3 partitions through the seed app verbatim
//   latency     produce-to-WebSocket-client p50/p99 at a steady 5,000 records/s
//   fanout      200 clients on a 1,000-row grid at 5,000 updates/s: what each receives, sidecar CPU/RSS
// Usage: node bench/datapath.mjs [throughput] [latency] [fanout]   (default: all three)
// Every loop is bounded in count and time; everything listens on loopback.
import { join } from 'node:path';
import { emit, log, metric, percentile, produceTicks, quiet, root, sleep, withLatestApp, measureFanout } from './lib/fanout.mjs';

const { kafkaUp } = await import(join(root, 'dist/local-kafka/broker.js'));
const { runConnector } = await import(join(root, 'dist/runner/connector.js'));
const { GridClient } = await import(join(root, 'test/helpers/grid-client.mjs'));
const { randomOrder } = await import(join(root, 'dist/demo/orders.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));

const BENCH_PORT = 19292;
const which = process.argv.slice(2);
const want = (name) => which.length === 0 || which.includes(name);

const broker = (await kafkaUp({ port: BENCH_PORT, onProgress: log })).bootstrap;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench' });

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

async function fanout() {
  const clients = 200;
  const rate = 5000;
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  const keys = 1000;
  log(`fanout: ${clients} clients, ${keys}-row grid, ${rate} updates/s for ${seconds} s...`);
  const topic = `bench-fanout-${Date.now().toString(36)}`;
  await withLatestApp({ kafka, broker, topic }, async (connector) => {
    emit({ bench: 'datapath.fanout', ...(await measureFanout(connector, { broker, topic, clients, rate, seconds, keys })) });
  });
}

async function latency() {
  const topic = `bench-latency-${Date.now().toString(36)}`;
  const rate = 5000;
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  log(`latency: ${rate} records/s for ${seconds} s...`);
  await withLatestApp({ kafka, broker, topic }, async (connector) => {
    const client = await GridClient.connect(connector.url);
    const samples = [];
    let measuring = false;
    client.onUpdate = (_view, message) => {
      if (!measuring || message.type !== 'delta') return;
      const now = Date.now();
      for (const row of Object.values(message.upserts)) samples.push(now - row.sent);
    };
    client.subscribe('latest');
    await produceTicks(broker, topic, { rate, seconds: 3, keys: 100 }); // warm-up
    measuring = true;
    const produced = await produceTicks(broker, topic, { rate, seconds, keys: 100 });
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

