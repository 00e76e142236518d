/**
 * Bounds how often one cell is updated: the first change goes out at once, later ones at most once
 * per interval, rendered from the state as it is then (Excel throttles a busy add-in, and a cell
 * only ever needs the newest grid). A rendering equal to the last one sent is not sent again.
 */
export class Conflator<T> {
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSentAt = -Infinity;
  private last: { key: string } | null = null;
  private closed = false;

  constructor(
    private readonly render: () => T,
    private readonly emit: (value: T) => void,
    private readonly intervalMs: number,
    /** What identifies a rendering for "equal to the last one" (default: its JSON). */
    private readonly identity: (value: T) => string = (v) => JSON.stringify(v),
  ) {}

  /** Something changed: render and emit now, or once the interval has passed. */
  push(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer) return;
    const wait = this.lastSentAt + this.intervalMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => { this.timer = null; this.flush(); }, wait);
  }

  /** Stops for good: nothing pending is sent. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    const value = this.render();
    const key = this.identity(value);
    if (this.last?.key === key) return;
    this.last = { key };
    this.lastSentAt = Date.now();
    this.emit(value);
  }
}
