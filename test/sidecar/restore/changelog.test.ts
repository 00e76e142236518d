/**
 * The changelog on real Kafka: every acked batch's grid changes land in the compacted topic
 * `aerogrid.<tenant>.<app>.changelog`, tagged with the source offsets; a new sidecar restores the
 * grids from it before any runtime connects, serves them, hands them to the runtime in `welcome`,
 * and resumes from the committed offsets (nothing counted twice). A batch that hangs past the
 * deadline ends the session and is re-run by the next runtime.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSidecar, type Sidecar } from '../../../sidecar/src/index.js';
import { createKafkaClient, type ReadMessage, type ProduceMessage } from '../../../sidecar/src/kafka/client.js';
import { createLogger } from '../../../sidecar/src/log.js';
import { GridStore } from '../../../sidecar/src/grids.js';
import { restoreGrids } from '../../../sidecar/src/restore/restore.js';
import { BROKER, FakeRuntime, OrdersModel, ORDERS_GRIDS, uniqueName, waitFor, WsClient, wsUrl, type Msg } from '../../helpers/sidecar.js';

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

/** A changelog record: key `["grid","key"]`, value the row as JSON text (or as given), null for a tombstone. */
const row = (grid: string, key: string, value: object | string | null): ProduceMessage => ({
  key: JSON.stringify([grid, key]), value: value === null || typeof value === 'string' ? value : JSON.stringify(value), partition: 0,
});

async function changelogTopic(app: string, tenant: string): Promise<string> {
  const topic = `aerogrid.${tenant}.${app}.changelog`;
  await kafka.ensureTopic(topic, { partitions: 1, config: { 'cleanup.policy': 'compact' } });
  return topic;
}

