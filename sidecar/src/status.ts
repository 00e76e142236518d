/** The app's state as clients see it (docs/protocol.md §2 `status`). */

/** `standby`: another instance of the app is its writer; this one follows its changelog. */
export type AppState = 'starting' | 'waiting' | 'running' | 'standby' | 'failing' | 'stopping';

/** Progress of reading the changelog into the grids (while it lasts). */
export interface RestoreProgress {
  /** Changelog records read so far. */
  records_read: number;
  /** Records to read at most (the changelog's size when the restore began). */
  records_total: number;
}

export interface Status {
  state: AppState;
  message: string | null;
  /**
   * When the grids stopped making progress while records are waiting (ISO 8601), or null while
   * they keep up. Clients show the grid as stale since then.
   */
  stale_since: string | null;
  /** Present while the grids are being restored from the changelog. */
  restore?: RestoreProgress;
}

export class StatusTracker {
  private current: Status = { state: 'starting', message: 'starting', stale_since: null };
  private readonly listeners = new Set<(status: Status) => void>();

  get(): Status {
    const s: Status = { ...this.current };
    if (s.restore) s.restore = { ...s.restore };
    else delete s.restore;
    return s;
  }

  /** Sets the state; listeners hear only real changes. */
  set(state: AppState, message: string | null): void {
    if (this.current.state === state && this.current.message === message) return;
    this.current = { ...this.current, state, message };
    this.notify();
  }

  /** Sets (epoch ms) or clears (null) the time since which the grids are stale. */
  setStale(since: number | null): void {
    const text = since === null ? null : new Date(since).toISOString();
    if (this.current.stale_since === text) return;
    this.current = { ...this.current, stale_since: text };
    this.notify();
  }

  /** Sets or clears (undefined) the restore progress. */
  setRestore(progress: RestoreProgress | undefined): void {
    const cur = this.current.restore;
    if (cur === progress || (cur && progress && cur.records_read === progress.records_read && cur.records_total === progress.records_total)) return;
    const next: Status = { ...this.current };
    if (progress) next.restore = { ...progress };
    else delete next.restore;
    this.current = next;
    this.notify();
  }

  onChange(listener: (status: Status) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l(this.get());
  }
}
