/**
 * Real Kafka (AEROGRID_TEST_BROKER, default 127.0.0.1:19092) → sidecar → fake runtime → grids.
 * Every test uses its own topics and app (so its own consumer group).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type Sidecar } from '../../../sidecar/src/index.js';
import { createKafkaClient, type KafkaClient, type ProduceMessage } from '../../../sidecar/src/kafka/client.js';
import { createLogger } from '../../../sidecar/src/log.js';
import { BROKER, FakeRuntime, ORDERS_GRIDS, OrdersModel, WsClient, getJson, uniqueName, waitFor, wsUrl, type Msg } from '../../helpers/sidecar.js';

let kafka: KafkaClient;
let sidecar: Sidecar | null = null;
let logs: string[] = [];
const runtimes: FakeRuntime[] = [];
const clients: WsClient[] = [];
const topics: string[] = [];

beforeAll(() => {
  kafka = createKafkaClient({ brokers: [BROKER], clientId: 'aerogrid-sidecar-tests' });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of runtimes.splice(0)) r.destroy();
  await sidecar?.close();
  sidecar = null;
});

afterAll(async () => {
  for (const t of topics) await kafka.deleteTopic(t).catch(() => {});
  await kafka.close();
});

async function newTopic(partitions: number): Promise<string> {
  const t = uniqueName('orders');
  topics.push(t);
  expect(await kafka.ensureTopic(t, { partitions })).toBe(true);
  return t;
}

async function start(app: string, options: Parameters<typeof startSidecar>[0] = {}): Promise<Sidecar> {
  const mine: string[] = [];
  logs = mine;
  sidecar = await startSidecar({
    broker: BROKER,
    port: 0,
    app,
    logger: createLogger({ name: app, write: (l) => mine.push(l) }),
    ...options,
  });
  return sidecar;
}

async function runtime(s: Sidecar): Promise<FakeRuntime> {
  const r = await FakeRuntime.connect(s.runtimeAddr);
  runtimes.push(r);
  return r;
}

function order(i: number, product: string, quantity: unknown): ProduceMessage {
  return { key: `order-${i}`, value: JSON.stringify({ product, quantity }) };
}

async function grid(s: Sidecar, name = 'product_sum'): Promise<Record<string, { units_sold: number }>> {
  return (await getJson(s.url + `v1/grids/${name}`)).body.rows;
}

function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  if (!line) throw new Error(`no metric ${series}`);
  return Number(line.slice(series.length + 1));
}

describe('Kafka → runtime → grids', () => {
  it('consumes all partitions and builds exact grids; bad records are counted, logged and skipped', async () => {
    const topic = await newTopic(3);
    const app = uniqueName('sum');
    const expected: Record<string, number> = {};
    const messages: ProduceMessage[] = [];
    for (let i = 0; i < 3000; i++) {
      const product = `book-${i % 13}`;
      const quantity = (i * 7) % 50;
      expected[product] = (expected[product] ?? 0) + quantity;
      messages.push(order(i, product, quantity));
    }
    const bad: ProduceMessage[] = [
      { key: 'bad-1', value: '{"product": "x", "quantity": ' },
      { key: 'bad-2', value: 'not json at all' },
      { key: 'bad-3', value: JSON.stringify({ product: 'book-1', quantity: 'ten' }) },
      { key: 'bad-4', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
      { key: 'bad-5', value: JSON.stringify({ product: 'boom', quantity: 1 }) },
    ];
    await kafka.produce(topic, [...messages.slice(0, 1500), ...bad, ...messages.slice(1500)]);

    const s = await start(app);
    const watcher = await WsClient.open(wsUrl(s.url));
    clients.push(watcher);
    const r = await runtime(s);
    const welcome = await r.hello({ app, topics: [{ name: topic }], grids: ORDERS_GRIDS });
    expect(welcome.snapshot).toEqual({ product_sum: {} });
    const model = new OrdersModel(welcome.snapshot);
    const batches: Msg[] = [];
    r.autoAck((b) => {
      batches.push(b);
      return model.handle(b);
    });
    const want = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, { units_sold: v }]));
    await waitFor(async () => JSON.stringify(await grid(s)) === JSON.stringify(sortKeys(want)), { what: 'the exact grid', timeoutMs: 30_000 });

    // Every record reached the runtime once, in offset order per partition, in batches of <= 500.
    expect(model.seen).toHaveLength(3004);
    expect(new Set(model.seen).size).toBe(3004);
    expect(Math.max(...batches.map((b) => b.records.length))).toBeLessThanOrEqual(500);
    expect(batches.map((b) => b.id)).toEqual(batches.map((_, i) => i + 1));
    const lastByPartition = new Map<number, bigint>();
    for (const rec of batches.flatMap((b) => b.records)) {
      const prev = lastByPartition.get(rec.partition) ?? -1n;
      expect(BigInt(rec.offset)).toBeGreaterThan(prev);
      lastByPartition.set(rec.partition, BigInt(rec.offset));
      expect(rec.topic).toBe(topic);
      expect(typeof rec.timestamp).toBe('number');
    }
    expect(lastByPartition.size).toBe(3);

    // Rejections: counted by kind (once their batch commits, a little after the grid shows it), logged with where and why.
    const metrics = await waitFor(async () => {
      const text = await (await fetch(s.url + 'metrics')).text();
      return metric(text, `aerogrid_records_total{app="${app}"}`) === 3000 ? text : null;
    }, { what: 'the records counted at commit' });
    expect(metric(metrics, `aerogrid_records_total{app="${app}"}`)).toBe(3000);
    expect(metric(metrics, `aerogrid_records_rejected_total{app="${app}",kind="decode"}`)).toBe(3);
    expect(metric(metrics, `aerogrid_records_rejected_total{app="${app}",kind="validation"}`)).toBe(1);
    expect(metric(metrics, `aerogrid_records_rejected_total{app="${app}",kind="handler"}`)).toBe(1);
    expect(metric(metrics, `aerogrid_batches_total{app="${app}"}`)).toBe(batches.length);
    expect(metric(metrics, `aerogrid_grid_rows{app="${app}",grid="product_sum"}`)).toBe(13);
    const text = logs.join('');
    expect(text).toMatch(new RegExp(`rejected record ${topic}\\[\\d\\]@\\d+ \\(validation\\): field 'quantity': expected int`));
    expect(text).toMatch(new RegExp(`rejected record ${topic}\\[\\d\\]@\\d+ \\(decode\\): the record's value is not valid UTF-8`));
    // A handler error is logged with its traceback, every line prefixed with the app name.
    expect(text).toMatch(
      new RegExp(`\\[${app}\\] warn: rejected record ${topic}\\[\\d\\]@\\d+ \\(handler\\): ValueError: boom\\n\\[${app}\\] warn: Traceback \\(most recent call last\\):\\n\\[${app}\\] warn:   File "app.py", line 20, in sum_orders\\n\\[${app}\\] warn: ValueError: boom\\n`),
    );

    // Offsets are committed up to the end of every partition.
    await waitFor(async () => {
      const committed = await kafka.committedOffsets(`aerogrid.default.${app}`, topic);
      return committed.reduce((n, p) => n + Number(p.offset), 0) === 3005;
    }, { what: 'committed offsets to reach the end of the topic' });

    // A client that watched from the start ends with the same grid (snapshot + deltas).
    const rows: Record<string, unknown> = {};
    const sub = await watcher.request({ op: 'subscribe', id: 'w', grid: 'product_sum' });
    Object.assign(rows, sub.rows);
    const finalSeq = (await getJson(s.url + 'v1/grids/product_sum')).body.seq;
    let seq = sub.seq;
    while (seq < finalSeq) {
      const d = await watcher.next('delta');
      Object.assign(rows, d.upserts);
      seq = d.seq;
    }
    expect(sortKeys(rows)).toEqual(sortKeys(want));
  }, 60_000);

  it('keeps at most max_in_flight batches unacked and re-sends unacked batches to the next runtime', async () => {
    const topic = await newTopic(1);
    const app = uniqueName('resend');
    const messages: ProduceMessage[] = [];
    for (let i = 0; i < 3000; i++) messages.push(order(i, `p${i % 5}`, 1 + (i % 3)));
    await kafka.produce(topic, messages);
    const s = await start(app);
    const group = `aerogrid.default.${app}`;

    // Runtime A: takes batches but acks only the first one, then dies.
    const a = await runtime(s);
    const modelA = new OrdersModel((await a.hello({ app, topics: [{ name: topic }], grids: ORDERS_GRIDS })).snapshot);
    const sentToA: Msg[] = [];
    for (let i = 0; i < 4; i++) sentToA.push(await a.next('batch', 20_000));
    // No fifth batch while four are unacked.
    await new Promise((res) => setTimeout(res, 300));
    expect(a.inbox.pending((m) => m.type === 'batch')).toHaveLength(0);
    a.ackWith(sentToA[0]!, modelA.handle);
    const fifth = await a.next('batch');
    expect(fifth.id).toBe(5);
    const afterFirst = await waitFor(async () => {
      const rows = await grid(s);
      return Object.keys(rows).length > 0 && rows;
    }, { what: 'the first ack to reach the grid' });
    const firstBatchEnd = BigInt(sentToA[0]!.records.at(-1).offset) + 1n;
    await waitFor(async () => {
      const [p] = await kafka.committedOffsets(group, topic);
      return p && BigInt(p.offset) === firstBatchEnd;
    }, { what: 'the offset of the acked batch to be committed' });
    a.destroy();
    await a.closed;
    await waitFor(async () => (await getJson(s.url + 'readyz')).body.message === 'waiting for the runtime to reconnect', {
      what: 'the sidecar to notice the disconnect',
    });
    // Nothing unacked was committed.
    expect(BigInt((await kafka.committedOffsets(group, topic))[0]!.offset)).toBe(firstBatchEnd);
    expect(await grid(s)).toEqual(afterFirst);

    // Runtime B: starts from the grids as of the last ack and gets the unacked batches again, in order.
    const b = await runtime(s);
    const welcomeB = await b.hello({ app, topics: [{ name: topic }], grids: ORDERS_GRIDS });
    expect(welcomeB.snapshot.product_sum).toEqual(afterFirst);
    const modelB = new OrdersModel(welcomeB.snapshot);
    const unacked = [...sentToA.slice(1), fifth];
    for (let i = 0; i < unacked.length; i++) {
      const again = await b.next('batch');
      expect(again.id).toBe(i + 1);
      expect(again.records).toEqual(unacked[i]!.records);
      b.ackWith(again, modelB.handle);
    }
    b.autoAck(modelB.handle);
    const want: Record<string, { units_sold: number }> = {};
    for (let i = 0; i < 3000; i++) {
      const k = `p${i % 5}`;
      want[k] = { units_sold: (want[k]?.units_sold ?? 0) + 1 + (i % 3) };
    }
    await waitFor(async () => JSON.stringify(await grid(s)) === JSON.stringify(sortKeys(want)), { what: 'the exact grid', timeoutMs: 30_000 });
    // Each record was acked exactly once across both runtimes.
    const acked = [...modelA.seen, ...modelB.seen];
    expect(acked).toHaveLength(3000);
    expect(new Set(acked).size).toBe(3000);
    await waitFor(async () => (await kafka.committedOffsets(group, topic))[0]!.offset === '3000', { what: 'all offsets committed' });
    const metrics = await (await fetch(s.url + 'metrics')).text();
    expect(metric(metrics, `aerogrid_runtime_restarts_total{app="${app}"}`)).toBe(1);
  }, 60_000);

  it('waits for a missing topic, then consumes it once it exists', async () => {
    const topic = uniqueName('later');
    topics.push(topic);
    const app = uniqueName('waits');
    const s = await start(app, { topicPollMs: 200 });
    const watcher = await WsClient.open(wsUrl(s.url));
    clients.push(watcher);
    await watcher.next('hello');
    const r = await runtime(s);
    const model = new OrdersModel((await r.hello({ app, topics: [{ name: topic }, { name: 'not-streamed', streamed: false }], grids: ORDERS_GRIDS })).snapshot);
    r.autoAck(model.handle);
    const waitingMessage = `waiting for topic '${topic}' to exist (create it or check the name)`;
    await watcher.next((m) => m.type === 'status' && m.state === 'waiting' && m.message === waitingMessage);
    const notReady = await getJson(s.url + 'readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ ready: false, state: 'waiting', message: waitingMessage, stale_since: null });
    expect(await kafka.topicExists(topic)).toBe(false);

    await kafka.ensureTopic(topic, { partitions: 2 });
    await kafka.produce(topic, [order(1, 'a', 2), order(2, 'b', 3), order(3, 'a', 4)]);
    await watcher.next((m) => m.type === 'status' && m.state === 'running', 20_000);
    await waitFor(async () => JSON.stringify(await grid(s)) === JSON.stringify({ a: { units_sold: 6 }, b: { units_sold: 3 } }), {
      what: 'the grid',
    });
    expect((await getJson(s.url + 'readyz')).status).toBe(200);
    // The topic declared with streamed: false is not consumed (and not waited for).
    expect(await kafka.topicExists('not-streamed')).toBe(false);
  }, 60_000);
});

describe('a runtime that streams other topics than the last one', () => {
  it('restarts the consumer on the new topics and keeps the grids', async () => {
    const first = await newTopic(1);
    const second = await newTopic(2);
    await kafka.produce(first, [order(1, 'a', 1), order(2, 'a', 2)]);
    await kafka.produce(second, [order(3, 'b', 5), order(4, 'b', 5), order(5, 'a', 10)]);
    const app = uniqueName('switch');
    const s = await start(app);
    const a = await runtime(s);
    const modelA = new OrdersModel((await a.hello({ app, topics: [{ name: first }], grids: ORDERS_GRIDS })).snapshot);
    a.autoAck(modelA.handle);
    await waitFor(async () => JSON.stringify(await grid(s)) === JSON.stringify({ a: { units_sold: 3 } }), { what: 'the first grid' });
    await a.close();

    const b = await runtime(s);
    const welcome = await b.hello({ app, topics: [{ name: first, streamed: false }, { name: second }], grids: ORDERS_GRIDS });
    expect(welcome.snapshot.product_sum).toEqual({ a: { units_sold: 3 } });
    const modelB = new OrdersModel(welcome.snapshot);
    b.autoAck(modelB.handle);
    await waitFor(async () => JSON.stringify(await grid(s)) === JSON.stringify({ a: { units_sold: 13 }, b: { units_sold: 10 } }), {
      what: 'the grid with the second topic',
      timeoutMs: 30_000,
    });
    expect(modelB.seen.every((r) => r.startsWith(`${second}/`))).toBe(true);
    expect(modelB.seen).toHaveLength(3);
    expect(logs.join('')).toContain('restarting the consumer');
  }, 60_000);
});

describe('Kafka client', () => {
  it('creates topics once, lists them, and produces with keys and headers', async () => {
    const t = uniqueName('client');
    topics.push(t);
    expect(await kafka.topicExists(t)).toBe(false);
    expect(await kafka.ensureTopic(t, { partitions: 2, config: { 'cleanup.policy': 'compact' } })).toBe(true);
    expect(await kafka.ensureTopic(t, { partitions: 5 })).toBe(false);
    expect(await kafka.topicExists(t)).toBe(true);
    expect(await kafka.partitionCount(t)).toBe(2);
    const list = await kafka.listTopics();
    expect(list).toContain(t);
    expect(list.some((n) => n.startsWith('__'))).toBe(false);
    await kafka.produce(t, [{ key: 'k', value: 'v', headers: { reason: 'test' } }]);
    await expect(kafka.produce(uniqueName('missing'), [{ key: 'k', value: 'v' }])).rejects.toThrow(/does not exist/);
  }, 30_000);
});

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
