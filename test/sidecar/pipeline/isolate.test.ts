/** Cutting a batch into one-record batches (no Kafka needed): offsets, sidecar rejects and order stay right. */
import { describe, expect, it } from 'vitest';
import { Dispatcher, type Batch, type Segment } from '../../../sidecar/src/pipeline/dispatcher.js';
import type { WireRecord } from '../../../sidecar/src/runtime/protocol.js';

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