describe('changelog and restore', () => {
  it('creates the dead-letter topic with the retention it is given (retention.ms)', async () => {
    const app = uniqueName('dlq-retention');
    const tenant = uniqueName('t');
    const s = await start(app, tenant, { deadLetterRetentionMs: 2 * 24 * 3600 * 1000 });
    await waitFor(async () => (await getJson(s.url + 'readyz')).body.restore?.state === 'done', { what: 'the restore' });
    expect(await kafka.topicConfig(`aerogrid.${tenant}.${app}.dlq`, 'retention.ms')).toBe(String(2 * 24 * 3600 * 1000));
    expect(await kafka.topicConfig(`aerogrid.${tenant}.${app}.changelog`, 'cleanup.policy')).toBe('compact');
  });

  it('restores the grids from the changelog before any runtime connects, and hands them over in welcome', async () => {
    const app = uniqueName('restore');
    const tenant = uniqueName('t');
    const topic = await changelogTopic(app, tenant);
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

  it('restores a changelog of many batches: tombstones, escaped keys, and records that are not rows counted and skipped', async () => {
    const app = uniqueName('restore-many');
    const tenant = uniqueName('t');
    const topic = await changelogTopic(app, tenant);
    const n = 20_000; // two chunks of the reader
    for (let i = 0; i < n; i += 10_000) {
      await kafka.produce(topic, Array.from({ length: 10_000 }, (_, j) => row('product_sum', `k${i + j}`, { units_sold: i + j })));
    }
    // Every even key deleted, spread over the whole log.
    for (let i = 0; i < n; i += 20_000) {
      await kafka.produce(topic, Array.from({ length: 10_000 }, (_, j) => row('product_sum', `k${i + 2 * j}`, null)));
    }
    const odd = '{"units_sold": 7} ';
    await kafka.produce(topic, [
      row('product_sum', 'k0', { units_sold: -1 }), // back after its tombstone
      row('product_sum', 'quo"te\\ é', { units_sold: 5 }), // a key that needs escaping
      row('other', 'x', odd), // whitespace around a row is fine
      // Not grid rows: each is counted once and none disturbs its neighbours.
      { key: 'not a changelog key', value: '{"units_sold":1}', partition: 0 },
      row('product_sum', 'array', '[1,2]'),
      row('product_sum', 'open', '{"units_sold":"x'),
      row('product_sum', 'close', 'y"}'),
      row('product_sum', 'two', '{"a":1},{"b":2}'),
      row('product_sum', 'colon', '{"units_sold" 1}'), // balanced, yet not JSON
      row('product_sum', 'after', { units_sold: 9 }),
    ]);
    const total = n + n / 2 + 10;
    const lines: string[] = [];
    const s = await start(app, tenant, { logger: createLogger({ name: app, write: (l) => void lines.push(l) }) });
    const ready = await waitFor(async () => {
      const r = await getJson(s.url + 'readyz');
      return r.body.restore?.state === 'done' && r;
    }, { what: 'the restore' });
    expect(ready.body.restore).toMatchObject({ state: 'done', records_read: total, records_total: total, rows: n / 2 + 4 });
    const rows = (await getJson(s.url + 'v1/grids/product_sum')).body.rows;
    expect(Object.keys(rows)).toHaveLength(n / 2 + 3);
    expect(rows).toMatchObject({ k0: { units_sold: -1 }, k1: { units_sold: 1 }, k19999: { units_sold: 19999 }, 'quo"te\\ é': { units_sold: 5 }, after: { units_sold: 9 } });
    for (const gone of ['k2', 'k19998', 'array', 'open', 'close', 'two', 'colon']) expect(rows).not.toHaveProperty([gone]);
    expect((await getJson(s.url + 'v1/grids/other')).body.rows).toEqual({ x: { units_sold: 7 } });
    expect(lines.join('')).toContain(`the changelog '${topic}' holds 6 records that are not grid rows; ignored`);
    expect(lines.join('')).toMatch(new RegExp(`restored ${n / 2 + 4} rows in 2 grids from '${topic}' \\(${total} records in `));
  });

  it('restores an empty changelog (a new app) without a reader thread, ending at its offsets', async () => {
    const app = uniqueName('restore-empty');
    const tenant = uniqueName('t');
    const topic = await changelogTopic(app, tenant);
    const store = new GridStore();
    let readers = 0;
    const options = { kafka, topic, groupPrefix: 'test.restore', logger: createLogger({ name: app, write: () => {} }), onReader: () => void (readers += 1) };
    expect(await restoreGrids(store, options)).toMatchObject({ records: 0, rows: 0, grids: 0, ends: [{ partition: 0, low: '0', high: '0' }] });
    expect(readers).toBe(0);
    expect(store.names()).toEqual([]);
    // One record later, the same restore reads it on a reader thread.
    await kafka.produce(topic, [row('product_sum', 'k', { units_sold: 1 })]);
    expect(await restoreGrids(store, options)).toMatchObject({ records: 1, rows: 1, ends: [{ partition: 0, high: '1' }] });
    expect(readers).toBe(1);
    expect(store.get('product_sum')?.rows.get('k')).toEqual({ units_sold: 1 });
  });

  it('fails a restore whose reader thread dies, leaving the grids untouched', async () => {
    const app = uniqueName('restore-dies');
    const tenant = uniqueName('t');
    const topic = await changelogTopic(app, tenant);
    const n = 10_000; // 10 chunks of 1000: more than the reader may hand over before the first is folded
    for (let i = 0; i < n; i += 5000) {
      await kafka.produce(topic, Array.from({ length: 5000 }, (_, j) => row('product_sum', `k${i + j}`, { units_sold: i + j })));
    }
    const store = new GridStore();
    let stopped = false;
    let reader: { terminate(): Promise<number> } | null = null;
    const options = { kafka, topic, groupPrefix: 'test.restore', logger: createLogger({ name: app, write: () => {} }), chunkRecords: 1000 };
    const restoring = restoreGrids(store, {
      ...options,
      onReader: (r) => void (reader = r),
      // Stopped once it handed over its first rows (it cannot be done: it waits for the main thread).
      onProgress: (read) => void (read > 0 && !stopped && (stopped = true) && reader!.terminate()),
    });
    await expect(restoring).rejects.toThrow(`the changelog reader stopped before the end of '${topic}'`);
    expect(stopped).toBe(true);
    expect(store.names()).toEqual([]);
    // The next attempt (the sidecar retries) reads it all.
    const again = await restoreGrids(store, options);
    expect(again).toMatchObject({ records: n, rows: n, bad: 0 });
    expect(store.get('product_sum')?.rows.get('k9999')).toEqual({ units_sold: 9999 });
  });

  it('cancels a restore when the sidecar stops: the reader thread ends, the grids stay untouched', async () => {
    const app = uniqueName('restore-cancel');
    const tenant = uniqueName('t');
    const topic = await changelogTopic(app, tenant);
    await kafka.produce(topic, Array.from({ length: 5000 }, (_, j) => row('product_sum', `k${j}`, { units_sold: j })));
    const store = new GridStore();
    const stopping = new AbortController();
    let exited: Promise<number> | null = null;
    const restoring = restoreGrids(store, {
      kafka, topic, groupPrefix: 'test.restore', logger: createLogger({ name: app, write: () => {} }), chunkRecords: 1000,
      signal: stopping.signal,
      onReader: (r) => void (exited = new Promise((resolve) => r.once('exit', resolve))),
      onProgress: (read) => void (read > 0 && stopping.abort()),
    });
    await expect(restoring).rejects.toThrow(`the restore from '${topic}' was cancelled: the sidecar is stopping`);
    expect(typeof (await exited)).toBe('number');
    expect(store.names()).toEqual([]);
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
