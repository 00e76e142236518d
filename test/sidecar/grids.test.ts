// The grid store's reshaping of rows restored from a changelog written by other app versions.
import { describe, expect, it } from 'vitest';
import { GridStore } from '../../sidecar/src/grids.js';

const restored = (rows: Record<string, Record<string, unknown>>) => new Map([['totals', new Map(Object.entries(rows))]]);

describe('a grid declared after a restore', () => {
  it('drops the undeclared columns from every restored row, whatever shape the first row had, and tells subscribers', () => {
    const store = new GridStore();
    // The first row is already in the declared shape; the second was written by an older version.
    store.replaceAll(restored({ a: { total: 1 }, b: { total: 2, count: 9 } }));
    const seen: string[][] = [];
    store.get('totals')!.listeners.add((_grid, keys) => seen.push([...keys]));
    const seq = store.get('totals')!.seq;

    store.declare('totals', ['total']);
    expect(store.snapshot()).toEqual({ totals: { a: { total: 1 }, b: { total: 2 } } });
    expect(store.get('totals')!.seq).toBe(seq + 1);
    expect(seen).toEqual([['b']]);
  });

  it('restores later rows in the declared shape too, and leaves a newly declared column absent', () => {
    const store = new GridStore();
    store.declare('totals', ['total', 'avg']);
    store.markListKnown();
    store.replaceAll(restored({ a: { total: 1, count: 3 } }));
    expect(store.snapshot()).toEqual({ totals: { a: { total: 1 } } });
  });
});
