/** The app's state as clients see it (docs/protocol.md §2 `status`). */

export type AppState = 'starting' | 'waiting' | 'running' | 'failing' | 'stopping';

export interface Status {
  state: AppState;
  message: string | null;
}

export class StatusTracker {
  private current: Status = { state: 'starting', message: 'starting' };
  private readonly listeners = new Set<(status: Status) => void>();

  get(): Status {
    return { ...this.current };
  }

  /** Sets the status; listeners hear only real changes. */
  set(state: AppState, message: string | null): void {
    if (this.current.state === state && this.current.message === message) return;
    this.current = { state, message };
    for (const l of this.listeners) l(this.get());
  }

  onChange(listener: (status: Status) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
