/** The changelog record format and the merging of batches acked during a transaction (no Kafka needed). */
import { describe, expect, it } from 'vitest';
import { changelogKey, changelogRecordMayExceed, changelogRecords, mergeAcked, parseChangelogKey, THIS_WRITER, type AckedBatch } from '../../../sidecar/src/pipeline/committer.js';
import { produceRequests, recordBytes } from '../../../sidecar/src/kafka/client.js';
import { chooseWriter } from '../../../sidecar/src/kafka/single-writer.js';

describe('changelog records', () => {
  it('keys round-trip for every kind of grid key', () => {
    for (const key of ['How to...', '', 'a"b', 'back\\slash', 'x","y', 'ünïcödé', 'line\nbreak', '["nested"]', '\ud800']) {
      expect(parseChangelogKey(changelogKey('product_sum', key))).toEqual({ grid: 'product_sum', key });
    }
    expect(parseChangelogKey('not json')).toBeNull();
    expect(parseChangelogKey('["only one"]')).toBeNull();
    expect(parseChangelogKey('[1, "x"]')).toBeNull();
  });

  it('writes upserts and tombstones tagged with the source offsets and the writer', () => {
    const records = changelogRecords({
      seq: 7,
      deltas: [{ grid: 'g', key: 'a', row: { v: 1 } }, { grid: 'g', key: 'b', deleted: true }],
      processed: 2,
      rejected: [],
      offsets: [{ topic: 'orders', partition: 0, offset: '11' }, { topic: 'orders', partition: 2, offset: '5' }],
    });
    expect(records).toEqual([
      { key: '["g","a"]', value: '{"v":1}', partition: 0, headers: { 'aerogrid-source': 'orders/0/10,orders/2/4', 'aerogrid-batch': '7', 'aerogrid-writer': THIS_WRITER } },
      { key: '["g","b"]', value: null, partition: 0, headers: { 'aerogrid-source': 'orders/0/10,orders/2/4', 'aerogrid-batch': '7', 'aerogrid-writer': THIS_WRITER } },
    ]);
  });

  it('merges batches: the last change per row, every reject and dead letter, the processed count, the highest offsets', () => {
    const b = (seq: number, deltas: AckedBatch['deltas'], offsets: AckedBatch['offsets'], reject?: string): AckedBatch => ({
      seq, deltas, offsets, processed: seq,
      rejected: reject ? [{ topic: 't', partition: 0, offset: reject, kind: 'decode', reason: 'x' }] : [],
      deadLetters: reject ? [{ key: reject, value: null }] : [],
    });
    const merged = mergeAcked([
      b(1, [{ grid: 'g', key: 'a', row: { v: 1 } }, { grid: 'g', key: 'b', row: { v: 1 } }], [{ topic: 't', partition: 0, offset: '3' }], '1'),
      b(2, [{ grid: 'g', key: 'a', row: { v: 2 } }], [{ topic: 't', partition: 1, offset: '9' }]),
      b(3, [{ grid: 'g', key: 'b', deleted: true }], [{ topic: 't', partition: 0, offset: '6' }], '5'),
    ]);
    expect(merged.seq).toBe(3);
    expect(merged.deltas).toEqual([{ grid: 'g', key: 'a', row: { v: 2 } }, { grid: 'g', key: 'b', deleted: true }]);
    expect(merged.offsets).toEqual([{ topic: 't', partition: 0, offset: '6' }, { topic: 't', partition: 1, offset: '9' }]);
    expect(merged.rejected.map((r) => r.offset)).toEqual(['1', '5']);
    expect(merged.processed).toBe(1 + 2 + 3);
    expect(merged.deadLetters!.map((d) => d.key)).toEqual(['1', '5']);
  });
});

