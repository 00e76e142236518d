// One grid as a client holds it (docs/protocol.md §2): a subscription's snapshot, then each of its
// deltas applied in order, gives the grid as of `seq`. The add-in's cells, the test client and the
// live tables of the viewer and the console (web/src/grid-table.ts) keep their copy of a grid with
// this one class.
import type { DeltaMessage, ResumedMessage, Row, SnapshotMessage } from './client-messages.js';

export class GridView {
  /** Key order: as people read keys ('item 2' before 'item 10'), the same in every client. */
  static readonly collator = new Intl.Collator(undefined, { numeric: true });

  columns: string[] = [];
  seq = 0;
  private rows = new Map<string, Row>();
  /** The sorted keys, kept until the set of keys changes. */
  private sorted: string[] | null = null;

  get size(): number {
    return this.rows.size;
  }

  applySnapshot(message: Pick<SnapshotMessage, 'columns' | 'seq' | 'rows'>): void {
    this.columns = message.columns;
    this.seq = message.seq;
    this.rows = new Map(Object.entries(message.rows));
    this.sorted = null;
  }

  applyDelta(message: Pick<DeltaMessage, 'seq'> & Partial<Pick<DeltaMessage, 'upserts' | 'deletes'>>): void {
    this.seq = message.seq;
    for (const [key, row] of Object.entries(message.upserts ?? {})) {
      if (!this.rows.has(key)) this.sorted = null;
      this.rows.set(key, row);
    }
    for (const key of message.deletes ?? []) {
      if (this.rows.delete(key)) this.sorted = null;
    }
  }

  /** The answer to a subscribe with this view's `seq` (a resume): the changes missed meanwhile. */
  applyResumed(message: Pick<ResumedMessage, 'columns' | 'seq' | 'upserts' | 'deletes'>): void {
    this.columns = message.columns;
    this.applyDelta(message);
  }

  row(key: string): Row | undefined {
    return this.rows.get(key);
  }

  /**
   * The keys in key order. The same array until the set of keys changes (a renderer compares it
   * to tell a reorder from value changes); callers must not modify it.
   */
  keys(): readonly string[] {
    this.sorted ??= [...this.rows.keys()].sort(GridView.collator.compare);
    return this.sorted;
  }

  /** The grid as a plain object, key → row. */
  toObject(): Record<string, Row> {
    return Object.fromEntries(this.rows);
  }
}
