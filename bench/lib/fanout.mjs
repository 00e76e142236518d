// Shared by the data-path benchmarks (datapath.mjs, auth-fanout.mjs): a connector running the
// `latest` bench app, a tick producer in its own process, process usage from /proc, and the
// fan-out measurement (N clients on one grid while ticks stream in).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { runConnector } = await import(join(root, 'dist/local/connector.js'));
const { GridClient } = await import(join(root, 'dist/client/grid-client.js'));

const run = promisify(execFile);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (m) => process.stderr.write(`${m}\n`);
export const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');
export const quiet = () => {};

/** CPU seconds (user+sys) and RSS in MiB of a process, from /proc. */
export function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  return { cpuSeconds: ticks / 100, rssMiB: rss };
}

export function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** Produces ticks for `keys` keys at `rate`/s for `seconds` in a child process, each stamped with its send time. */
export async function produceTicks(broker, topic, { rate, seconds, keys }) {
  const { stdout } = await run(process.execPath, [join(root, 'bench/lib/produce-ticks.mjs'), broker, topic, String(rate), String(seconds), String(keys)]);
  return Number(stdout.trim());
}

/** Runs the `latest` bench app on `topic` (created with 3 partitions) for the length of `fn`. */
export async function withLatestApp({ kafka, broker, topic, options = {} }, fn) {
  await kafka.ensureTopic(topic, { partitions: 3 });
  const connector = await runConnector({ dir: join(root, 'bench/apps/latest'), broker, port: 0, watch: false, env: { BENCH_TOPIC: topic }, log: quiet, ...options });
  try {
    return await fn(connector);
  } finally {
    // The topic stays: deleting a topic this producer wrote to makes kafkajs fail later sends.
    await connector.stop();
  }
}

/**
 * `clients` clients (made by `open(url, i)`, default a plain GridClient) subscribe to the
 * `keys`-row grid `latest`; then ticks stream in at `rate`/s for `seconds`. Measures how fast the
 * clients got their snapshots, what each receives, the sidecar's CPU and memory, and that every
 * client ends with the sidecar's grid.
 */
export async function measureFanout(connector, { broker, topic, clients, rate, seconds, keys, open = (url) => GridClient.connect(url), headers = {} }) {
  await produceTicks(broker, topic, { rate: keys * 10, seconds: 0.1, keys }); // fill the grid
  const sockets = [];
  const stats = [];
  const snapshots = { count: 0 };
  const connectStart = Date.now();
  for (let i = 0; i < clients; i++) {
    const client = await open(connector.url, i);
    const s = { messages: 0, rows: 0 };
    client.onUpdate = (_v, m) => {
      if (m.type === 'snapshot') snapshots.count++;
      s.messages++;
      s.rows += m.upserts ? Object.keys(m.upserts).length : 0;
    };
    client.subscribe('latest');
    sockets.push(client);
    stats.push(s);
  }
  const connectDeadline = Date.now() + 30_000;
  while (snapshots.count < clients && Date.now() < connectDeadline) await sleep(5);
  const connectSeconds = (Date.now() - connectStart) / 1000;
  if (snapshots.count < clients) throw new Error(`fanout: only ${snapshots.count} of ${clients} clients got their snapshot within 30 s`);
  await sleep(2000);
  for (const s of stats) { s.messages = 0; s.rows = 0; }
  const pid = connector.pids().sidecar;
  const before = usage(pid);
  const t0 = Date.now();
  let peakRss = before.rssMiB;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, usage(pid).rssMiB); }, 250);
  const produced = await produceTicks(broker, topic, { rate, seconds, keys });
  const elapsed = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const after = usage(pid);
  const received = stats.reduce((sum, s) => sum + s.messages, 0);
  // Every client must end with the same grid as the sidecar: wait (bounded) for the last deltas.
  const truth = (await (await fetch(`${connector.url}v1/grids/latest`, { headers })).json()).rows;
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
  return {
    clients, grid_rows: keys, updates_per_s: Math.round(produced / elapsed),
    connections_per_s: Math.round(clients / connectSeconds),
    messages_per_s: Math.round(received / elapsed),
    per_client_messages_per_s: { min: perClientMsgs[0], median: percentile(perClientMsgs, 50) },
    per_client_rows_per_s: { min: perClientRows[0], median: percentile(perClientRows, 50) },
    clients_converged: converged, seconds_to_converge_after_last_update: convergeSeconds,
    sidecar_cpu_percent: Math.round(((after.cpuSeconds - before.cpuSeconds) / elapsed) * 100),
    sidecar_rss_mib: { before: Math.round(before.rssMiB), peak: Math.round(peakRss), after: Math.round(after.rssMiB) },
  };
}
