#!/usr/bin/env node
// Excel add-in benchmark: produce-to-setResult latency of =AEROGRID.GRID on a 100-row grid at
// 1,000 records/s, and the bytes one cell update costs (the setResult value as JSON, and the
// WebSocket bytes the add-in received per update). Real Kafka (the benchmarks' own broker on port
// 19292), a real sidecar and Python runtime (bench/apps/latest), the built add-in in Debian's
// Chromium, with the test harness page standing in for Excel (Office.js cannot be fetched here).
// Usage: node bench/addin-latency.mjs   (BENCH_SECONDS, default 20). Goal: p99 under 250 ms.
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { kafkaUp } = await import(join(root, 'dist/local-kafka/broker.js'));
const { runConnector } = await import(join(root, 'dist/runner/connector.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const { buildAddin, serveAddin, harnessContext, openTaskPane } = await import(join(root, 'test/addin/harness/serve.mjs'));

const BENCH_PORT = 19292;
const RATE = 1000;
const KEYS = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const log = (m) => process.stderr.write(`${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const produceTicks = async (topic, seconds) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bench/lib/produce-ticks.mjs'), broker, topic, String(RATE), String(seconds), String(KEYS)]);
  return Number(stdout.trim());
};

const broker = (await kafkaUp({ port: BENCH_PORT, onProgress: log })).bootstrap;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-addin' });
const topic = `bench-addin-${Date.now().toString(36)}`;
await kafka.ensureTopic(topic, { partitions: 3 });
// A tenant of its own: the app's changelog starts empty, so the grid has exactly KEYS rows.
const tenant = `benchaddin${Date.now().toString(36)}`;
const connector = await runConnector({ dir: join(root, 'bench/apps/latest'), broker, port: 0, watch: false, tenant, env: { BENCH_TOPIC: topic }, log: () => {} });
const addin = await serveAddin(buildAddin());
const browser = await chromium.launch({ executablePath: process.env.AEROGRID_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const context = await harnessContext(browser, { platformUrl: connector.url });
  const page = await openTaskPane(context, addin.url);
  let wsBytes = 0;
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => { wsBytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length; }));
  await page.evaluate(() => {
    const h = window.harness;
    const cell = h.enter('GRID', ['latest', 'latest', 'sent', null]);
    const seen = new Map();
    window.bench = { measuring: false, samples: [], updates: 0, bytes: 0 };
    h.cells[cell].onResult = (value, now) => {
      if (!Array.isArray(value)) return;
      const b = window.bench;
      if (b.measuring) { b.updates++; b.bytes += JSON.stringify(value).length; }
      for (let i = 1; i < value.length; i++) {
        const [key, sent] = value[i];
        if (typeof sent === 'number' && sent > (seen.get(key) ?? 0)) {
          if (b.measuring) b.samples.push(now - sent);
          seen.set(key, sent);
        }
      }
    };
  });
  log(`addin-latency: warming up (${KEYS} keys)...`);
  await produceTicks(topic, 3);
  await sleep(1000);
  log(`addin-latency: ${RATE} records/s over ${KEYS} keys for ${SECONDS} s...`);
  await page.evaluate(() => { window.bench.measuring = true; });
  wsBytes = 0;
  const started = Date.now();
  const produced = await produceTicks(topic, SECONDS);
  await sleep(1000);
  const elapsed = (Date.now() - started) / 1000;
  const result = await page.evaluate(() => { window.bench.measuring = false; return window.bench; });
  const rows = await page.evaluate(() => window.harness.latest(0)?.length - 1);
  if (rows !== KEYS) throw new Error(`the cell shows ${rows} rows, expected ${KEYS}`);
  const samples = result.samples.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    bench: 'addin.latency', rate_per_s: RATE, grid_rows: KEYS, seconds: SECONDS, produced,
    samples: samples.length, p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99), max_ms: samples.at(-1),
    cell_updates_per_s: Math.round((result.updates / elapsed) * 10) / 10,
    set_result_bytes_per_update: Math.round(result.bytes / Math.max(1, result.updates)),
    websocket_bytes_per_update: Math.round(wsBytes / Math.max(1, result.updates)),
    goal_p99_ms: 250, load_average_1m: Math.round(loadavg()[0] * 10) / 10,
  }) + '\n');
} finally {
  await browser.close();
  await addin.close();
  await connector.stop();
  await kafka.close();
}
