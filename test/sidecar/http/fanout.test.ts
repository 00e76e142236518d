/**
 * The client WebSocket protocol (docs/protocol.md §2) against the sidecar's HTTP/WebSocket front
 * end, fed by a grid store that the test changes directly (no Kafka, no runtime needed).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { GridStore, type Delta } from '../../../sidecar/src/grids.js';
import { StatusTracker } from '../../../sidecar/src/status.js';
import { Fanout } from '../../../sidecar/src/http/fanout.js';
import { silentLogger } from '../../../sidecar/src/log.js';
import type { Frontend } from '../../../sidecar/src/http/server.js';
import { startAppFrontend } from '../../helpers/frontend.js';
import { WsClient, waitFor, wsUrl, type Msg } from '../../helpers/sidecar.js';

let store: GridStore;
let status: StatusTracker;
let fe: Frontend;
const clients: WsClient[] = [];

async function client(path = 'v1/ws', protocols?: string | string[]): Promise<WsClient> {
  const c = await WsClient.open(wsUrl(fe.url, path), protocols);
  clients.push(c);
  return c;
}

function set(grid: string, key: string, row: Record<string, unknown>): void {
  store.apply([{ grid, key, row }]);
}

/** A WebSocket's server side that records what is sent and when (performance.now()). */
class RecordingSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: (Msg & { at: number })[] = [];
  /** What was passed to send, and whether ws would send it as a binary frame. */
  readonly frames: { data: string | Buffer; binary: boolean }[] = [];
  send(data: string | Buffer, options?: { binary?: boolean }): void {
    this.frames.push({ data, binary: options?.binary ?? typeof data !== 'string' });
    this.sent.push({ ...(JSON.parse(data.toString()) as Msg), at: performance.now() });
  }
  /** A client that reads everything at once: each ping is answered with its payload. */
  ping(data?: string): void {
    queueMicrotask(() => this.emit('pong', Buffer.from(data ?? '')));
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

beforeEach(async () => {
  store = new GridStore();
  store.declare('product_sum', ['units_sold']);
  store.declare('prices', ['bid', 'ask']);
  store.markListKnown();
  set('product_sum', 'How to...', { units_sold: 300 });
  set('product_sum', 'Old book', { units_sold: 5 });
  status = new StatusTracker();
  status.set('running', null);
  fe = await startAppFrontend(store, null, { status, tenant: 'default', ready: () => status.get().state === 'running' });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await fe.close();
});

describe('client WebSocket', () => {
  it('says hello on connect with the app, tenant, grids and status', async () => {
    const c = await client();
    const hello = await c.next('hello');
    expect(hello).toEqual({
      type: 'hello',
      protocol: 'aerogrid.v1',
      app: 'ordersapp',
      tenant: 'default',
      grids: [
        { name: 'prices', columns: ['bid', 'ask'], rows: 0 },
        { name: 'product_sum', columns: ['units_sold'], rows: 2 },
      ],
      status: { state: 'running', message: null, stale_since: null },
    });
    expect(c.ws.protocol).toBe('aerogrid.v1');
  });

  it('accepts clients without a subprotocol and on the path /', async () => {
    const c = await client('', undefined);
    expect((await c.next('hello')).protocol).toBe('aerogrid.v1');
    expect((await c.request({ op: 'ping', id: 'p' })).type).toBe('pong');
  });

  it('refuses an unknown subprotocol and an unknown path', async () => {
    const tryOpen = (url: string, protocols?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(url, protocols);
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error('connection was accepted')));
        ws.on('error', () => {});
      });
    const wrongProtocol = await tryOpen(wsUrl(fe.url), 'aerogrid.v2');
    expect(wrongProtocol.status).toBe(400);
    expect(JSON.parse(wrongProtocol.body).error.code).toBe('unsupported_protocol');
    expect(JSON.parse(wrongProtocol.body).error.message).toContain('aerogrid.v1');
    const wrongPath = await tryOpen(wsUrl(fe.url, 'v2/ws'), 'aerogrid.v1');
    expect(wrongPath.status).toBe(404);
  });

  it('sends a snapshot, then deltas that rebuild the grid exactly', async () => {
    const c = await client();
    const snap = await c.request({ op: 'subscribe', id: 's1', grid: 'product_sum' });
    expect(snap).toMatchObject({
      type: 'snapshot',
      id: 's1',
      grid: 'product_sum',
      columns: ['units_sold'],
      rows: { 'How to...': { units_sold: 300 }, 'Old book': { units_sold: 5 } },
    });
    const rows: Record<string, unknown> = { ...snap.rows };
    set('product_sum', 'How to...', { units_sold: 1500 });
    store.apply([
      { grid: 'product_sum', key: 'Old book', deleted: true },
      { grid: 'product_sum', key: 'New book', row: { units_sold: 1 } },
    ]);
    const finalSeq = store.get('product_sum')!.seq;
    let seq = snap.seq as number;
    while (seq < finalSeq) {
      const d = await c.next('delta');
      expect(d.id).toBe('s1');
      expect(d.seq).toBeGreaterThan(seq);
      seq = d.seq;
      Object.assign(rows, d.upserts);
      for (const k of d.deletes) delete rows[k];
    }
    expect(rows).toEqual({ 'How to...': { units_sold: 1500 }, 'New book': { units_sold: 1 } });
  });

  it('conflates 1000 updates of one row between flushes into one delta with the latest value', async () => {
    const c = await client();
    const snap = await c.request({ op: 'subscribe', id: 'hot', grid: 'product_sum' });
    for (let i = 1; i <= 1000; i++) set('product_sum', 'How to...', { units_sold: 300 + i });
    const finalSeq = store.get('product_sum')!.seq;
    expect(finalSeq).toBe(snap.seq + 1000);
    const first = await c.next('delta');
    expect(first).toEqual({
      type: 'delta',
      id: 'hot',
      grid: 'product_sum',
      from_seq: snap.seq,
      seq: finalSeq,
      upserts: { 'How to...': { units_sold: 1300 } },
      deletes: [],
    });
  });

  it('gives a late joiner the current state as its snapshot', async () => {
    const early = await client();
    await early.request({ op: 'subscribe', id: 'a', grid: 'product_sum' });
    for (let i = 0; i < 50; i++) set('product_sum', `k${i}`, { units_sold: i });
    set('product_sum', 'How to...', { units_sold: 999 });
    const late = await client();
    const snap = await late.request({ op: 'subscribe', id: 'b', grid: 'product_sum' });
    expect(Object.keys(snap.rows)).toHaveLength(52);
    expect(snap.rows['How to...']).toEqual({ units_sold: 999 });
    expect(snap.rows.k49).toEqual({ units_sold: 49 });
    expect(snap.seq).toBe(store.get('product_sum')!.seq);
  });

  it('answers every malformed or unknown request with its error code and stays usable', async () => {
    const c = await client();
    await c.next('hello');
    const error = async (msg: unknown, code: string) => {
      c.send(msg);
      const e = await c.next('error');
      expect(e.code).toBe(code);
      expect(typeof e.message).toBe('string');
      return e;
    };
    expect((await error('{not json', 'bad_json')).message).toMatch(/JSON/);
    expect((await error('[1,2]', 'bad_request')).message).toMatch(/object/);
    expect((await error({ id: 'x' }, 'bad_request')).message).toMatch(/'op'/);
    expect((await error({ op: 7 }, 'bad_request')).message).toMatch(/'op'/);
    expect((await error({ op: 'subscribe', grid: 'prices' }, 'bad_request')).message).toMatch(/'id'/);
    const noGrid = await error({ op: 'subscribe', id: 's1' }, 'bad_request');
    expect(noGrid.message).toMatch(/'grid'/);
    expect(noGrid.id).toBe('s1');
    expect((await error({ op: 'subscribe', id: 's1', grid: 42 }, 'bad_request')).message).toMatch(/'grid'/);
    const unknownOp = await error({ op: 'frobnicate', id: 'q' }, 'unknown_op');
    expect(unknownOp.id).toBe('q');
    expect(unknownOp.message).toContain('frobnicate');
    const unknownGrid = await error({ op: 'subscribe', id: 's2', grid: 'nope' }, 'unknown_grid');
    expect(unknownGrid).toMatchObject({ id: 's2', message: "no grid 'nope'; grids: prices, product_sum" });
    expect((await c.request({ op: 'subscribe', id: 's3', grid: 'prices' })).type).toBe('snapshot');
    expect(await error({ op: 'subscribe', id: 's3', grid: 'product_sum' }, 'duplicate_id')).toMatchObject({ id: 's3' });
    expect(await error({ op: 'unsubscribe', id: 'zzz' }, 'unknown_id')).toMatchObject({ id: 'zzz' });
    expect((await error({ op: 'unsubscribe' }, 'bad_request')).message).toMatch(/'id'/);
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c.next('error')).code).toBe('bad_request');
    // Still usable: ping, and the existing subscription still gets deltas.
    expect(await c.request({ op: 'ping', id: 'alive' })).toEqual({ type: 'pong', id: 'alive' });
    c.send({ op: 'ping' });
    expect(await c.next('pong')).toEqual({ type: 'pong' });
    set('prices', 'EURUSD', { bid: 1.1, ask: 1.2 });
    expect((await c.next('delta')).upserts).toEqual({ EURUSD: { bid: 1.1, ask: 1.2 } });
  });

  it('caps a connection at 100 subscriptions', async () => {
    const c = await client();
    for (let i = 0; i < 100; i++) c.send({ op: 'subscribe', id: `s${i}`, grid: i % 2 ? 'prices' : 'product_sum' });
    for (let i = 0; i < 100; i++) expect((await c.next((m) => m.id === `s${i}`)).type).toBe('snapshot');
    const over = await c.request({ op: 'subscribe', id: 's100', grid: 'prices' });
    expect(over).toMatchObject({ type: 'error', code: 'too_many_subscriptions', id: 's100' });
    expect(await c.request({ op: 'unsubscribe', id: 's7' })).toEqual({ type: 'unsubscribed', id: 's7' });
    expect((await c.request({ op: 'subscribe', id: 's100', grid: 'prices' })).type).toBe('snapshot');
    // Another connection has its own budget.
    const other = await client();
    expect((await other.request({ op: 'subscribe', id: 's1', grid: 'prices' })).type).toBe('snapshot');
  });

  it('stops deltas after unsubscribe', async () => {
    const c = await client();
    await c.request({ op: 'subscribe', id: 'gone', grid: 'product_sum' });
    await c.request({ op: 'subscribe', id: 'kept', grid: 'product_sum' });
    expect(await c.request({ op: 'unsubscribe', id: 'gone' })).toEqual({ type: 'unsubscribed', id: 'gone' });
    set('product_sum', 'Old book', { units_sold: 6 });
    // Both subscriptions are flushed in the same pass: once 'kept' has its delta, 'gone' would have too.
    expect((await c.next('delta')).id).toBe('kept');
    await c.request({ op: 'ping', id: 'barrier' });
    expect(c.inbox.all.filter((m) => m.type === 'delta' && m.id === 'gone')).toEqual([]);
  });

  it('broadcasts status changes to every client', async () => {
    const a = await client();
    const b = await client();
    await a.next('hello');
    await b.next('hello');
    status.set('waiting', "waiting for topic 'orders' to exist (create it or check the name)");
    for (const c of [a, b]) {
      expect(await c.next('status')).toMatchObject({
        type: 'status',
        state: 'waiting',
        message: "waiting for topic 'orders' to exist (create it or check the name)",
      });
    }
  });

  it('tells clients about grids declared after they connected', async () => {
    const c = await client();
    await c.next('hello');
    store.declare('late_grid', ['x']);
    const s = await c.next('status');
    expect(s.grids.map((g: Msg) => g.name)).toContain('late_grid');
    expect((await c.request({ op: 'subscribe', id: 'l', grid: 'late_grid' })).type).toBe('snapshot');
  });

  /** A sidecar front end before its runtime declared anything (a store of its own), and a client of it. */
  async function withStartingFrontend(run: (fresh: GridStore, c: WsClient) => Promise<void>): Promise<void> {
    const fresh = new GridStore();
    const early = await startAppFrontend(fresh, null, { status, tenant: 'default', app: () => '', ready: () => false });
    try {
      const c = await WsClient.open(wsUrl(early.url));
      clients.push(c);
      await run(fresh, c);
    } finally {
      await early.close();
    }
  }

  it('keeps a subscription made before any runtime declared the grids until they are declared', () => withStartingFrontend(async (fresh, c) => {
    expect((await c.next('hello')).grids).toEqual([]);
    c.send({ op: 'subscribe', id: 'a', grid: 'product_sum' });
    c.send({ op: 'subscribe', id: 'b', grid: 'typo_grid' });
    expect(await c.request({ op: 'ping', id: 'p' })).toEqual({ type: 'pong', id: 'p' });
    expect(c.inbox.all.filter((m) => m.id === 'a' || m.id === 'b')).toEqual([]);
    // The runtime says hello: its grids are declared, and the list is now known.
    fresh.declare('product_sum', ['units_sold']);
    fresh.markListKnown();
    expect(await c.next((m) => m.id === 'a')).toMatchObject({ type: 'snapshot', grid: 'product_sum', rows: {} });
    expect(await c.next((m) => m.id === 'b')).toMatchObject({ type: 'error', code: 'unknown_grid' });
    fresh.apply([{ grid: 'product_sum', key: 'x', row: { units_sold: 1 } }]);
    expect((await c.next('delta')).upserts).toEqual({ x: { units_sold: 1 } });
    // Once the list is known, an unknown grid is an error right away.
    expect((await c.request({ op: 'subscribe', id: 'c', grid: 'nope' })).code).toBe('unknown_grid');
  }));

  it('gives a subscription made during a restore the restored rows as its snapshot, not an empty grid and a delta of every row', () => withStartingFrontend(async (fresh, c) => {
    await c.next('hello');
    c.send({ op: 'subscribe', id: 'a', grid: 'product_sum' });
    await c.request({ op: 'ping', id: 'p' });
    // What a restore does once it read the changelog.
    const rows = new Map(Array.from({ length: 500 }, (_, i) => [`k${i}`, { units_sold: i }] as const));
    fresh.replaceAll(new Map([['product_sum', rows]]), new Map([['product_sum', 1234]]));
    const snap = await c.next((m) => m.id === 'a');
    expect(snap.type).toBe('snapshot');
    expect(Object.keys(snap.rows)).toHaveLength(500);
    expect(snap.seq).toBe(1234);
    await c.request({ op: 'ping', id: 'barrier' });
    await new Promise((r) => setTimeout(r, 120));
    expect(c.inbox.all.filter((m) => m.type === 'delta')).toEqual([]);
  }));

  it('never sends two identical status messages in a row (a runtime declaring its grids at start-up)', () => withStartingFrontend(async (fresh, c) => {
    await c.next('hello');
    fresh.declare('product_sum', ['units_sold']);
    fresh.declare('prices', ['bid', 'ask']);
    fresh.markListKnown();
    fresh.declare('prices', ['bid', 'ask']);
    status.set('running', null);
    status.set('waiting', 'waiting for the runtime to reconnect');
    await c.request({ op: 'ping', id: 'barrier' });
    const statuses = c.inbox.all.filter((m) => m.type === 'status').map((m) => JSON.stringify(m));
    expect(statuses.length).toBeGreaterThan(1);
    statuses.forEach((m, i) => expect(m, `status ${i}`).not.toBe(statuses[i - 1]));
  }));

  it('sends a subscription at most one delta per 50 ms, also while other clients make flushes slow (sockets played by recorders of send times)', async () => {
    // The rule is about when the server sends, so the sockets record it; a real client's clock
    // would also measure the scheduling of a loaded machine.
    const fanout = new Fanout({ store, status, logger: silentLogger(), app: () => 'ordersapp', tenant: 'default' });
    const sockets: RecordingSocket[] = [];
    const connect = (grid: string) => {
      const ws = new RecordingSocket();
      sockets.push(ws);
      fanout.accept(ws as unknown as WebSocket);
      ws.emit('message', Buffer.from(JSON.stringify({ op: 'subscribe', id: 's', grid })), false);
      return ws;
    };
    try {
      // Clients before it whose deltas are large one time and small the next: a flush takes long, then short.
      const big: Delta[] = [];
      for (let i = 0; i < 20_000; i++) big.push({ grid: 'product_sum', key: `b${i}`, row: { units_sold: i } });
      for (let i = 0; i < 3; i++) connect('product_sum');
      const hot = connect('prices');
      const deltas = () => hot.sent.filter((m) => m.type === 'delta');
      const until = Date.now() + 20_000;
      let round = 0;
      while (deltas().length < 12 && Date.now() < until) {
        round += 1;
        set('prices', 'x', { bid: round, ask: round });
        if (round % 7 === 0) store.apply(big.map((d) => ({ ...d, row: { units_sold: round } })));
        await new Promise((r) => setTimeout(r, 3));
      }
      const times = deltas().map((m) => m.at);
      expect(times.length).toBeGreaterThan(10);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.min(...gaps), `gaps ${gaps.map((g) => g.toFixed(0)).join(' ')}`).toBeGreaterThanOrEqual(50);
    } finally {
      fanout.close();
    }
  }, 30_000);

  it('encodes a delta once for every subscription at the same seq with the same id, and sends that buffer as a text frame', async () => {
    const fanout = new Fanout({ store, status, logger: silentLogger(), app: () => 'ordersapp', tenant: 'default' });
    const connect = (id: string) => {
      const ws = new RecordingSocket();
      fanout.accept(ws as unknown as WebSocket);
      ws.emit('message', Buffer.from(JSON.stringify({ op: 'subscribe', id, grid: 'product_sum' })), false);
      return ws;
    };
    try {
      const same = [connect('s'), connect('s'), connect('s')];
      const other = connect('t');
      const all = [...same, other];
      // Past the first flush interval, so that every subscription is due at once.
      await new Promise((r) => setTimeout(r, 60));
      set('product_sum', 'New book', { units_sold: 7 });
      const deltaFrames = (ws: RecordingSocket) => ws.frames.filter((f) => JSON.parse(f.data.toString()).type === 'delta');
      await waitFor(() => all.every((ws) => deltaFrames(ws).length === 1));
      const [first] = deltaFrames(same[0]!);
      expect(Buffer.isBuffer(first!.data)).toBe(true);
      for (const ws of all) expect(deltaFrames(ws)[0]!.binary).toBe(false);
      for (const ws of same) expect(deltaFrames(ws)[0]!.data).toBe(first!.data);
      const theirs = deltaFrames(other)[0]!.data;
      expect(theirs).not.toBe(first!.data);
      const delta = same[0]!.sent.find((m) => m.type === 'delta')!;
      expect(delta).toMatchObject({ id: 's', grid: 'product_sum', upserts: { 'New book': { units_sold: 7 } }, deletes: [] });
      expect(JSON.parse(theirs.toString())).toEqual({ ...JSON.parse(first!.data.toString()), id: 't' });
    } finally {
      fanout.close();
    }
  });

  it('holds deltas back sooner when many clients holding the usual 1 MiB would overrun the outbound budget', async () => {
    // 4 clients and a 1 MiB budget: each may hold an equal share of half of it (128 KiB) before its deltas wait.
    const fanout = new Fanout({ store, status, logger: silentLogger(), app: () => 'ordersapp', tenant: 'default', outboundBudgetBytes: 1024 * 1024 });
    const connect = () => {
      const ws = new RecordingSocket();
      fanout.accept(ws as unknown as WebSocket);
      ws.emit('message', Buffer.from(JSON.stringify({ op: 'subscribe', id: 's', grid: 'product_sum' })), false);
      return ws;
    };
    try {
      const [slow, quick] = [connect(), connect(), connect(), connect()];
      slow!.bufferedAmount = 200 * 1024;
      const deltas = (ws: RecordingSocket) => ws.sent.filter((m) => m.type === 'delta');
      for (let i = 1; i <= 3; i++) {
        set('product_sum', 'Old book', { units_sold: i });
        await waitFor(() => deltas(quick!).some((m) => m.upserts['Old book']?.units_sold === i));
      }
      expect(deltas(slow!)).toEqual([]);
      expect(fanout.dropped).toEqual({ backlog: 0, budget: 0, keepalive: 0 });
      // Once it has read, it gets one delta with the latest value.
      slow!.bufferedAmount = 0;
      await waitFor(() => deltas(slow!).length > 0);
      expect(deltas(slow!).map((m) => m.upserts)).toEqual([{ 'Old book': { units_sold: 3 } }]);
    } finally {
      fanout.close();
    }
  });

  it('resumes a subscribe that carries the last seq with only the rows changed since, deletes included', async () => {
    for (let i = 0; i < 40; i++) set('prices', `i${i}`, { bid: i, ask: i + 1 });
    const c = await client();
    await c.next('hello');
    const snap = await c.request({ op: 'subscribe', id: 'p', grid: 'prices' });
    expect(Object.keys(snap.rows)).toHaveLength(40);
    c.close();
    // Offline: 3 of 40 rows change, one of them twice, and one row goes.
    set('prices', 'i1', { bid: 100, ask: 101 });
    set('prices', 'i2', { bid: 200, ask: 201 });
    set('prices', 'i1', { bid: 110, ask: 111 });
    store.apply([{ grid: 'prices', key: 'i3', deleted: true }]);
    const d = await client();
    await d.next('hello');
    const resumed = await d.request({ op: 'subscribe', id: 'p', grid: 'prices', seq: snap.seq });
    expect(resumed).toEqual({
      type: 'resumed', id: 'p', grid: 'prices', columns: ['bid', 'ask'], from_seq: snap.seq, seq: store.get('prices')!.seq,
      upserts: { i1: { bid: 110, ask: 111 }, i2: { bid: 200, ask: 201 } }, deletes: ['i3'],
    });
    // Nothing missed: an empty resume, then deltas that continue from it.
    const again = await d.request({ op: 'subscribe', id: 'q', grid: 'prices', seq: resumed.seq });
    expect(again).toMatchObject({ type: 'resumed', from_seq: resumed.seq, seq: resumed.seq, upserts: {}, deletes: [] });
    set('prices', 'i4', { bid: 4, ask: 4 });
    expect(await d.next((m) => m.id === 'q' && m.type === 'delta')).toMatchObject({ from_seq: resumed.seq, seq: resumed.seq + 1, upserts: { i4: { bid: 4, ask: 4 } } });
  });

  it('answers a resume the history no longer reaches back to, or a seq the grid never had, with a snapshot', async () => {
    const small = new GridStore({ historyKeys: 5 });
    small.declare('g', ['v']);
    small.markListKnown();
    small.apply([{ grid: 'g', key: 'a', row: { v: 0 } }]);
    const old = small.get('g')!.seq;
    for (let i = 0; i < 10; i++) small.apply([{ grid: 'g', key: `k${i}`, row: { v: i } }]);
    const fe2 = await startAppFrontend(small, null, { status, tenant: 'default' });
    try {
      const c = await WsClient.open(wsUrl(fe2.url));
      clients.push(c);
      await c.next('hello');
      const r1 = await c.request({ op: 'subscribe', id: 'old', grid: 'g', seq: old });
      expect(r1).toMatchObject({ type: 'snapshot', seq: small.get('g')!.seq });
      expect(Object.keys(r1.rows)).toHaveLength(11);
      expect((await c.request({ op: 'subscribe', id: 'ahead', grid: 'g', seq: small.get('g')!.seq + 5 })).type).toBe('snapshot');
      expect((await c.request({ op: 'subscribe', id: 'near', grid: 'g', seq: small.get('g')!.seq - 2 })).type).toBe('resumed');
      expect(await c.request({ op: 'subscribe', id: 'bad', grid: 'g', seq: -1 })).toMatchObject({ type: 'error', code: 'bad_request' });
      expect(await c.request({ op: 'subscribe', id: 'bad2', grid: 'g', seq: '7' })).toMatchObject({ type: 'error', code: 'bad_request' });
    } finally {
      await fe2.close();
    }
  });

  it('closes a connection that sends a frame over 64 KiB', async () => {
    const c = await client();
    await c.next('hello');
    c.send({ op: 'ping', id: 'x'.repeat(70 * 1024) });
    expect((await c.closed).code).toBe(1009);
    // The server is fine.
    const d = await client();
    expect((await d.request({ op: 'ping', id: 1 })).type).toBe('pong');
  });

  it('holds deltas back for a client that does not read, then sends the latest values once', async () => {
    // A grid big enough that a few snapshots overflow the kernel's socket buffers.
    const big: Delta[] = [];
    for (let i = 0; i < 100_000; i++) big.push({ grid: 'prices', key: `instrument-${i}`, row: { bid: i, ask: i + 0.5 } });
    store.apply(big);
    const c = await client();
    await c.next('hello');
    const socket = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    for (let i = 0; i < 6; i++) c.send({ op: 'subscribe', id: `big${i}`, grid: 'prices' });
    c.send({ op: 'subscribe', id: 'hot', grid: 'product_sum' });
    // Many flush intervals' worth of updates while the client reads nothing.
    for (let round = 1; round <= 10; round++) {
      set('product_sum', 'How to...', { units_sold: 1000 + round });
      await new Promise((r) => setTimeout(r, 60));
    }
    socket.resume();
    const snap = await c.next((m) => m.id === 'hot' && m.type === 'snapshot', 30_000);
    const finalSeq = store.get('product_sum')!.seq;
    let last: Msg | null = null;
    if (snap.seq < finalSeq) last = await c.next((m) => m.id === 'hot' && m.type === 'delta', 30_000);
    const latest = last ? last.upserts['How to...'] : snap.rows['How to...'];
    expect(latest).toEqual({ units_sold: 1010 });
    await c.request({ op: 'ping', id: 'barrier' }, 30_000);
    const hotDeltas = c.inbox.all.filter((m) => m.id === 'hot' && m.type === 'delta');
    // Held back while over 1 MiB was unsent: far fewer deltas than the 10 flush intervals of updates.
    expect(hotDeltas.length).toBeLessThanOrEqual(1);
  }, 60_000);

  it('paces deltas by what a client has read: one that reads slowly gets the latest values, not a backlog the kernel held', async () => {
    const c = await client();
    await c.next('hello');
    await c.request({ op: 'subscribe', id: 'hot', grid: 'product_sum' });
    // Small deltas: the kernel's socket buffers take them all, so the server's own unsent count stays 0.
    c.ws.pause();
    for (let round = 1; round <= 20; round++) {
      set('product_sum', 'How to...', { units_sold: 2000 + round });
      await new Promise((r) => setTimeout(r, 60));
    }
    c.ws.resume();
    await waitFor(() => c.inbox.all.some((m) => m.id === 'hot' && m.type === 'delta' && m.upserts['How to...']?.units_sold === 2020), 10_000);
    const deltas = c.inbox.all.filter((m) => m.id === 'hot' && m.type === 'delta');
    // 20 flush intervals of changes while it read nothing: the two the window lets through, then the latest.
    expect(deltas.length).toBeLessThanOrEqual(3);
    expect(deltas.at(-1)!.seq).toBe(store.get('product_sum')!.seq);
    // From then on it is sent every change again, as one that keeps reading.
    set('product_sum', 'Old book', { units_sold: 6 });
    const next = await c.next((m) => m.id === 'hot' && m.type === 'delta' && m.upserts['Old book']?.units_sold === 6);
    expect(next.from_seq).toBe(deltas.at(-1)!.seq);
  }, 30_000);

  it('sends no delta to a client that never answers pings until it does, and a pong it was never asked for changes nothing', async () => {
    const c = await client();
    await c.next('hello');
    // A client that answers pings only when told to (ws answers them by itself otherwise).
    const pings: Buffer[] = [];
    (c.ws as unknown as { pong: (data?: Buffer) => void }).pong = () => {};
    c.ws.on('ping', (data: Buffer) => pings.push(data));
    const realPong = WebSocket.prototype.pong.bind(c.ws);
    await c.request({ op: 'subscribe', id: 'hot', grid: 'product_sum' });
    for (let round = 1; round <= 6; round++) {
      set('product_sum', 'How to...', { units_sold: 3000 + round });
      await new Promise((r) => setTimeout(r, 70));
    }
    // The snapshot's ping and the first delta's: then nothing more until one is answered.
    expect(c.inbox.all.filter((m) => m.id === 'hot' && m.type === 'delta')).toHaveLength(1);
    realPong(Buffer.from('999'));
    await new Promise((r) => setTimeout(r, 150));
    expect(c.inbox.all.filter((m) => m.id === 'hot' && m.type === 'delta')).toHaveLength(1);
    realPong(pings.at(-1));
    const latest = await c.next((m) => m.id === 'hot' && m.type === 'delta' && m.upserts['How to...']?.units_sold === 3006);
    expect(latest.from_seq).toBeGreaterThan(0);
  }, 30_000);
});

