/**
 * Cutting a batch into one-record batches: offsets, sidecar rejects and order stay right (no Kafka
 * needed); and on real Kafka, a batch too slow as a whole is re-run one record at a time with
 * nothing dead-lettered (a stand-in runtime plays the slow one).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSidecar, type Sidecar } from '../../../sidecar/src/index.js';
import { createKafkaClient } from '../../../sidecar/src/kafka/client.js';
import { createLogger } from '../../../sidecar/src/log.js';
import { Dispatcher, type Batch, type Segment } from '../../../sidecar/src/pipeline/dispatcher.js';
import type { WireRecord } from '../../../sidecar/src/runtime/protocol.js';
import { BROKER, FakeRuntime, OrdersModel, ORDERS_GRIDS, getJson, uniqueName, waitFor } from '../../helpers/sidecar.js';

const rec = (partition: number, offset: number): WireRecord => ({ topic: 't', partition, offset: String(offset), timestamp: 0, key: `k${offset}`, value: '{}' });
const reject = (partition: number, offset: number) => ({ topic: 't', partition, offset: String(offset), kind: 'decode' as const, reason: 'not UTF-8' });

function sent(d: Dispatcher): Batch[] {
  const out: Batch[] = [];
  d.attach({ sendBatch: () => {} });
  for (let b = d.oldestSent; b; b = d.oldestSent) {
    out.push(b);
    d.acked(b);
  }
  return out;
}

describe('Dispatcher.isolate', () => {
  it('re-sends a batch as one batch per record, each with the sidecar rejects before it, offsets ending where the segments did', () => {
    const d = new Dispatcher({ maxInFlight: 4, batchSize: 500 });
    const sink = { sendBatch() {} };
    const p0: Segment = { topic: 't', partition: 0, lastOffset: '5', records: [rec(0, 1), rec(0, 3)], rejected: [reject(0, 0), reject(0, 2), reject(0, 4), reject(0, 5)] };
    const p1: Segment = { topic: 't', partition: 1, lastOffset: '9', records: [rec(1, 9)], rejected: [] };
    d.submit(p0);
    d.submit(p1);
    d.attach(sink);
    const batch = d.oldestSent!;
    expect(batch.records).toHaveLength(3);
    d.detach(sink);
    expect(d.isolate(batch)).toBe(3);
    expect(d.isolating).toBe(true);
    const pieces = sent(d);
    expect(pieces.map((b) => b.records.map((r) => `${r.partition}@${r.offset}`))).toEqual([['0@1'], ['0@3'], ['1@9']]);
    expect(pieces.map((b) => b.segments.map((s) => s.lastOffset))).toEqual([['1'], ['5'], ['9']]);
    expect(pieces.map((b) => b.segments.flatMap((s) => s.rejected.map((r) => r.offset)))).toEqual([['0'], ['2', '4', '5'], []]);
    expect(pieces.every((b) => b.isolated && Dispatcher.single(b) && b.seq === batch.seq)).toBe(true);
    expect(d.isolating).toBe(false);
  });

  it('keeps segments the sidecar rejected whole with the piece they followed, and later batches behind the pieces', () => {
    const d = new Dispatcher({ maxInFlight: 1, batchSize: 2 });
    const sink = { sendBatch() {} };
    d.attach(sink);
    d.submit({ topic: 't', partition: 0, lastOffset: '1', records: [rec(0, 0), rec(0, 1)], rejected: [] });
    d.submit({ topic: 't', partition: 0, lastOffset: '2', records: [], rejected: [reject(0, 2)] }); // rides along
    d.submit({ topic: 't', partition: 0, lastOffset: '3', records: [rec(0, 3)], rejected: [] }); // the next batch
    const batch = d.oldestSent!;
    d.detach(sink);
    d.isolate(batch);
    const all = sent(d);
    expect(all.map((b) => [b.isolated ?? false, b.segments.map((s) => s.lastOffset)])).toEqual([
      [true, ['0']],
      [true, ['1', '2']],
      [false, ['3']],
    ]);
  });
});

describe('a batch too slow as a whole (real Kafka, a stand-in runtime)', () => {
  const kafka = createKafkaClient({ brokers: [BROKER], clientId: 'test-isolate', logger: { warn: () => {}, error: () => {} } });
  const open: { sidecars: Sidecar[]; runtimes: FakeRuntime[] } = { sidecars: [], runtimes: [] };
  afterAll(async () => {
    for (const r of open.runtimes) r.destroy();
    for (const s of open.sidecars) await s.close();
    await kafka.close();
  });

  it('is re-run one record at a time: every record counts, none is dead-lettered, and failing says none hung alone', async () => {
    const app = uniqueName('slow');
    const source = uniqueName('orders');
    await kafka.ensureTopic(source, { partitions: 1 });
    await kafka.produce(source, [1, 2, 3].map((q, i) => ({ key: `o-${i}`, value: JSON.stringify({ product: 'a', quantity: q }) })));
    const s = await startSidecar({ broker: BROKER, port: 0, app, tenant: uniqueName('t'), topicPollMs: 200, batchDeadlineMs: 1000, logger: createLogger({ name: app, write: () => {} }) });
    open.sidecars.push(s);
    const slow = await FakeRuntime.connect(s.runtimeAddr);
    open.runtimes.push(slow);
    await slow.hello({ app, topics: [{ name: source }], grids: ORDERS_GRIDS });
    expect((await slow.next('batch')).records).toHaveLength(3); // ... and never acks it
    expect((await slow.next('error', 10_000)).code).toBe('deadline');
    const r = await FakeRuntime.connect(s.runtimeAddr);
    open.runtimes.push(r);
    const m = new OrdersModel((await r.hello({ app, topics: [{ name: source }], grids: ORDERS_GRIDS })).snapshot);
    const sizes: number[] = [];
    r.autoAck((b) => {
      sizes.push(b.records.length);
      return m.handle(b);
    });
    const status = await waitFor(async () => {
      const body = (await getJson(s.url + 'v1/status')).body;
      return body.records.processed === 3 ? body : null;
    }, { what: 'the three records committed' });
    expect(sizes).toEqual([1, 1, 1]);
    expect((await getJson(s.url + 'v1/grids/product_sum')).body.rows).toEqual({ a: { units_sold: 6 } });
    expect(status.records.dead_lettered).toEqual({ decode: 0, validation: 0, handler: 0 });
    expect(status.state).toBe('failing');
    expect(status.message).toBe('batch 1 was not acked within 1 s (the batch deadline); none of its records hung on its own when re-run one at a time');
  });
});

describe('batch sizes in bytes', () => {
  it('rejects a record too large for any runtime batch as decode, measuring its JSON only when it is large', async () => {
    const { toSegment, MAX_RECORD_WIRE_BYTES } = await import('../../../sidecar/src/pipeline/source.js');
    const msg = (offset: string, value: Buffer) => ({ offset, key: Buffer.from('k'), value, headers: {}, timestamp: 0 });
    // 11.2 MB of control characters: 67 MB as JSON (\u0001 each), over the 64 MiB line limit.
    const seg = toSegment('t', 0, [msg('0', Buffer.alloc(11_200_000, 0x01)), msg('1', Buffer.alloc(11_200_000, 0x61)), msg('2', Buffer.from('{}'))]);
    expect(seg.rejected).toEqual([{ topic: 't', partition: 0, offset: '0', kind: 'decode', reason: expect.stringMatching(new RegExp(`^the record takes \\d+ bytes in a runtime batch, more than the ${MAX_RECORD_WIRE_BYTES} one may carry$`)) }]);
    expect(seg.records.map((r) => r.offset)).toEqual(['1', '2']);
    expect(seg.bytes).toBeGreaterThan(11_200_000);
  });

  it('packs segments into one batch only up to BATCH_BYTES; a larger segment goes alone', async () => {
    const { BATCH_BYTES } = await import('../../../sidecar/src/pipeline/dispatcher.js');
    const d = new Dispatcher({ maxInFlight: 10, batchSize: 500 });
    const big = (partition: number, bytes: number): Segment => ({ topic: 't', partition, lastOffset: '0', records: [rec(partition, 0)], rejected: [], bytes });
    d.submit(big(0, BATCH_BYTES / 2));
    d.submit(big(1, BATCH_BYTES / 2));
    d.submit(big(2, 1));
    d.submit(big(3, 2 * BATCH_BYTES));
    d.submit(big(4, 1));
    const batches = sent(d);
    expect(batches.map((b) => b.segments.map((s) => s.partition))).toEqual([[0, 1], [2], [3], [4]]);
  });
});
