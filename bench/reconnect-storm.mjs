#!/usr/bin/env node
// Reconnect storm: BENCH_STORM_CLIENTS clients (default 1,000) on a 5,000-row grid of the `latest`
// app drop at once, stay away BENCH_OFFLINE_SECONDS (default 10) while 2% of the rows change, and
// reconnect at once: the time until every client holds the sidecar's grid again and the bytes
// they received, once resuming from their seq (docs/protocol.md §2 "Resume") and once asking for
// full snapshots. Goal: resuming sends at least 10x fewer bytes than snapshots.
// Usage: node bench/reconnect-storm.mjs  (BENCH_BROKER to use a running broker)
import { join } from 'node:path';
import { benchBroker, clientProcesses, emit, log, root, sleep, withLatestApp } from './lib/fanout.mjs';

const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const clients = Number(process.env.BENCH_STORM_CLIENTS ?? 1000);
const offline = Number(process.env.BENCH_OFFLINE_SECONDS ?? 10);
const keys = 5000;
const changed = keys / 50;

const broker = await benchBroker();
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-reconnect-storm' });
const topic = `bench-storm-${Date.now().toString(36)}`;
const tick = (i) => ({ key: `k${i}`, value: JSON.stringify({ key: `k${i}`, sent: Date.now() }) });
const env = { AEROGRID_WS_MAX_CONNECTIONS: String(2 * clients + 100), AEROGRID_WS_MAX_CONNECTIONS_PER_ADDRESS: String(2 * clients + 100) };
const rows = async (url) => (await (await fetch(`${url}v1/grids/latest`)).json()).rows;

try {
  await withLatestApp({ kafka, broker, topic, options: { env, tenant: `bench${Date.now().toString(36)}` } }, async (connector) => {
    for (let i = 0; i < keys; i += 1000) await kafka.produce(topic, Array.from({ length: 1000 }, (_, j) => tick(i + j)));
    const deadline = Date.now() + 60_000;
    while (Object.keys((await rows(connector.url)) ?? {}).length < keys && Date.now() < deadline) await sleep(200);
    const results = {};
    for (const mode of ['resume', 'snapshot']) {
      log(`reconnect-storm (${mode}): ${clients} clients...`);
      const procs = await clientProcesses(connector.url, 'latest', { count: clients, processes: 2, env: { RESUME: mode === 'resume' ? '1' : '0' } });
      await procs.send('drop');
      await sleep(500);
      await kafka.produce(topic, Array.from({ length: changed }, (_, i) => tick(i * 50)));
      await sleep(offline * 1000);
      const truth = await rows(connector.url);
      const t0 = Date.now();
      await procs.send('reconnect');
      const seconds = (Date.now() - t0) / 1000;
      const reports = await procs.send(`report ${Buffer.from(JSON.stringify(truth)).toString('base64')}`);
      await procs.close();
      results[mode] = {
        seconds_until_all_current: seconds,
        bytes: reports.reduce((n, r) => n + r.bytes, 0),
        clients_exact: reports.reduce((n, r) => n + r.exact, 0),
        resumed: reports.reduce((n, r) => n + r.resumes, 0),
        snapshots_after_reconnect: reports.reduce((n, r) => n + r.snapshots, 0) - clients,
      };
    }
    emit({
      bench: 'reconnect-storm', clients, grid_rows: keys, rows_changed_offline: changed, offline_seconds: offline, ...results,
      bytes_ratio_snapshot_to_resume: Math.round((results.snapshot.bytes / results.resume.bytes) * 10) / 10,
      goal: { bytes_ratio_at_least: 10 },
    });
  });
} finally {
  await kafka.close();
}
