#!/usr/bin/env node
// Frame sending: what it costs a server (ws, as the sidecar uses it) to send one delta to each of
// BENCH_FRAME_CLIENTS loopback clients (1,000, the Go client of the fan-out benchmarks), the delta's
// text as a string per client (what the sidecar did) or one Buffer shared by all (what it does):
// the server's CPU per client per delta, in three alternating rounds of 60 deltas, 50 ms apart.
// A delta is 220 rows of the `latest` app, about 6.7 KB. No Kafka, no sidecar: just the sending.
// Usage: node bench/frame-send.mjs
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { emit, fanoutClientBinary, root, sleep } from './lib/fanout.mjs';

const { WebSocketServer } = createRequire(join(root, 'package.json'))('ws');
const clients = Number(process.env.BENCH_FRAME_CLIENTS ?? 1000);
const rounds = 60;

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
await new Promise((resolve) => wss.once('listening', resolve));
const sockets = [];
wss.on('connection', (ws) => {
  sockets.push(ws);
  ws.on('message', () => ws.send('{"type":"snapshot","id":"s","grid":"latest","columns":["sent"],"seq":1,"rows":{}}'));
});
const child = spawn(fanoutClientBinary(), [`ws://127.0.0.1:${wss.address().port}/`, 'latest', String(clients)], { stdio: ['pipe', 'pipe', 'inherit'] });
await new Promise((resolve) => child.stdout.once('data', resolve));

const upserts = {};
for (let i = 0; i < 220; i++) upserts[`k${i * 4}`] = { sent: Date.now() };
const body = JSON.stringify({ upserts, deletes: [] }).slice(1, -1);
let seq = 1;
const frame = () => `{"type":"delta","id":"s","grid":"latest","from_seq":${seq},"seq":${++seq},${body}}`;

async function round(mode) {
  let micros = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    if (mode === 'string') for (const ws of sockets) ws.send(frame());
    else {
      const shared = Buffer.from(frame());
      for (const ws of sockets) ws.send(shared, { binary: false });
    }
    const used = process.cpuUsage(start);
    micros += used.user + used.system;
    await sleep(50);
  }
  return Math.round((micros / rounds / sockets.length) * 100) / 100;
}

const perClient = { string: [], shared_buffer: [] };
for (let i = 0; i < 3; i++) {
  perClient.string.push(await round('string'));
  perClient.shared_buffer.push(await round('buffer'));
}
emit({
  bench: 'frame-send', clients: sockets.length, delta_bytes: Buffer.byteLength(frame()),
  server_cpu_us_per_client_per_delta: perClient,
  load_average_1m: Math.round(loadavg()[0] * 100) / 100,
});
child.stdin.write('exit\n');
wss.close();
process.exit(0);
