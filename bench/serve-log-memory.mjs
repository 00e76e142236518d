#!/usr/bin/env node
// serve's memory when an app prints one 100 MB line (issue 15 item 9): real `aerogrid serve
// --run local`, a real app, a local GitOps repo. Prints serve's resident memory (MB) with one app
// running, after the line has gone through, and its peak, and the size of the app's log.
//   BENCH_BROKER  Kafka to use (default: a broker of its own on 127.0.0.1:19292, started if needed)
// Usage: node bench/serve-log-memory.mjs [package root, default this checkout]
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(process.argv[2] ?? here);
const log = (m) => process.stderr.write(`${m}\n`);
const work = await mkdtemp(join(tmpdir(), 'aerogrid-bench-logmem-'));
const env = { ...process.env, AEROGRID_HOME: join(work, 'home'), AEROGRID_GITOPS: '', AEROGRID_ARGOCD_URL: '', NO_COLOR: '1', CI: '1' };
const tenant = 'bench';
const topic = `bench-logmem-${Date.now().toString(36)}`;

function cli(args) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'aerogrid'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.once('close', (code) => resolveRun({ code, out }));
  });
}
const must = async (args) => {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`aerogrid ${args.join(' ')} failed:\n${r.out}`);
  return r;
};
const until = async (what, fn, ms = 120_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};
const rssMb = (pid, field = 'VmRSS') => Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field)))[1]) / 1024;

let broker = process.env.BENCH_BROKER;
if (!broker) broker = (await (await import(join(here, 'dist/local-kafka/broker.js'))).kafkaUp({ port: 19292, onProgress: log })).bootstrap;
const { createKafkaClient } = await import(join(here, 'sidecar/dist/kafka/client.js'));
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-logmem' });
await kafka.ensureTopic(topic, { partitions: 1 });
await kafka.close();

const dir = join(work, 'loud');
await mkdir(dir, { recursive: true });
const spec = (version) => `apiVersion: aerogrid.dev/v1\nkind: App\nmetadata: {name: loud, tenant: ${tenant}, description: v${version}}\nspec:\n  topics: [${topic}]\n  grids: [{name: totals, columns: [total]}]\n  resources: {cpu: "1", memory: 1Gi}\n`;
const source = (loud) => `import sys
import aerogrid

app = aerogrid.App('loud', broker=BROKER_URI)
ticks = app.topic('${topic}', key_type=str, value_type=dict)
totals = app.Grid('totals', columns=['total'])
${loud ? "sys.stdout.write('A' * 100_000_000 + '\\n')\nsys.stdout.flush()\nprint('after the long line', flush=True)\n" : "print('quiet', flush=True)\n"}
@app.stream(ticks)
async def handle(stream):
    async for key, value in stream.items():
        totals[key] = {'total': 1}
`;
await writeFile(join(dir, 'aerogrid.yaml'), spec(1));
await writeFile(join(dir, 'app.py'), source(false));
await must(['tenant', 'add', tenant, '--topics', topic]);
await must(['deploy', dir]);

const serve = spawn(process.execPath, [join(root, 'bin', 'aerogrid'), 'serve', '--run', 'local', '--broker', broker, '--port', '0', '--poll', '200'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
serve.stdout.on('data', (d) => { output += d; });
serve.stderr.on('data', (d) => { output += d; });
const logFile = join(env.AEROGRID_HOME, 'serve', 'logs', tenant, 'loud.log');
const logText = () => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } };
try {
  await until('serve to start', () => /Serving /.test(output) || serve.exitCode !== null);
  if (serve.exitCode !== null) throw new Error(`serve exited:\n${output}`);
  await until('the quiet app to run', () => logText().includes('quiet'));
  await new Promise((r) => setTimeout(r, 2000));
  const before = rssMb(serve.pid);
  await writeFile(join(dir, 'aerogrid.yaml'), spec(2));
  await writeFile(join(dir, 'app.py'), source(true));
  await must(['deploy', dir]);
  await until('the long line to go through', () => statSync(logFile).size > 0 && readFileSync(logFile, 'utf8').includes('after the long line'));
  await new Promise((r) => setTimeout(r, 2000));
  const result = { bench: 'serve-log-memory', root, serve_rss_mb_before: Math.round(before), serve_rss_mb_after: Math.round(rssMb(serve.pid)), serve_rss_mb_peak: Math.round(rssMb(serve.pid, 'VmHWM')), log_bytes: statSync(logFile).size };
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  serve.kill('SIGINT');
  await new Promise((r) => serve.once('close', r));
  await rm(work, { recursive: true, force: true });
}
