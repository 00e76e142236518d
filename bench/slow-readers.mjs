#!/usr/bin/env node
// Slow readers: what clients that ask for the whole grid again and again without reading do to a
// sidecar (issue: "four clients ... /healthz answering in 6.8 s; six lost the Kafka group"). The
// `latest` app holds BENCH_KEYS rows (20,000); ticks stream in at BENCH_RATE/s (1,000) while one
// client reads. First BENCH_SECONDS (15) quiet, then as long again with BENCH_ATTACKERS (6)
// clients that stop reading and each send 60 subscribes. Per phase: the event loop's delay (the
// sidecar's own aerogrid_event_loop_delay_seconds, the worst p99 and max sampled), how long
// /healthz takes, the reader's produce-to-client latency, the sidecar's peak RSS, and at the
// end the attackers dropped (by reason: the whole-sidecar budget or one client's backlog) and
// whether the reader still holds the exact grid.
// Goal: the loop delay's p99 stays under 100 ms and the reader keeps up.
// Usage: node bench/slow-readers.mjs  (BENCH_BROKER to use a running broker)
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { benchBroker, emit, fillGrid, log, percentile, produceTicks, root, sleep, usage, withLatestApp } from './lib/fanout.mjs';

const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const { GridClient } = await import(join(root, 'test/helpers/grid-client.mjs'));
const WebSocket = createRequire(join(root, 'package.json'))('ws');
const { CLIENT_PROTOCOL } = await import('@aerogrid/protocol/client-messages');

const keys = Number(process.env.BENCH_KEYS ?? 20_000);
const rate = Number(process.env.BENCH_RATE ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const attackers = Number(process.env.BENCH_ATTACKERS ?? 6);

const broker = await benchBroker();
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-slow-readers' });
const topic = `bench-slow-${Date.now().toString(36)}`;

/** The sidecar's loop delay quantiles (seconds) and its drops by reason, from /metrics. */
async function sample(url) {
  const text = await (await fetch(`${url}metrics`)).text();
  const delay = (q) => Number(new RegExp(`^aerogrid_event_loop_delay_seconds\\{[^}]*quantile="${q}"[^}]*\\} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const drops = {};
  for (const m of text.matchAll(/^aerogrid_ws_dropped_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)/gm)) drops[m[1]] = (drops[m[1]] ?? 0) + Number(m[2]);
  return { p99: delay('0.99'), max: delay('1'), drops };
}

async function phase(name, connector, reader) {
  const pid = connector.pids().sidecar;
  const delays = [];
  reader.onUpdate = (_view, m) => {
    if (m.type !== 'delta') return;
    const now = Date.now();
    for (const row of Object.values(m.upserts)) if (typeof row.sent === 'number') delays.push(now - row.sent);
  };
  const healthz = [];
  let worstP99 = 0, worstMax = 0, peakRss = usage(pid).rssMiB, sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const t0 = performance.now();
      const ok = (await fetch(`${connector.url}healthz`, { signal: AbortSignal.timeout(30_000) }).catch(() => null))?.ok;
      healthz.push(ok ? performance.now() - t0 : Infinity);
      const s = await sample(connector.url).catch(() => null);
      if (s) { worstP99 = Math.max(worstP99, s.p99 || 0); worstMax = Math.max(worstMax, s.max || 0); }
      peakRss = Math.max(peakRss, usage(pid).rssMiB);
      await sleep(200);
    }
  })();
  const t0 = Date.now();
  const produced = await produceTicks(broker, topic, { rate, seconds, keys });
  const elapsed = (Date.now() - t0) / 1000;
  sampling = false;
  await sampler;
  reader.onUpdate = null;
  const sorted = delays.sort((a, b) => a - b);
  const h = healthz.sort((a, b) => a - b);
  const result = {
    bench: 'slow-readers', phase: name, attackers: name === 'attack' ? attackers : 0, grid_rows: keys,
    produced_per_s: Math.round(produced / elapsed),
    loop_delay_ms: { worst_p99: Math.round(worstP99 * 1000), worst_max: Math.round(worstMax * 1000) },
    healthz_ms: { p50: Math.round(percentile(h, 50)), max: Math.round(h.at(-1)) },
    reader_latency_ms: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), rows: sorted.length },
    sidecar_rss_mib_peak: Math.round(peakRss),
    goal: 'loop delay p99 < 100 ms, the reader keeps up',
  };
  emit(result);
  return result;
}

try {
  await withLatestApp({ kafka, broker, topic, options: { tenant: `bench${Date.now().toString(36)}` } }, async (connector) => {
    await fillGrid(broker, topic, keys);
    const deadline = Date.now() + 60_000;
    const count = async () => Object.keys((await (await fetch(`${connector.url}v1/grids/latest`)).json()).rows ?? {}).length;
    while ((await count()) < keys && Date.now() < deadline) await sleep(250);
    const reader = await GridClient.connect(connector.url);
    reader.subscribe('latest');
    while (!reader.rows('latest') && Date.now() < deadline) await sleep(50);
    log(`slow-readers: ${keys} rows, ${rate} ticks/s; ${seconds} s quiet...`);
    await phase('quiet', connector, reader);

    log(`slow-readers: ${attackers} clients that ask and do not read, ${seconds} s...`);
    const sockets = [];
    for (let i = 0; i < attackers; i++) {
      const ws = new WebSocket(`${connector.url.replace(/^http/, 'ws')}v1/ws`, CLIENT_PROTOCOL, { perMessageDeflate: false });
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      ws._socket.pause();
      for (let j = 0; j < 60; j++) ws.send(JSON.stringify({ op: 'subscribe', id: `a${j}`, grid: 'latest' }));
      sockets.push(ws);
    }
    await phase('attack', connector, reader);
    const stillOpen = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
    for (const ws of sockets) ws.terminate();

    // The reader must end with the sidecar's grid (bounded wait for the last deltas).
    const canonical = (rows) => JSON.stringify(Object.entries(rows ?? {}).sort(([a], [b]) => a.localeCompare(b)));
    const truth = canonical((await (await fetch(`${connector.url}v1/grids/latest`)).json()).rows);
    const settle = Date.now() + 20_000;
    while (canonical(reader.rows('latest')) !== truth && Date.now() < settle) await sleep(250);
    const ready = (await fetch(`${connector.url}readyz`)).status === 200;
    emit({
      bench: 'slow-readers', phase: 'after', attackers_dropped: (await sample(connector.url)).drops,
      attackers_still_open: stillOpen, reader_exact: canonical(reader.rows('latest')) === truth, sidecar_ready: ready,
    });
    await reader.close();
  });
} finally {
  await kafka.close();
}
