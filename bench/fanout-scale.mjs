#!/usr/bin/env node
// Fan-out at scale: BENCH_CLIENTS WebSocket clients (default 5,000) spread over BENCH_CLIENT_PROCS
// client processes (default 2; the Go client bench/fanout-client, BENCH_CLIENT=node for the Node one) on one sidecar, each subscribed to a 1,000-row grid of the `latest`
// app while ticks stream in at 5,000 updates/s (real Kafka, sidecar, runtime):
// produce-to-client p50/p99, sidecar CPU and RSS, bytes per client per second, clients dropped,
// and that every client ends with the sidecar's grid exactly.
// Goal: p99 under 250 ms, RSS under 1 GiB, no client dropped that keeps reading.
// Usage: node bench/fanout-scale.mjs  (BENCH_SECONDS, default 20; BENCH_BROKER to use a running broker;
// BENCH_SIDECAR_CPU_PROF=DIR for the sidecar's CPU profile)
import { benchBroker, clientProcesses, emit, fillGrid, log, percentile, produceTicks, root, schedstat, sleep, usage, withLatestApp } from './lib/fanout.mjs';
import { join } from 'node:path';
import { loadavg } from 'node:os';

const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const clients = Number(process.env.BENCH_CLIENTS ?? 5000);
const processes = Number(process.env.BENCH_CLIENT_PROCS ?? 2);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rate = 5000;
const keys = 1000;

const broker = await benchBroker();
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-fanout-scale' });
const topic = `bench-fanout-scale-${Date.now().toString(36)}`;
// Every client comes from 127.0.0.1: the per-address cap must let them all in.
const env = { AEROGRID_WS_MAX_CONNECTIONS: String(clients + 100), AEROGRID_WS_MAX_CONNECTIONS_PER_ADDRESS: String(clients + 100) };
// BENCH_SIDECAR_CPU_PROF=DIR: the sidecar writes a V8 CPU profile (.cpuprofile) into DIR when it stops.
if (process.env.BENCH_SIDECAR_CPU_PROF) {
  env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${join(root, 'bench/lib/cpu-profile.cjs')}`.trim();
  env.BENCH_CPU_PROF_DIR = process.env.BENCH_SIDECAR_CPU_PROF;
}
try {
  await withLatestApp({ kafka, broker, topic, options: { env, tenant: `bench${Date.now().toString(36)}` } }, async (connector) => {
    await fillGrid(broker, topic, keys);
    await sleep(1000);
    log(`fanout-scale: connecting ${clients} clients from ${processes} processes...`);
    const t0 = Date.now();
    const procs = await clientProcesses(connector.url, 'latest', { count: clients, processes });
    const connectSeconds = (Date.now() - t0) / 1000;
    const pid = connector.pids().sidecar;
    await sleep(2000);
    await procs.send('measure');
    const before = usage(pid);
    const schedBefore = schedstat(pid);
    const clientsBefore = procs.pids.map(usage);
    let peak = before.rssMiB;
    const sampler = setInterval(() => { peak = Math.max(peak, usage(pid).rssMiB); }, 250);
    log(`fanout-scale: ${rate} updates/s for ${seconds} s...`);
    const started = Date.now();
    const produced = await produceTicks(broker, topic, { rate, seconds, keys });
    const elapsed = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const after = usage(pid);
    const schedAfter = schedstat(pid);
    const clientsAfter = procs.pids.map(usage);
    await sleep(3000);
    const report = async () => {
      const truth = (await (await fetch(`${connector.url}v1/grids/latest`)).json()).rows;
      return procs.send(`report ${Buffer.from(JSON.stringify(truth)).toString('base64')}`);
    };
    const exact = (rs) => rs.reduce((n, r) => n + r.exact, 0);
    const reports = await report();
    // Clients still behind get (bounded) time to catch up before exactness is counted; the
    // figures of traffic and delay are those of the first report.
    const settleStart = Date.now();
    let clientsExact = exact(reports);
    while (clientsExact < clients && Date.now() - settleStart < 20_000) {
      await sleep(1000);
      clientsExact = exact(await report());
    }
    const settleSeconds = (Date.now() - settleStart) / 1000;
    // The sidecar's own count of the clients it dropped, by reason (docs/protocol.md "Keepalive and drops").
    const metrics = await (await fetch(`${connector.url}metrics`)).text();
    const droppedBy = Object.fromEntries([...metrics.matchAll(/^aerogrid_ws_dropped_total\{[^}]*reason="(\w+)"[^}]*\} (\d+)/gm)].map(([, r, n]) => [r, Number(n)]));
    await procs.close();
    const delays = reports.flatMap((r) => r.delays).sort((a, b) => a - b);
    const bytes = reports.reduce((n, r) => n + r.bytes, 0);
    emit({
      bench: 'fanout-scale', clients, client_processes: processes, client: process.env.BENCH_CLIENT ?? 'go', grid_rows: keys, updates_per_s: Math.round(produced / elapsed),
      connect_seconds: connectSeconds,
      produce_to_client_ms: { p50: percentile(delays, 50), p99: percentile(delays, 99), samples: delays.length },
      sidecar_cpu_percent: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 100),
      // Its main thread's time runnable but waiting for a CPU: starved by the machine when high.
      sidecar_main_thread_waiting_percent: Math.round(((schedAfter.waitSeconds - schedBefore.waitSeconds) / elapsed) * 100),
      sidecar_rss_mib: { before: Math.round(before.rssMiB), peak: Math.round(peak), after: Math.round(after.rssMiB) },
      client_cpu_percent: Math.round((clientsAfter.reduce((n, u, i) => n + u.cpuSeconds - clientsBefore[i].cpuSeconds, 0) / elapsed) * 100),
      load_average_1m: Math.round(loadavg()[0] * 100) / 100,
      bytes_per_client_per_s: Math.round(bytes / clients / (elapsed + 3)),
      clients_exact: clientsExact, seconds_to_exact_after_first_report: settleSeconds,
      clients_dropped: reports.reduce((n, r) => n + r.closed, 0),
      sidecar_dropped_by_reason: droppedBy,
      // How the dropped clients' connections ended, as they saw it (the Go client only).
      client_closes: reports.reduce((all, r) => { for (const [why, n] of Object.entries(r.closes ?? {})) all[why] = (all[why] ?? 0) + n; return all; }, {}),
      goal: { p99_ms: 250, rss_mib: 1024, dropped: 0 },
    });
  });
} finally {
  await kafka.close();
}