describe('HTTP', () => {
  it('lists grids and serves one grid', async () => {
    const res = await fetch(fe.url + 'v1/grids');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const list = await res.json();
    const seq = store.get('product_sum')!.seq;
    expect(list).toEqual({
      app: 'ordersapp',
      grids: [
        { name: 'prices', columns: ['bid', 'ask'], rows: 0, seq: 0 },
        { name: 'product_sum', columns: ['units_sold'], rows: 2, seq },
      ],
    });
    const one = await (await fetch(fe.url + 'v1/grids/product_sum')).json();
    expect(one).toEqual({
      grid: 'product_sum',
      columns: ['units_sold'],
      seq,
      rows: { 'How to...': { units_sold: 300 }, 'Old book': { units_sold: 5 } },
    });
  });

  it('decodes grid names in the path and answers unknown grids with 404 unknown_grid', async () => {
    store.declare('with space', ['v']);
    expect((await fetch(fe.url + 'v1/grids/with%20space')).status).toBe(200);
    const res = await fetch(fe.url + 'v1/grids/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'unknown_grid', message: "no grid 'nope'; grids: prices, product_sum, with space" },
    });
  });

  it('answers health, readiness and unknown paths', async () => {
    const health = await fetch(fe.url + 'healthz');
    expect([health.status, await health.json()]).toEqual([200, { ok: true }]);
    const ready = await fetch(fe.url + 'readyz');
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true, state: 'running', message: null, stale_since: null }]);
    status.set('waiting', 'waiting for the runtime to reconnect');
    const notReady = await fetch(fe.url + 'readyz');
    expect([notReady.status, await notReady.json()]).toEqual([
      503,
      { ready: false, state: 'waiting', message: 'waiting for the runtime to reconnect', stale_since: null },
    ]);
    const missing = await fetch(fe.url + 'v1/nothing');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
    const post = await fetch(fe.url + 'v1/grids', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect((await post.json()).error.code).toBe('method_not_allowed');
  });

  it('serves metrics in Prometheus text format', async () => {
    const c = await client();
    await c.request({ op: 'subscribe', id: 'm', grid: 'product_sum' });
    const res = await fetch(fe.url + 'metrics');
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE aerogrid_records_total counter');
    expect(text).toContain('aerogrid_records_rejected_total{app="",kind="handler"} 0');
    expect(text).toContain('aerogrid_grid_rows{app="",grid="product_sum"} 2');
    expect(text).toContain('aerogrid_ws_clients{app=""} 1');
    expect(text).toContain('aerogrid_ws_subscriptions{app=""} 1');
    expect(text).toContain('# TYPE aerogrid_batch_seconds summary');
    expect(text).toContain('aerogrid_runtime_restarts_total{app=""} 0');
    for (const line of text.trim().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+\{[^}]*\} -?[\d.e+-]+)$/);
    }
  });

  it('serves the viewer page with its own script and style sheet, nothing from elsewhere, no inline script', async () => {
    const res = await fetch(fe.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self';/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/https?:\/\/|<script(?![^>]*\bsrc=)[^>]*>|<style/);
    expect(html).toContain('<meta name="aerogrid-auth" content="off">');
    const script = await fetch(`${fe.url}viewer.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('aerogrid.v1');
    expect((await fetch(`${fe.url}viewer.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${fe.url}other.js`)).status).toBe(404);
  });

  it('counts WebSocket clients as they come and go', async () => {
    const c = await client();
    await c.next('hello');
    c.close();
    await c.closed;
    await waitFor(async () => (await (await fetch(fe.url + 'metrics')).text()).includes('aerogrid_ws_clients{app=""} 0'), {
      what: 'the client count to drop to 0',
    });
  });
});
