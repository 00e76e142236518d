/** The changelog record format and the merging of batches acked during a transaction (no Kafka needed). */
import { describe, expect, it } from 'vitest';
import { changelogKey, changelogRecords, mergeAcked, parseChangelogKey, type AckedBatch } from '../../sidecar/src/pipeline/committer.js';

describe('changelog records', () => {
  it('keys round-trip for every kind of grid key', () => {
    for (const key of ['How to...', '', 'a"b', 'back\\slash', 'x","y', 'ünïcödé', 'line\nbreak', '["nested"]', '\ud800']) {
      expect(parseChangelogKey(changelogKey('product_sum', key))).toEqual({ grid: 'product_sum', key });
    }
    expect(parseChangelogKey('not json')).toBeNull();
    expect(parseChangelogKey('["only one"]')).toBeNull();
    expect(parseChangelogKey('[1, "x"]')).toBeNull();
  });

  it('writes upserts and tombstones tagged with the source offsets', () => {
    const records = changelogRecords({
      seq: 7,
      deltas: [{ grid: 'g', key: 'a', row: { v: 1 } }, { grid: 'g', key: 'b', deleted: true }],
      rejected: [],
      offsets: [{ topic: 'orders', partition: 0, offset: '11' }, { topic: 'orders', partition: 2, offset: '5' }],
    });
    expect(records).toEqual([
      { key: '["g","a"]', value: '{"v":1}', partition: 0, headers: { 'aerogrid-source': 'orders/0/10,orders/2/4', 'aerogrid-batch': '7' } },
      { key: '["g","b"]', value: null, partition: 0, headers: { 'aerogrid-source': 'orders/0/10,orders/2/4', 'aerogrid-batch': '7' } },
    ]);
  });

  it('merges batches: the last change per row, every reject and dead letter, the highest offsets', () => {
    const b = (seq: number, deltas: AckedBatch['deltas'], offsets: AckedBatch['offsets'], reject?: string): AckedBatch => ({
      seq, deltas, offsets,
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
    expect(merged.deadLetters!.map((d) => d.key)).toEqual(['1', '5']);
  });
});
