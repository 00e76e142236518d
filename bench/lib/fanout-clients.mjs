#!/usr/bin/env node
// A client process for the fan-out benchmarks: opens COUNT WebSocket clients on URL, each
// subscribed to GRID, and keeps each one's copy of the grid. Told 'report' on stdin, it prints
// one JSON line: per client its bytes, messages and a digest of its grid, whether it was closed,
// and the produce-to-client delays (ms) of the rows it received ({sent} rows of the `latest` app).
// With RESUME=1 each client, told 'drop', closes; told 'reconnect', reconnects and subscribes
// again with its seq (resume) or without (RESUME=0: a full snapshot).
// Every command is answered with one JSON line. Usage: fanout-clients.mjs URL GRID COUNT
import { createInterface } from 'node:readline';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WebSocket = createRequire(join(root, 'package.json'))('ws');
const [url, grid, countText] = process.argv.slice(2);
const count = Number(countText);
const resume = process.env.RESUME !== '0';
const clients = [];
const delays = [];
let measuring = false;

function open(c, seq) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'aerogrid.v1', { perMessageDeflate: false });
    c.ws = ws;
    c.current = false;
    ws.on('open', () => ws.send(JSON.stringify(seq === undefined ? { op: 'subscribe', id: 's', grid } : { op: 'subscribe', id: 's', grid, seq })));
    ws.on('message', (data) => {
      c.bytes += data.length;
      c.messages += 1;
      const m = JSON.parse(data);
      if (m.type === 'snapshot') {
        c.rows = new Map(Object.entries(m.rows));
        c.seq = m.seq;
        c.snapshots += 1;
        c.current = true;
        resolve();
      } else if (m.type === 'delta' || m.type === 'resumed') {
        const now = Date.now();
        for (const [k, row] of Object.entries(m.upserts)) {
          c.rows.set(k, row);
          if (measuring && typeof row.sent === 'number') delays.push(now - row.sent);
        }
        for (const k of m.deletes) c.rows.delete(k);
        c.seq = m.seq;
        if (m.type === 'resumed') {
          c.resumes += 1;
          c.current = true;
          resolve();
        }
      }
    });
    ws.on('close', (code) => {
      if (!c.dropping) c.closedBy = code;
    });
    ws.on('error', () => {});
  });
}

for (let i = 0; i < count; i++) {
  const c = { ws: null, rows: new Map(), seq: 0, bytes: 0, messages: 0, snapshots: 0, resumes: 0, closedBy: null, dropping: false, current: false };
  clients.push(c);
  await open(c);
}
process.stdout.write(JSON.stringify({ ready: count }) + '\n');

function digest(rows) {
  return JSON.stringify([...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(' ');
  if (command === 'measure') {
    measuring = true;
    for (const c of clients) c.bytes = c.messages = 0;
    delays.length = 0;
    process.stdout.write(JSON.stringify({ measuring: true }) + '\n');
  } else if (command === 'drop') {
    for (const c of clients) {
      c.dropping = true;
      c.ws.terminate();
    }
    process.stdout.write(JSON.stringify({ dropped: count }) + '\n');
  } else if (command === 'reconnect') {
    for (const c of clients) c.bytes = c.messages = 0;
    const started = Date.now();
    await Promise.all(clients.map((c) => { c.dropping = false; return open(c, resume ? c.seq : undefined); }));
    process.stdout.write(JSON.stringify({ reconnected: count, seconds: (Date.now() - started) / 1000 }) + '\n');
  } else if (command === 'report') {
    measuring = false;
    const truth = arg ? digest(new Map(Object.entries(JSON.parse(Buffer.from(arg, 'base64').toString())))) : null;
    delays.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({
      clients: count,
      exact: truth === null ? null : clients.filter((c) => digest(c.rows) === truth).length,
      closed: clients.filter((c) => c.closedBy !== null).length,
      bytes: clients.reduce((n, c) => n + c.bytes, 0),
      messages: clients.reduce((n, c) => n + c.messages, 0),
      snapshots: clients.reduce((n, c) => n + c.snapshots, 0),
      resumes: clients.reduce((n, c) => n + c.resumes, 0),
      // A sample of the delays: enough for percentiles, small enough for one line.
      delays: delays.filter((_, i) => i % Math.max(1, Math.floor(delays.length / 20_000)) === 0),
    }) + '\n');
  } else if (command === 'exit') break;
}
for (const c of clients) c.ws?.terminate();
process.exit(0);
