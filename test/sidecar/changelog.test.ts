/**
 * The changelog on real Kafka: every acked batch's grid changes land in the compacted topic
 * `aerogrid.<tenant>.<app>.changelog`, tagged with the source offsets; a new sidecar restores the
 * grids from it before any runtime connects, serves them, hands them to the runtime in `welcome`,
 * and resumes from the committed offsets (nothing counted twice). A batch that hangs past the
 * deadline ends the session and is re-run by the next runtime.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSidecar, type Sidecar } from '../../sidecar/src/index.js';
import { createKafkaClient, type ReadMessage, type ProduceMessage } from '../../sidecar/src/kafka/client.js';
import { createLogger } from '../../sidecar/src/log.js';
import { BROKER, FakeRuntime, OrdersModel, ORDERS_GRIDS, uniqueName, waitFor, WsClient, wsUrl, type Msg } from './helpers.js';

const kafka = createKafkaClient({ brokers: [BROKER], clientId: 'test-changelog', logger: { warn: () => {}, error: () => {} } });
const open: { sidecars: Sidecar[]; runtimes: FakeRuntime[]; clients: WsClient[] } = { sidecars: [], runtimes: [], clients: [] };

afterEach(async () => {
  for (const c of open.clients.splice(0)) c.close();
  for (const r of open.runtimes.splice(0)) r.destroy();
  for (const s of open.sidecars.splice(0)) await s.close();
});

afterAll(async () => {
  await kafka.close();
});

async function start(app: string, tenant: string, options: Parameters<typeof startSidecar>[0] = {}): Promise<Sidecar> {
  const s = await startSidecar({
    broker: BROKER, port: 0, app, tenant, topicPollMs: 200,
    logger: createLogger({ name: app, write: () => {} }),
    ...options,
  });
  open.sidecars.push(s);
  return s;
}

async function runtime(s: Sidecar): Promise<FakeRuntime> {
  const r = await FakeRuntime.connect(s.runtimeAddr);
  open.runtimes.push(r);
  return r;
}

async function getJson(url: string): Promise<{ status: number; body: Msg }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Msg };
}

async function readAll(topic: string): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  await kafka.readTopic(topic, { onMessages: (_p, m) => out.push(...m) });
  return out;
}

const order = (i: number, product: string, quantity: number): ProduceMessage => ({ key: `o-${i}`, value: JSON.stringify({ product, quantity }) });

describe('changelog and restore', () => {
  it('restores the grids from the changelog before any runtime connects, and hands them over in welcome', async () => {
    const app = uniqueName('restore');
    const tenant = uniqueName('t');
    const topic = `aerogrid.${tenant}.${app}.changelog`;
    await kafka.ensureTopic(topic, { partitions: 1, config: { 'cleanup.policy': 'compact' } });
    const row = (grid: string, key: string, value: object | null): ProduceMessage => ({
      key: JSON.stringify([grid, key]), value: value === null ? null : JSON.stringify(value), partition: 0,
    });
    await kafka.produce(topic, [
      row('product_sum', 'a', { units_sold: 1 }),
      row('product_sum', 'b', { units_sold: 2 }),
      row('product_sum', 'a', { units_sold: 10 }), // a later value wins
      row('product_sum', 'gone', { units_sold: 3 }),
      row('product_sum', 'gone', null), // a tombstone removes the row
      row('other', 'x', { v: 'y' }),
    ]);
    const s = await start(app, tenant);
    const ready = await waitFor(async () => {
      const r = await getJson(s.url + 'readyz');
      return r.body.restore?.state === 'done' && r;
    }, { what: 'the restore' });
    expect(ready.status).toBe(503); // no runtime yet
    expect(ready.body.restore).toMatchObject({ state: 'done', records_read: 6, rows: 3 });
    expect((await getJson(s.url + 'v1/grids/product_sum')).body.rows).toEqual({ a: { units_sold: 10 }, b: { units_sold: 2 } });
    const c = await WsClient.open(wsUrl(s.url));
    open.clients.push(c);
    await c.next('hello');
    c.send({ op: 'subscribe', id: 's', grid: 'product_sum' });
    expect((await c.next('snapshot')).rows).toEqual({ a: { units_sold: 10 }, b: { units_sold: 2 } });

    const r = await runtime(s);
    const welcome = await r.hello({ app, grids: ORDERS_GRIDS });
    expect(welcome.snapshot.product_sum).toEqual({ a: { units_sold: 10 }, b: { units_sold: 2 } });
    const status = (await getJson(s.url + 'v1/status')).body;
    expect(status.restore).toMatchObject({ state: 'done', rows: 3 });
    expect(status.commit).toMatchObject({ mode: 'transaction', changelog_topic: topic, transactional_id: `aerogrid.${tenant}.${app}.tx` });
  });

  it('writes each batch to the changelog with its source offsets; a new sidecar resumes exactly', async () => {
    const app = uniqueName('resume');
    const tenant = uniqueName('t');
    const source = uniqueName('orders');
    await kafka.ensureTopic(source, { partitions: 2 });
    await kafka.produce(source, [order(1, 'a', 2), order(2, 'b', 3), order(3, 'a', 4), order(4, 'c', 1)]);

    const s1 = await start(app, tenant);
    const r1 = await runtime(s1);
    const m1 = new OrdersModel((await r1.hello({ app, topics: [{ name: source }], grids: ORDERS_GRIDS })).snapshot);
    r1.autoAck(m1.handle);
    const expected1 = { a: { units_sold: 6 }, b: { units_sold: 3 }, c: { units_sold: 1 } };
    await waitFor(async () => JSON.stringify((await getJson(s1.url + 'v1/grids/product_sum')).body.rows) === JSON.stringify(expected1), { what: 'the first grid' });
    await waitFor(async () => (await getJson(s1.url + 'v1/status')).body.lag.every((l: Msg) => l.lag === 0), { what: 'committed' });
    await s1.close();
    open.sidecars.splice(open.sidecars.indexOf(s1), 1);

    const log = await readAll(`aerogrid.${tenant}.${app}.changelog`);
    expect(log.length).toBeGreaterThanOrEqual(3);
    for (const m of log) {
      expect(JSON.parse(m.key!.toString())[0]).toBe('product_sum');
      expect(String(m.headers?.['aerogrid-source'])).toMatch(new RegExp(`^${source}/[01]/\\d+(,${source}/[01]/\\d+)*$`));
    }

    // More orders while no sidecar runs; the next one restores, resumes and adds only those.
    await kafka.produce(source, [order(5, 'a', 100), order(6, 'd', 7)]);
    const s2 = await start(app, tenant);
    const r2 = await runtime(s2);
    const welcome = await r2.hello({ app, topics: [{ name: source }], grids: ORDERS_GRIDS });
    expect(welcome.snapshot.product_sum).toEqual(expected1);
    const m2 = new OrdersModel(welcome.snapshot);
    r2.autoAck(m2.handle);
    const expected2 = { a: { units_sold: 106 }, b: { units_sold: 3 }, c: { units_sold: 1 }, d: { units_sold: 7 } };
    await waitFor(async () => JSON.stringify((await getJson(s2.url + 'v1/grids/product_sum')).body.rows) === JSON.stringify(expected2), { what: 'the resumed grid' });
    // Only the two new records went to the second runtime.
    expect(m2.seen).toHaveLength(2);
  });

  it('ends a session whose batch runs past the deadline and re-runs the batch in the next one', async () => {
    const app = uniqueName('deadline');
    const tenant = uniqueName('t');
    const source = uniqueName('orders');
    await kafka.ensureTopic(source, { partitions: 1 });
    await kafka.produce(source, [order(1, 'a', 2), order(2, 'a', 3)]);
    const s = await start(app, tenant, { batchDeadlineMs: 1000 });
    const hung = await runtime(s);
    await hung.hello({ app, topics: [{ name: source }], grids: ORDERS_GRIDS });
    await hung.next('batch'); // ... and never acks it
    const error = await hung.next('error', 10_000);
    expect(error.code).toBe('deadline');
    await hung.closed;
    const r = await runtime(s);
    const m = new OrdersModel((await r.hello({ app, topics: [{ name: source }], grids: ORDERS_GRIDS })).snapshot);
    r.autoAck(m.handle);
    await waitFor(async () => (await getJson(s.url + 'v1/grids/product_sum')).body.rows.a?.units_sold === 5, { what: 'the re-run batch' });
    const status = (await getJson(s.url + 'v1/status')).body;
    expect(status.runtime).toMatchObject({ deadline_exceeded: 1, restarts: 1 });
  });
});
