/**
 * The client fan-out on real Kafka (docs/protocol.md §2): what clients see is committed data
 * only, a restarted sidecar serves the restored grid as the snapshot, and `seq` is durable, so a
 * client resumes with only the changes it missed. The runtime is a fake (test/helpers/sidecar.ts).
 */
import kafkajs from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSidecar, type Sidecar } from '../../../sidecar/src/index.js';
import { createKafkaClient, type ReadMessage } from '../../../sidecar/src/kafka/client.js';
import { createLogger } from '../../../sidecar/src/log.js';
import { BROKER, FakeRuntime, OrdersModel, ORDERS_GRIDS, uniqueName, waitFor, WsClient, wsUrl, type Msg } from '../../helpers/sidecar.js';

const kafka = createKafkaClient({ brokers: [BROKER], clientId: 'test-fanout-kafka', logger: { warn: () => {}, error: () => {} } });
const open: { sidecars: Sidecar[]; runtimes: FakeRuntime[]; clients: WsClient[]; stops: (() => Promise<void>)[] } = { sidecars: [], runtimes: [], clients: [], stops: [] };

afterEach(async () => {
  for (const s of open.stops.splice(0)) await s();
  for (const c of open.clients.splice(0)) c.close();
  for (const r of open.runtimes.splice(0)) r.destroy();
  for (const s of open.sidecars.splice(0)) await s.close();
});

afterAll(async () => {
  await kafka.close();
});

async function start(app: string, tenant: string): Promise<Sidecar> {
  const s = await startSidecar({ broker: BROKER, port: 0, app, tenant, topicPollMs: 200, logger: createLogger({ name: app, write: () => {} }) });
  open.sidecars.push(s);
  return s;
}

/**
 * Keeps one runtime (the seed's sums) connected to `s`: a recovery ends the session, and a new
 * one starts from the welcome's snapshot, as the Python runtime does.
 */
function keepRuntime(s: Sidecar, app: string, topic: string): void {
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; i < 20 && !stopped; i++) {
      const r = await FakeRuntime.connect(s.runtimeAddr);
      open.runtimes.push(r);
      const welcome = await r.hello({ app, topics: [{ name: topic, streamed: true }], grids: ORDERS_GRIDS }).catch(() => null);
      if (welcome) r.autoAck(new OrdersModel(welcome.snapshot).handle);
      await r.closed;
    }
  })();
  open.stops.push(async () => {
    stopped = true;
    for (const r of open.runtimes) r.destroy();
    await loop.catch(() => {});
  });
}

async function readAll(topic: string): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  await kafka.readTopic(topic, { onMessages: (_p, m) => out.push(...m) });
  return out;
}

/** Every value a client was shown, per key, in order (snapshot rows and delta upserts). */
function valuesSeen(messages: Msg[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const m of messages) {
    const rows = m.type === 'snapshot' ? m.rows : m.type === 'delta' || m.type === 'resumed' ? m.upserts : null;
    for (const [k, row] of Object.entries((rows ?? {}) as Record<string, { units_sold: number }>)) {
      if (!seen.has(k)) seen.set(k, []);
      seen.get(k)!.push(row.units_sold);
    }
  }
  return seen;
}

