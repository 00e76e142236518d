/** The app's state as clients see it (docs/protocol.md §2 `status`). */
import type { AppState, AppStatus, RestoreProgress } from '@aerogrid/protocol/client-messages';

export class StatusTracker {
  private current: AppStatus = { state: 'starting', message: 'starting', stale_since: null };
  private readonly listeners = new Set<(status: AppStatus) => void>();

  get(): AppStatus {
    const s: AppStatus = { ...this.current };
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
    const next: AppStatus = { ...this.current };
    if (progress) next.restore = { ...progress };
    else delete next.restore;
    this.current = next;
    this.notify();
  }

  onChange(listener: (status: AppStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l(this.get());
  }
}
