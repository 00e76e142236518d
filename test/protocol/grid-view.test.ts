// The one grid view every client keeps (the add-in, the test client, the viewer and console pages).
import { describe, expect, it } from 'vitest';
import { GridView } from '@aerogrid/protocol/grid-view';

describe('GridView', () => {
  it('applies a snapshot, then deltas in order, and sorts keys as people read them', () => {
    const view = new GridView();
    view.applySnapshot({ columns: ['units_sold'], seq: 3, rows: { 'book 10': { units_sold: 10 }, 'book 2': { units_sold: 2 } } });
    expect(view.keys()).toEqual(['book 2', 'book 10']);
    const before = view.keys();
    view.applyDelta({ seq: 4, upserts: { 'book 10': { units_sold: 11 } }, deletes: [] });
    expect(view.keys()).toBe(before); // same keys: same array, so renderers skip the reorder
    view.applyDelta({ seq: 5, upserts: { 'a book': { units_sold: 1 } }, deletes: ['book 2', 'never there'] });
    expect(view.keys()).toEqual(['a book', 'book 10']);
    expect(view.keys()).not.toBe(before);
    expect(view.seq).toBe(5);
    expect(view.size).toBe(2);
    expect(view.row('book 10')).toEqual({ units_sold: 11 });
    expect(view.toObject()).toEqual({ 'a book': { units_sold: 1 }, 'book 10': { units_sold: 11 } });
  });
});
