#!/usr/bin/env node
// Many apps on one machine, idle: BENCH_APPS apps (default 20) of the `latest` bench app, each a
// sidecar and a Python runtime as the local runner starts them (runConnector, what
// `aerogrid serve --run local` runs per app), on one broker; after BENCH_SETTLE_SECONDS (10) the
// RSS of every sidecar and runtime: total, per app, and the largest app.
// Goal: an idle app (sidecar + runtime) under 80 MB.
// Usage: node bench/idle-apps.mjs  (BENCH_BROKER to use a running broker)
import { join } from 'node:path';
import { benchBroker, emit, log, quiet, root, sleep, usage } from './lib/fanout.mjs';

const { runConnector } = await import(join(root, 'dist/runner/connector.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const apps = Number(process.env.BENCH_APPS ?? 20);
const settle = Number(process.env.BENCH_SETTLE_SECONDS ?? 10);

const broker = await benchBroker();
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-idle-apps' });
const run = Date.now().toString(36);
const connectors = [];
try {
  for (let i = 0; i < apps; i++) {
    const topic = `bench-idle-${run}-${i}`;
    await kafka.ensureTopic(topic, { partitions: 1 });
    connectors.push(await runConnector({ dir: join(root, 'bench/apps/latest'), broker, port: 0, watch: false, tenant: `idle${run}${i}`, log: quiet, env: { BENCH_TOPIC: topic } }));
    log(`idle-apps: ${i + 1} of ${apps} running`);
  }
  await sleep(settle * 1000);
  const perApp = connectors.map((c) => {
    const { sidecar, runtime } = c.pids();
    const s = usage(sidecar).rssMiB;
    const r = usage(runtime).rssMiB;
    return { sidecar: s, runtime: r, app: s + r };
  });
  const sum = (f) => perApp.reduce((n, a) => n + f(a), 0);
  const round = (n) => Math.round(n * 10) / 10;
  emit({
    bench: 'idle-apps', apps,
    total_rss_mib: round(sum((a) => a.app)),
    per_app_rss_mib: { mean: round(sum((a) => a.app) / apps), sidecar_mean: round(sum((a) => a.sidecar) / apps), runtime_mean: round(sum((a) => a.runtime) / apps), largest: round(Math.max(...perApp.map((a) => a.app))) },
    goal: { per_app_mb: 80 },
  });
} finally {
  for (const c of connectors) await c.stop();
  await kafka.close();
}