function closedWith(ws: import('ws').WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

const orders = (from: number, n: number, products: string[]) =>
  Array.from({ length: n }, (_, i) => ({ key: `o-${from + i}`, value: JSON.stringify({ product: products[(from + i) % products.length], quantity: 1 }) }));

describe('fan-out of committed data', () => {
  it('never shows a client the rows of a transaction that failed to commit (the writer fenced by another producer)', async () => {
    const app = uniqueName('committed');
    const tenant = uniqueName('t');
    const topic = uniqueName('orders');
    await kafka.ensureTopic(topic, { partitions: 1 });
    const s = await start(app, tenant);
    keepRuntime(s, app, topic);
    const c = await WsClient.open(wsUrl(s.url));
    open.clients.push(c);
    c.send({ op: 'subscribe', id: 's', grid: 'product_sum' });
    await c.next('snapshot', 30_000);
    const products = ['a', 'b', 'c'];
    await kafka.produce(topic, orders(0, 30, products));
    await waitFor(() => (s.report().last_commit as Msg | null) !== null, { what: 'the first commit' });

    // Another producer with the app's transactional id: from its first transaction on, the
    // sidecar's producer is fenced, and its next commit fails.
    const fencer = new kafkajs.Kafka({ brokers: [BROKER], clientId: 'fencer', logLevel: kafkajs.logLevel.NOTHING })
      .producer({ transactionalId: `aerogrid.${tenant}.${app}.tx`, idempotent: true, maxInFlightRequests: 1 });
    await fencer.connect();
    const tx = await fencer.transaction();
    const scratch = uniqueName('scratch');
    await kafka.ensureTopic(scratch, { partitions: 1 });
    await tx.send({ topic: scratch, messages: [{ value: 'x' }] });
    await tx.commit();
    await fencer.disconnect();

    let produced = 30;
    for (let round = 0; round < 10; round++) {
      await kafka.produce(topic, orders(produced, 30, products));
      produced += 30;
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(() => (s.report().commit as Msg).recoveries >= 1, { what: 'the failed commit and its recovery' });
    const total = produced;
    await waitFor(async () => {
      const rows = ((await (await fetch(s.url + 'v1/grids/product_sum')).json()) as Msg).rows as Record<string, { units_sold: number }>;
      return Object.values(rows).reduce((n, r) => n + r.units_sold, 0) === total;
    }, { timeoutMs: 45_000, what: `sums of ${total} orders` });
    await new Promise((r) => setTimeout(r, 200));

    const committed = new Map<string, Set<number>>();
    for (const m of await readAll(`aerogrid.${tenant}.${app}.changelog`)) {
      const [, key] = JSON.parse(m.key!.toString()) as [string, string];
      if (!committed.has(key)) committed.set(key, new Set());
      if (m.value) committed.get(key)!.add((JSON.parse(m.value.toString()) as { units_sold: number }).units_sold);
    }
    const seen = valuesSeen(c.inbox.all);
    expect([...seen.keys()].sort()).toEqual(products);
    for (const [key, values] of seen) {
      // Sums only grow: a value going down is a rolled-back batch the client was shown.
      expect(values, `values of '${key}' shown to the client`).toEqual([...values].sort((x, y) => x - y));
      expect(values.filter((v) => !committed.get(key)?.has(v)), `values of '${key}' never committed`).toEqual([]);
    }
  });
});

describe('staleness', () => {
  it('sets stale_since once records wait with no commit for 5 s while the runtime is away', async () => {
    const app = uniqueName('stale');
    const tenant = uniqueName('t');
    const topic = uniqueName('orders');
    await kafka.ensureTopic(topic, { partitions: 1 });
    const s = await start(app, tenant);
    const r = await FakeRuntime.connect(s.runtimeAddr);
    open.runtimes.push(r);
    const welcome = await r.hello({ app, topics: [{ name: topic, streamed: true }], grids: ORDERS_GRIDS });
    r.autoAck(new OrdersModel(welcome.snapshot).handle);
    await kafka.produce(topic, orders(0, 10, ['a']));
    await waitFor(() => (s.report().last_commit as Msg | null) !== null, { what: 'the first commit' });
    r.destroy();
    await waitFor(() => s.status().state === 'waiting', { what: 'the runtime to be gone' });
    await kafka.produce(topic, orders(10, 200, ['a']));
    const c = await WsClient.open(wsUrl(s.url));
    open.clients.push(c);
    await c.next('hello');
    const stale = await c.next((m) => m.type === 'status' && m.stale_since !== null, 12_000);
    expect(Date.parse(stale.stale_since)).toBeLessThanOrEqual(Date.now() - 5000);
    expect(s.report().stale_since).toBe(stale.stale_since);
  });
});

describe('resume across a restart', () => {
  it('keeps seq durable (the changelog offset after the grid\'s last record), so a client resumes on the restarted sidecar with only what changed', async () => {
    const app = uniqueName('resume');
    const tenant = uniqueName('t');
    const topic = uniqueName('orders');
    await kafka.ensureTopic(topic, { partitions: 1 });
    const products = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const first = await start(app, tenant);
    keepRuntime(first, app, topic);
    await kafka.produce(topic, orders(0, 400, products));
    const c = await WsClient.open(wsUrl(first.url));
    open.clients.push(c);
    await c.next('hello');
    c.send({ op: 'subscribe', id: 's', grid: 'product_sum' });
    let held = await c.next('snapshot', 30_000);
    while (Object.values(held.rows as Record<string, { units_sold: number }>).reduce((n, r) => n + r.units_sold, 0) < 400) {
      const d = await c.next((m) => m.type === 'delta', 30_000);
      held = { ...held, seq: d.seq, rows: { ...held.rows, ...d.upserts } };
    }
    const changelog = await waitFor(async () => {
      const records = await readAll(`aerogrid.${tenant}.${app}.changelog`);
      return records.length > 0 && records;
    }, { what: 'the changelog' });
    expect(held.seq).toBe(Number(changelog.at(-1)!.offset) + 1);
    c.close();
    for (const s of open.stops.splice(0)) await s();
    await open.sidecars.splice(0)[0]!.close();

    // The next process restores the grid; 3 of the 40 products change while the client is away.
    const second = await start(app, tenant);
    keepRuntime(second, app, topic);
    await kafka.produce(topic, orders(400, 3, products));
    await waitFor(async () => {
      const rows = ((await (await fetch(second.url + 'v1/grids/product_sum')).json()) as Msg).rows as Record<string, { units_sold: number }>;
      return Object.values(rows ?? {}).reduce((n, r) => n + r.units_sold, 0) === 403;
    }, { timeoutMs: 30_000, what: 'the 3 new orders' });
    const d = await WsClient.open(wsUrl(second.url));
    open.clients.push(d);
    await d.next('hello');
    const resumed = await d.request({ op: 'subscribe', id: 's', grid: 'product_sum', seq: held.seq }, 15_000);
    expect(resumed).toMatchObject({ type: 'resumed', from_seq: held.seq });
    expect(Object.keys(resumed.upserts).sort()).toEqual(['p0', 'p1', 'p2']);
    expect(resumed.upserts.p0).toEqual({ units_sold: 11 });
  });
});

describe('clients that ask without reading', () => {
  it('keeps all clients\' queued bytes within the sidecar\'s budget, closes the furthest behind with 4008 and a reason, caps connections per address with 1013, and keeps consuming', async () => {
    const app = uniqueName('budget');
    const tenant = uniqueName('t');
    const topic = uniqueName('orders');
    await kafka.ensureTopic(topic, { partitions: 1 });
    const budget = 16 * 1024 * 1024;
    const s = await startSidecar({
      broker: BROKER, port: 0, app, tenant, topicPollMs: 200, logger: createLogger({ name: app, write: () => {} }),
      outboundBudgetBytes: budget, maxBacklogBytes: 8 * 1024 * 1024, maxConnectionsPerAddress: 12,
    });
    open.sidecars.push(s);
    keepRuntime(s, app, topic);
    const products = Array.from({ length: 20_000 }, (_, i) => `product-${i}`);
    for (let i = 0; i < 20_000; i += 5000) await kafka.produce(topic, orders(i, 5000, products));
    await waitFor(async () => ((await (await fetch(s.url + 'v1/grids')).json()) as Msg).grids?.[0]?.rows === 20_000, { timeoutMs: 45_000, what: 'the 20 000 rows' });

    const reader = await WsClient.open(wsUrl(s.url));
    open.clients.push(reader);
    reader.send({ op: 'subscribe', id: 'r', grid: 'product_sum' });
    await reader.next('snapshot', 30_000);
    // Six clients that stop reading and ask for the whole grid again and again.
    const attackers: WsClient[] = [];
    const closes: Promise<{ code: number; reason: string }>[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await WsClient.open(wsUrl(s.url));
      open.clients.push(a);
      closes.push(closedWith(a.ws));
      (a.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
      for (let j = 0; j < 60; j++) a.send({ op: 'subscribe', id: `a${j}`, grid: 'product_sum' });
      attackers.push(a);
    }
    const outbound = async () => Number(/^aerogrid_ws_outbound_bytes\{[^}]*\} (\d+)/m.exec(await (await fetch(s.url + 'metrics')).text())?.[1]);
    let most = 0;
    for (let i = 0; i < 20; i++) {
      most = Math.max(most, await outbound());
      expect((await fetch(s.url + 'healthz')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Within the budget, give or take the one snapshot (about 0.6 MiB) being queued.
    expect(most).toBeLessThanOrEqual(budget + 1024 * 1024);
    for (const a of attackers) (a.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    // Each is closed with 4008 and the reason; one whose close frame could not get through within
    // the 5 s grace (this machine is busy) is cut off (1006).
    const closed = await Promise.all(closes);
    expect(closed.filter((c) => c.code === 4008).length).toBeGreaterThan(0);
    for (const c of closed) {
      if (c.code === 4008) expect(c.reason).toMatch(/^too far behind: /);
      else expect(c.code).toBe(1006);
    }
    const metrics = await (await fetch(s.url + 'metrics')).text();
    const drops = [...metrics.matchAll(/^aerogrid_ws_dropped_total\{[^}]*reason="(budget|backlog)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
    expect(drops).toBe(6);
    expect(metrics).toMatch(/aerogrid_event_loop_delay_seconds\{[^}]*quantile="0.99"\}/);

    // The reader keeps getting deltas and the consumer keeps committing.
    await kafka.produce(topic, orders(0, 1, products));
    const d = await reader.next((m) => m.type === 'delta' && m.upserts['product-0'], 30_000);
    expect(d.upserts['product-0']).toEqual({ units_sold: 2 });
    expect(s.status().state).toBe('running');

    // Connections per address: 12 at most (the reader and these 11), the next gets 1013 and why.
    const more: WsClient[] = [];
    for (let i = 0; i < 11; i++) {
      const m = await WsClient.open(wsUrl(s.url));
      open.clients.push(m);
      more.push(m);
    }
    const refused = new WsClient(wsUrl(s.url));
    open.clients.push(refused);
    expect(await closedWith(refused.ws)).toEqual({ code: 1013, reason: '12 connections from your address already; try again later' });
  }, 120_000);
});
