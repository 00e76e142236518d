// Shared by the data-path benchmarks (datapath.mjs, auth-fanout.mjs): a connector running the
// `latest` bench app, a tick producer in its own process, process usage from /proc, and the
// fan-out measurement (N clients on one grid while ticks stream in).
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { promisify } from 'node:util';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { runConnector } = await import(join(root, 'dist/runner/connector.js'));
const { aerogridHome } = await import(join(root, 'dist/paths.js'));
const { GridClient } = await import(join(root, 'test/helpers/grid-client.mjs'));

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

/**
 * PSS in MiB: RSS with every page shared by n processes counted 1/n in each. Many sidecars share
 * Node's binary pages (about 40 MiB of each one's RSS), so PSS is what one more app costs a machine.
 */
export function pssMiB(pid) {
  return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]) / 1024;
}

/**
 * Seconds the process's main thread ran and waited runnable for a CPU, from /proc (schedstat):
 * on a busy machine a process can be starved while its own CPU use looks low.
 */
export function schedstat(pid) {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { runSeconds: run / 1e9, waitSeconds: wait / 1e9 };
}

/** A sample of the sidecar's /metrics at `url` (its first series of `name`), 0 when absent. */
export async function metric(url, name) {
  const text = await (await fetch(`${url}metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
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
  const connector = await runConnector({ dir: join(root, 'bench/apps/latest'), broker, port: 0, watch: false, log: quiet, ...options, env: { ...options.env, BENCH_TOPIC: topic } });
  try {
    return await fn(connector);
  } finally {
    // The topic stays: deleting a topic this producer wrote to makes kafkajs fail later sends.
    await connector.stop();
  }
}

/**
 * Opens `clients` clients on `url` (made by `open(url, i)`, default a plain GridClient), each
 * subscribing to the grid `latest`, one after another; resolves once every snapshot is in.
 * `connectSeconds`: from the first open to the last snapshot.
 */
export async function connectClients(url, { clients, open = (u) => GridClient.connect(u) }) {
  const sockets = [];
  const stats = [];
  let snapshots = 0;
  const started = Date.now();
  for (let i = 0; i < clients; i++) {
    const client = await open(url, i);
    const s = { messages: 0, rows: 0 };
    client.onUpdate = (_v, m) => {
      if (m.type === 'snapshot') snapshots++;
      s.messages++;
      s.rows += m.upserts ? Object.keys(m.upserts).length : 0;
    };
    client.subscribe('latest');
    sockets.push(client);
    stats.push(s);
  }
  const deadline = Date.now() + 30_000;
  while (snapshots < clients && Date.now() < deadline) await sleep(5);
  if (snapshots < clients) throw new Error(`fanout: only ${snapshots} of ${clients} clients got their snapshot within 30 s`);
  return { sockets, stats, connectSeconds: (Date.now() - started) / 1000, close: () => Promise.all(sockets.map((c) => c.close())) };
}

/**
 * Ticks stream in at `rate`/s for `seconds` while every target's clients (from connectClients)
 * listen: what each client receives, each sidecar's CPU and memory over the same window, and
 * that every client ends with its sidecar's grid. One result per target.
 */
export async function steadyState(targets, { broker, topic, rate, seconds, keys }) {
  for (const t of targets) for (const s of t.stats) { s.messages = 0; s.rows = 0; }
  const pids = targets.map((t) => t.connector.pids().sidecar);
  const before = pids.map(usage);
  const peakRss = before.map((u) => u.rssMiB);
  const sampler = setInterval(() => pids.forEach((pid, i) => { peakRss[i] = Math.max(peakRss[i], usage(pid).rssMiB); }), 250);
  const t0 = Date.now();
  const produced = await produceTicks(broker, topic, { rate, seconds, keys });
  const elapsed = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const after = pids.map(usage);
  const received = targets.map((t) => t.stats.reduce((sum, s) => sum + s.messages, 0));
  const canonical = (rows) => JSON.stringify(Object.entries(rows ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  const results = [];
  for (const [i, t] of targets.entries()) {
    // Every client must end with the same grid as the sidecar: wait (bounded) for the last deltas.
    const truth = (await (await fetch(`${t.connector.url}v1/grids/latest`, { headers: t.headers ?? {} })).json()).rows;
    const expected = canonical(truth);
    const countConverged = () => t.sockets.filter((c) => canonical(c.rows('latest')) === expected).length;
    const settleStart = Date.now();
    let converged = countConverged();
    while (converged < t.sockets.length && Date.now() - settleStart < 20_000) {
      await sleep(250);
      converged = countConverged();
    }
    const perClientMsgs = t.stats.map((s) => s.messages / elapsed).sort((a, b) => a - b);
    const perClientRows = t.stats.map((s) => s.rows / elapsed).sort((a, b) => a - b);
    results.push({
      clients: t.sockets.length, grid_rows: keys, updates_per_s: Math.round(produced / elapsed),
      messages_per_s: Math.round(received[i] / elapsed),
      per_client_messages_per_s: { min: perClientMsgs[0], median: percentile(perClientMsgs, 50) },
      per_client_rows_per_s: { min: perClientRows[0], median: percentile(perClientRows, 50) },
      clients_converged: converged, seconds_to_converge_after_last_update: (Date.now() - settleStart) / 1000,
      sidecar_cpu_percent: Math.round(((after[i].cpuSeconds - before[i].cpuSeconds) / elapsed) * 100),
      sidecar_rss_mib: { before: Math.round(before[i].rssMiB), peak: Math.round(peakRss[i]), after: Math.round(after[i].rssMiB) },
    });
  }
  return results;
}

/** Fills the grid, connects `clients` clients, then measures the steady state (see steadyState). */
export async function measureFanout(connector, { broker, topic, clients, rate, seconds, keys, open, headers = {} }) {
  await fillGrid(broker, topic, keys);
  const connected = await connectClients(connector.url, { clients, open });
  await sleep(2000);
  const [result] = await steadyState([{ connector, headers, ...connected }], { broker, topic, rate, seconds, keys });
  await connected.close();
  return { ...result, connections_per_s: Math.round(clients / connected.connectSeconds) };
}

/** One update per key, so that the grid has all its rows. */
export function fillGrid(broker, topic, keys) {
  return produceTicks(broker, topic, { rate: keys * 10, seconds: 0.1, keys });
}

/**
 * The Go fan-out client (bench/fanout-client), built once per version of its sources into
 * $AEROGRID_HOME/bench/fanout-client-<sha256 of the sources>: the path of the binary.
 */
export function fanoutClientBinary() {
  const dir = join(root, 'bench/fanout-client');
  const sources = readdirSync(dir).filter((f) => (f.endsWith('.go') && !f.endsWith('_test.go')) || f === 'go.mod' || f === 'go.sum').sort();
  const hash = createHash('sha256');
  for (const f of sources) hash.update(`${f}\0`).update(readFileSync(join(dir, f))).update('\0');
  const out = join(aerogridHome(), 'bench', `fanout-client-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error('the fan-out benchmarks build their clients from bench/fanout-client with Go (1.22 or later), and `go` is not on PATH: '
      + 'install Go (https://go.dev/dl/) and put its bin directory on PATH, or run the Node clients instead with BENCH_CLIENT=node');
  }
  log(`fanout: building the Go client into ${out} (once per version of its sources)...`);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const build = spawnSync('go', ['build', '-trimpath', '-o', tmp, '.'], {
    cwd: dir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' },
  });
  if (build.status !== 0) throw new Error(`fanout: 'go build' in bench/fanout-client failed (exit ${build.status}); it needs Go 1.22+ and the Go module proxy (or a module cache holding github.com/gorilla/websocket v1.5.3)`);
  renameSync(tmp, out);
  return out;
}

/** How a client process is started: the Go client (default), or BENCH_CLIENT=node for bench/lib/fanout-clients.mjs. */
function clientCommand() {
  const kind = process.env.BENCH_CLIENT ?? 'go';
  if (kind === 'node') return [process.execPath, [join(root, 'bench/lib/fanout-clients.mjs')]];
  if (kind === 'go') return [fanoutClientBinary(), []];
  throw new Error(`BENCH_CLIENT is '${kind}': choose go (bench/fanout-client, the default) or node (bench/lib/fanout-clients.mjs)`);
}

/**
 * Client processes (the Go client bench/fanout-client, or with BENCH_CLIENT=node
 * bench/lib/fanout-clients.mjs; both speak the same line protocol), `count` clients spread over
 * `processes`, all on `url`'s grid: `send(command)` tells every process and resolves with each
 * one's answer line.
 */
export async function clientProcesses(url, grid, { count, processes, env = {} }) {
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  const [command, prefix] = clientCommand();
  const per = Math.ceil(count / processes);
  const children = [];
  for (let i = 0; i < processes && i * per < count; i++) {
    const n = Math.min(per, count - i * per);
    const child = spawn(command, [...prefix, `${url.replace(/^http/, 'ws')}v1/ws`, grid, String(n)], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    const lines = createInterface({ input: child.stdout });
    const waiting = [];
    lines.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
    const next = () => new Promise((resolve, reject) => {
      const exited = (code) => reject(new Error(`a client process exited (${code})`));
      child.once('exit', exited);
      waiting.push((answer) => { child.off('exit', exited); resolve(answer); });
    });
    children.push({ child, next, ready: next() });
  }
  await Promise.all(children.map((c) => c.ready));
  return {
    pids: children.map((c) => c.child.pid),
    send: (command) => Promise.all(children.map((c) => { const answer = c.next(); c.child.stdin.write(`${command}\n`); return answer; })),
    close: () => Promise.all(children.map((c) => new Promise((resolve) => { c.child.once('exit', resolve); c.child.stdin.write('exit\n'); }))),
  };
}

/** The benchmarks' broker: BENCH_BROKER (an existing one) or their own on port 19292. */
export async function benchBroker() {
  if (process.env.BENCH_BROKER) return process.env.BENCH_BROKER;
  const { kafkaUp } = await import(join(root, 'dist/local-kafka/broker.js'));
  return (await kafkaUp({ port: 19292, onProgress: log })).bootstrap;
}
