/**
 * A grid's recent history for resuming clients (docs/protocol.md §2 "Resume"): which keys each
 * change touched, as `seq` → keys (upserts and deletes alike), bounded by a number of keys. A
 * client that saw seq S gets the current values of the keys changed after S, when the history
 * still reaches back to S; otherwise a snapshot.
 */
export class GridHistory {
  private entries: { seq: number; keys: string[] }[] = [];
  private head = 0;
  private keyCount = 0;
  /** The oldest seq a resume may start from: every change after it is still here. */
  private base: number;

  constructor(
    seq: number,
    private readonly maxKeys: number,
  ) {
    this.base = seq;
  }

  /** The change that took the grid to `seq` touched `keys`. */
  record(seq: number, keys: Iterable<string>): void {
    const list = [...keys];
    this.entries.push({ seq, keys: list });
    this.keyCount += list.length;
    while (this.keyCount > this.maxKeys && this.head < this.entries.length) {
      const old = this.entries[this.head++]!;
      this.keyCount -= old.keys.length;
      this.base = old.seq;
    }
    // Compact the array now and then instead of shifting at every eviction.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets everything: no resume from `seq` or before (e.g. the grid was replaced whole). */
  reset(notBefore: number): void {
    this.entries = [];
    this.head = 0;
    this.keyCount = 0;
    this.base = notBefore;
  }

  /**
   * The keys changed after `from`, up to `current`; null when the history does not reach back to
   * `from`, or `from` is not a seq this grid had (ahead of it).
   */
  since(from: number, current: number): Set<string> | null {
    if (from < this.base || from > current) return null;
    const keys = new Set<string>();
    // Entries are in seq order: find the first after `from` by binary search.
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.seq <= from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.entries.length; i++) for (const k of this.entries[i]!.keys) keys.add(k);
    return keys;
  }

  /** Keys held (for the metrics). */
  get size(): number {
    return this.keyCount;
  }
}