describe('a transaction\'s produce requests', () => {
  it('cut each topic\'s records so that no record batch passes the topic\'s max.message.bytes', () => {
    const row = 'x'.repeat(4000);
    const changelog = Array.from({ length: 2000 }, (_, i) => ({ key: changelogKey('g', `k${i}`), value: row, headers: { 'aerogrid-batch': '1' }, partition: 0 }));
    const dead = [{ key: 'd', value: 'bad' }];
    const limit = 1_048_588;
    const requests = produceRequests([
      { topic: 'cl', messages: changelog, maxBatchBytes: limit },
      { topic: 'dlq', messages: dead, maxBatchBytes: limit },
    ]);
    expect(requests.length).toBeGreaterThan(7);
    // Every record goes exactly once, in order; the dead letter rides in the first request.
    expect(requests.flatMap((r) => r.filter((t) => t.topic === 'cl').flatMap((t) => t.messages.map((m) => m.key)))).toEqual(changelog.map((m) => m.key));
    expect(requests[0]!.find((t) => t.topic === 'dlq')?.messages).toHaveLength(1);
    for (const r of requests) {
      for (const t of r) {
        const bytes = t.messages.reduce((n, m) => n + recordBytes({ key: m.key, value: m.value, headers: m.headers as Record<string, string> }), 0);
        expect(bytes + 61).toBeLessThan(limit);
      }
    }
    // Without a limit, one request.
    expect(produceRequests([{ topic: 'cl', messages: changelog }])).toHaveLength(1);
  });
});

describe('the ack\'s row size bound', () => {
  it('lets small rows through without encoding them, and never misses one over the limit', () => {
    const cap = 2000;
    const size = (d: { grid: string; key: string; row: Record<string, unknown> }) => recordBytes({ key: changelogKey(d.grid, d.key), value: JSON.stringify(d.row) });
    const rows = [
      { grid: 'g', key: 'k', row: { units: 3, name: 'x' } },
      { grid: 'g', key: 'k', row: { pad: 'ü"'.repeat(400) } },
      { grid: 'g', key: 'k', row: { pad: 'x'.repeat(1990) } },
      { grid: 'g', key: 'k', row: { list: [1, 2, 3] } },
    ];
    expect(changelogRecordMayExceed(rows[0]!, cap)).toBe(false);
    for (const d of rows) if (size(d) > cap) expect(changelogRecordMayExceed(d, cap)).toBe(true);
    expect(changelogRecordMayExceed(rows[2]!, cap)).toBe(true);
  });
});

describe('the single-writer assignor', () => {
  it('gives every partition to the most recent holder, else to the first member', () => {
    expect(chooseWriter([{ memberId: 'b', claim: { heldSince: null } }, { memberId: 'a', claim: { heldSince: null } }])).toBe('a');
    expect(chooseWriter([{ memberId: 'a', claim: { heldSince: null } }, { memberId: 'b', claim: { heldSince: 5 } }])).toBe('b');
    // A paused writer comes back with its old claim: the instance that took over since keeps it.
    expect(chooseWriter([{ memberId: 'old', claim: { heldSince: 5 } }, { memberId: 'new', claim: { heldSince: 9 } }])).toBe('new');
    expect(chooseWriter([])).toBeNull();
  });
});

describe('dead letters too large for their topic', () => {
  it('are cut to fit: the traceback, then the record\'s own headers, then the value; the reason stays and aerogrid-dropped says what', async () => {
    const { fitDeadLetter, DROPPED_HEADER } = await import('../../../sidecar/src/pipeline/dead-letters.js');
    const m = { key: 'k', value: Buffer.alloc(50_000, 0x61), headers: { 'x-own': 'y'.repeat(100), 'aerogrid-reason': 'field x', 'aerogrid-traceback': 'T'.repeat(10_000) } };
    expect(fitDeadLetter(m, 1_000_000)).toBe(m);
    const small = fitDeadLetter(m, 20_000);
    expect(recordBytes(small)).toBeLessThanOrEqual(20_000 + 200);
    expect(small.headers!['aerogrid-reason']).toBe('field x');
    expect(small.headers!['aerogrid-traceback']).toHaveLength(0);
    expect(small.headers!['x-own']).toBeUndefined();
    expect((small.value as Buffer).subarray(0, 10).toString()).toBe('aaaaaaaaaa');
    expect(String(small.headers![DROPPED_HEADER])).toMatch(/^header aerogrid-traceback: 10000 bytes cut to 0; header x-own; value: 50000 bytes cut to \d+ \(the dead-letter topic's max\.message\.bytes\)$/);
    const tracebackOnly = fitDeadLetter(m, recordBytes(m) - 5000);
    expect(String(tracebackOnly.headers!['aerogrid-traceback'])).toHaveLength(5000);
    expect(tracebackOnly.value).toEqual(m.value);
  });
});
