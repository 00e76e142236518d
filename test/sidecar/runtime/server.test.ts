/**
 * The runtime socket (docs/protocol.md §1) as a runtime sees it: hello/welcome, one session at a
 * time, protocol violations, framing. Batches and acks with real Kafka data are in kafka.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { startSidecar, type Sidecar } from '../../../sidecar/src/index.js';
import { createLogger } from '../../../sidecar/src/log.js';
import { LineDecoder, LineTooLongError } from '../../../sidecar/src/runtime/lines.js';
import { BROKER, FakeRuntime, ORDERS_GRIDS, getJson, uniqueName, waitFor } from '../../helpers/sidecar.js';

let sidecar: Sidecar;
let logs: string[];
const runtimes: FakeRuntime[] = [];

async function start(options: Parameters<typeof startSidecar>[0] = {}): Promise<Sidecar> {
  const mine: string[] = [];
  logs = mine;
  sidecar = await startSidecar({
    broker: BROKER,
    port: 0,
    // Each test its own tenant: grids persist in the app's changelog across runs.
    tenant: uniqueName('t'),
    logger: createLogger({ name: options.app ?? 'test', write: (l) => mine.push(l) }),
    ...options,
  });
  return sidecar;
}

function logLines(): string[] {
  return logs.join('').split('\n');
}

async function runtime(addr = sidecar.runtimeAddr): Promise<FakeRuntime> {
  const r = await FakeRuntime.connect(addr);
  runtimes.push(r);
  return r;
}

beforeEach(() => {
  logs = [];
});

afterEach(async () => {
  for (const r of runtimes.splice(0)) r.destroy();
  await sidecar?.close();
});

describe('runtime session', () => {
  it('answers hello with a welcome and serves the declared grids', async () => {
    await start();
    expect((await getJson(sidecar.url + 'readyz')).body).toMatchObject({
      ready: false,
      state: 'waiting',
      message: 'waiting for the runtime to connect',
      stale_since: null,
    });
    const r = await runtime();
    const welcome = await r.hello({ app: 'ordersapp', grids: ORDERS_GRIDS });
    // max_row_bytes: the changelog topic's max.message.bytes (the broker's 1 MiB default) less room for headers.
    expect(welcome).toEqual({ type: 'welcome', protocol: 'aerogrid.runtime.v1', max_in_flight: 4, batch_deadline_ms: 30000, max_row_bytes: 1_048_588 - 3072, snapshot: { product_sum: {} } });
    const ready = await waitFor(async () => {
      const res = await getJson(sidecar.url + 'readyz');
      return res.status === 200 && res.body;
    }, { what: 'readyz 200' });
    expect(ready).toMatchObject({ ready: true, state: 'running', message: null, stale_since: null, restore: { state: 'done', rows: 0 } });
    expect((await getJson(sidecar.url + 'v1/grids')).body).toEqual({
      app: 'ordersapp',
      grids: [{ name: 'product_sum', columns: ['units_sold'], rows: 0, seq: 0 }],
    });
    r.send({ type: 'log', level: 'warning', message: 'hello from user code\nsecond line' });
    await waitFor(() => logLines().includes('[ordersapp] warn: second line'), { what: 'the forwarded log' });
    expect(logLines()).toContain('[ordersapp] warn: hello from user code');
  });

  it('refuses a second runtime while one is connected, and takes a new one after it left', async () => {
    await start();
    const first = await runtime();
    await first.hello({ app: 'ordersapp', grids: ORDERS_GRIDS });
    const second = await runtime();
    const err = await second.next('error');
    expect(err.code).toBe('busy');
    expect(err.message).toMatch(/another runtime is connected/);
    await second.closed;
    // The first session is untouched.
    first.send({ type: 'log', level: 'info', message: 'still here' });
    await waitFor(() => logs.some((l) => l.includes('still here')), { what: 'the first session to keep working' });
    await first.close();
    await waitFor(async () => (await getJson(sidecar.url + 'readyz')).body.message === 'waiting for the runtime to reconnect', {
      what: 'status waiting for reconnect',
    });
    const third = await runtime();
    expect((await third.hello({ app: 'ordersapp', grids: ORDERS_GRIDS })).type).toBe('welcome');
  });

  it('answers protocol violations with an error, closes the session and keeps serving', async () => {
    await start();
    const cases: [string, RegExp][] = [
      ['{"type":"ack","id":1}\n', /^expected hello, got ack$/],
      ['this is not json\n', /not valid JSON/],
      ['{"type":"hello","protocol":"aerogrid.runtime.v9","app":"x","topics":[],"grids":[]}\n', /aerogrid\.runtime\.v1/],
      ['{"type":"hello","protocol":"aerogrid.runtime.v1","app":"Bad_Name","topics":[],"grids":[]}\n', /invalid app name "Bad_Name"/],
      ['{"type":"hello","protocol":"aerogrid.runtime.v1","app":"x","topics":[{"name":"a b"}],"grids":[]}\n', /topic name "a b"/],
      ['[1,2,3]\n', /JSON object/],
    ];
    for (const [line, message] of cases) {
      const r = await runtime();
      r.sendRaw(line);
      const err = await r.next('error');
      expect(err.code).toBe('protocol');
      expect(err.message).toMatch(message);
      await r.closed;
    }
    // After hello: unknown type, ack for no batch, a second hello.
    const afterHello: [object, RegExp][] = [
      [{ type: 'bogus' }, /unknown message type 'bogus'/],
      [{ type: 'ack', id: 1, processed: 0, deltas: [], rejected: [] }, /no batch is waiting/],
      [{ type: 'hello', protocol: 'aerogrid.runtime.v1', app: 'ordersapp', topics: [], grids: [] }, /already/],
    ];
    for (const [msg, message] of afterHello) {
      const r = await runtime();
      await r.hello({ app: 'ordersapp', grids: ORDERS_GRIDS });
      r.send(msg);
      const err = await r.next('error');
      expect(err.message).toMatch(message);
      await r.closed;
    }
    const next = await runtime();
    expect((await next.hello({ app: 'ordersapp', grids: ORDERS_GRIDS })).type).toBe('welcome');
    expect((await getJson(sidecar.url + 'healthz')).body).toEqual({ ok: true });
  });

  it('shows why a runtime could not start, until one starts', async () => {
    await start();
    const broken = await runtime();
    broken.send({ type: 'error', code: 'user_code', message: "app.py, line 3: NameError: name 'BROKER_UR' is not defined" });
    await broken.closed;
    const failing = await waitFor(async () => {
      const res = await getJson(sidecar.url + 'readyz');
      return res.body.state === 'failing' && res;
    }, { what: 'status failing' });
    expect(failing.status).toBe(503);
    expect(failing.body.message).toBe("the runtime could not start: app.py, line 3: NameError: name 'BROKER_UR' is not defined");
    expect(logLines().some((l) => l.includes("reported an error (user_code): app.py, line 3"))).toBe(true);
    const fixed = await runtime();
    await fixed.hello({ app: 'ordersapp', grids: ORDERS_GRIDS });
    await waitFor(async () => (await getJson(sidecar.url + 'readyz')).status === 200, { what: 'readyz 200' });
  });

  it('shows a runtime that keeps crashing as failing', async () => {
    await start();
    for (let i = 0; i < 3; i++) {
      const r = await runtime();
      await r.hello({ app: 'ordersapp', grids: ORDERS_GRIDS });
      r.destroy();
      await r.closed;
      await waitFor(() => logLines().filter((l) => l.includes('runtime disconnected')).length > i, { what: `disconnect ${i + 1}` });
    }
    const res = await getJson(sidecar.url + 'readyz');
    expect(res.body.state).toBe('failing');
    expect(res.body.message).toMatch(/^the runtime disconnected 3 times in the last 60 s/);
  });

  it('refuses a runtime of another app than --app', async () => {
    await start({ app: 'ordersapp' });
    const r = await runtime();
    r.send({ type: 'hello', protocol: 'aerogrid.runtime.v1', app: 'otherapp', topics: [], grids: [] });
    const err = await r.next('error');
    expect(err.code).toBe('wrong_app');
    expect(err.message).toBe("this sidecar serves app 'ordersapp', but the runtime said hello as app 'otherapp'");
    await r.closed;
    const ok = await runtime();
    expect((await ok.hello({ app: 'ordersapp' })).type).toBe('welcome');
  });

  it('reads messages split across writes and many in one write', async () => {
    await start();
    const r = await runtime();
    const hello = JSON.stringify({ type: 'hello', protocol: 'aerogrid.runtime.v1', app: 'ordersapp', topics: [], grids: ORDERS_GRIDS });
    const logs3 = [1, 2, 3].map((i) => JSON.stringify({ type: 'log', level: 'info', message: `m${i}` })).join('\n');
    const text = hello + '\n' + logs3 + '\n';
    for (let i = 0; i < text.length; i += 7) {
      r.sendRaw(text.slice(i, i + 7));
      if (i % 70 === 0) await new Promise((res) => setTimeout(res, 1));
    }
    expect((await r.next('welcome')).type).toBe('welcome');
    await waitFor(() => ['m1', 'm2', 'm3'].every((m) => logs.some((l) => l.endsWith(`info: ${m}\n`))), { what: 'three logs' });
    // A large line (8 MiB) is fine.
    const big = 'x'.repeat(8 * 1024 * 1024);
    r.send({ type: 'log', level: 'info', message: `big:${big}` });
    await waitFor(() => logs.some((l) => l.startsWith('[ordersapp] info: big:xxx') && l.length > big.length), { what: 'the big log line' });
  });

  it('listens on a unix socket, replacing a stale socket file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aerogrid-sidecar-'));
    const sock = path.join(dir, 'runtime.sock');
    // A stale socket file left by a process that died.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(fs.existsSync(sock)).toBe(true);
    await start({ runtimeAddr: `unix://${sock}` });
    expect(sidecar.runtimeAddr).toBe(`unix://${sock}`);
    const r = await runtime();
    expect((await r.hello({ app: 'ordersapp' })).type).toBe('welcome');
    await sidecar.close();
    expect(fs.existsSync(sock)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('line framing', () => {
  it('splits, joins and limits lines', () => {
    const d = new LineDecoder(16);
    expect(d.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(d.push(Buffer.from(':2}'))).toEqual([]);
    expect(d.push(Buffer.from('\n\n{"c":3}\r\n'))).toEqual(['{"b":2}', '', '{"c":3}']);
    // UTF-8 split inside a character.
    const euro = Buffer.from('"€"\n');
    expect(d.push(euro.subarray(0, 2))).toEqual([]);
    expect(d.push(euro.subarray(2))).toEqual(['"€"']);
    expect(() => d.push(Buffer.from('x'.repeat(17)))).toThrow(LineTooLongError);
  });
});

describe('names', () => {
  it('rejects invalid tenant and app names before starting', async () => {
    await expect(startSidecar({ broker: BROKER, port: 0, tenant: 'Team A' })).rejects.toThrow(/invalid tenant name "Team A"/);
    await expect(startSidecar({ broker: BROKER, port: 0, app: 'a'.repeat(64) })).rejects.toThrow(/invalid app name/);
    await expect(startSidecar({ port: 0, app: uniqueName('x') })).rejects.toThrow(/no Kafka broker/);
  });
});
