// One WebSocket per app (protocol aerogrid.v1), shared by every cell that shows one of its grids.
// Subscriptions are per grid and counted: the first cell subscribes, the last one to go
// unsubscribes. A lost socket is reopened with backoff (the app is looked up again, as a restarted
// app may listen elsewhere) and every grid is subscribed again with the seq the cell last had
// (docs/protocol.md §2 "Resume"): the sidecar sends only the changes missed meanwhile (`resumed`),
// or a snapshot when it no longer knows them. Cells keep their place; while disconnected they show
// the connection's state, never the held data as if it were live.
import { CLIENT_PROTOCOL, type ClientMessage, type ServerMessage, type StatusMessage } from '@aerogrid/protocol/client-messages';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { FeedPhase } from './status-text.js';
import { GridView } from './grid-view.js';

/** Where an app's sidecar is, as the directory (or the single-sidecar fallback) says. */
export interface AppEndpoint {
  name: string;
  ws: string;
}

/** The app cannot be connected to right now, and why (the directory's answer). */
export class AppUnavailableError extends Error {
  /** The platform asks for sign-in (401, or a socket closed 4401): the pane shows its sign-in fields. */
  readonly signIn: boolean;

  constructor(message: string, readonly kind: 'stopped' | 'unknown' | 'unauthorized' | 'unreachable', options: { signIn?: boolean } = {}) {
    super(message);
    this.signIn = options.signIn ?? false;
  }
}

export interface GridState {
  phase: FeedPhase;
  /** Null until the first snapshot (and again while a resubscription waits for its snapshot). */
  view: GridView | null;
  /** A problem with this grid alone (e.g. unknown_grid): shown instead of the data. */
  error: string | null;
}

export type GridListener = (state: GridState) => void;

/** What the sidecar says about the app (hello and status messages). */
export type AppStatus = Pick<StatusMessage, 'state' | 'message' | 'stale_since' | 'grids'>;

export interface ConnectionOptions {
  resolve: () => Promise<AppEndpoint>;
  /** The access token when signed in: sent first as {"op":"auth"} on every socket. */
  token?: () => string | null;
  backoff?: BackoffOptions;
  /** Keep the socket this long after the last subscription goes, for a formula being re-entered. */
  idleCloseMs?: number;
  onIdle?: () => void;
  WebSocketImpl?: typeof WebSocket;
}

interface Subscription {
  id: string;
  grid: string;
  listeners: Set<GridListener>;
  view: GridView | null;
  /** The last view while the socket is lost: what a resume brings up to date. */
  held: GridView | null;
  error: string | null;
}

const CLOSE_MESSAGES: Record<number, { kind: AppUnavailableError['kind']; text: (app: string) => string }> = {
  4401: { kind: 'unauthorized', text: (app) => `sign in to AeroGrid (task pane) to see '${app}'` },
  4403: { kind: 'unauthorized', text: (app) => `you are not allowed to see '${app}': ask for its viewer group` },
  4404: { kind: 'unknown', text: (app) => `no app '${app}'` },
};

export class AppConnection {
  phase: FeedPhase = { phase: 'resolving' };
  status: AppStatus | null = null;
  private socket: WebSocket | null = null;
  private ready = false;
  private subs = new Map<string, Subscription>();
  private nextId = 1;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private lostAt: number | null = null;
  private closeReason: string | null = null;
  private closed = false;
  private started = false;
  /** Bumped by reconnect(): a lookup that finishes under an older generation starts over. */
  private generation = 0;

  constructor(readonly app: string, private readonly options: ConnectionOptions) {}

  /** Counted subscription to one grid; returns the release. The listener hears the state at once. */
  subscribe(grid: string, listener: GridListener): () => void {
    let sub = this.subs.get(grid);
    if (!sub) {
      sub = { id: `g${this.nextId++}`, grid, listeners: new Set(), view: null, held: null, error: null };
      this.subs.set(grid, sub);
      if (this.ready) this.send({ op: 'subscribe', id: sub.id, grid });
    }
    sub.listeners.add(listener);
    this.keepAlive();
    listener(this.stateOf(sub));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(grid, listener);
    };
  }

  /** A new token (signed in again, or renewed): sent on the open socket, or a connection attempt at once. */
  renewToken(): void {
    const token = this.options.token?.();
    if (token && this.ready) this.send({ op: 'auth', token });
    else this.reconnect();
  }

  /** Drops the socket and connects again (the platform URL changed): cells keep their place. */
  reconnect(): void {
    this.generation++;
    // While a lookup is in flight there is neither socket nor timer: connect() sees the new generation.
    if (this.socket) this.socket.close(1000);
    else if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.attempt = 0;
      void this.connect();
    }
  }

  close(): void {
    this.closed = true;
    this.clearTimers();
    this.socket?.close(1000);
    this.socket = null;
  }

  private release(grid: string, listener: GridListener): void {
    const sub = this.subs.get(grid);
    if (!sub) return;
    sub.listeners.delete(listener);
    if (sub.listeners.size > 0) return;
    this.subs.delete(grid);
    if (this.ready) this.send({ op: 'unsubscribe', id: sub.id });
    this.maybeIdle();
  }

  private keepAlive(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.started) {
      this.started = true;
      void this.connect();
    }
  }

  private maybeIdle(): void {
    if (this.subs.size > 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.close();
      this.options.onIdle?.();
    }, this.options.idleCloseMs ?? 5_000);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.setPhase(this.attempt === 0 && !this.lostAt ? { phase: 'resolving' } : this.phase);
    const generation = this.generation;
    let endpoint: AppEndpoint;
    try {
      endpoint = await this.options.resolve();
    } catch (error) {
      if (this.closed) return;
      if (generation !== this.generation) return this.connect();
      return this.retryLater(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.closed) return;
    // The platform changed during the lookup: this endpoint is the old platform's.
    if (generation !== this.generation) return this.connect();
    if (this.attempt === 0 && !this.lostAt) this.setPhase({ phase: 'connecting', attempt: 0 });
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    let socket: WebSocket;
    try {
      socket = new Impl(endpoint.ws, CLIENT_PROTOCOL);
    } catch {
      return this.retryLater(new AppUnavailableError(`the directory gives '${this.app}' an address that is not a WebSocket URL: ${endpoint.ws}`, 'unreachable'));
    }
    this.socket = socket;
    this.ready = false;
    this.closeReason = null;
    let authenticated = false;
    let helloSeen = false;
    const token = this.options.token?.() ?? null;
    socket.onopen = () => {
      if (token) this.send({ op: 'auth', token });
    };
    socket.onmessage = (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'authenticated') authenticated = true;
      if (message.type === 'hello') {
        helloSeen = true;
        this.status = { state: message.status?.state ?? 'running', message: message.status?.message ?? null, stale_since: message.status?.stale_since ?? null, grids: message.grids ?? [] };
      }
      if (!this.ready && helloSeen && (authenticated || !token)) this.onReady();
      else this.onMessage(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      if (this.closed) return;
      const known = CLOSE_MESSAGES[event.code];
      if (event.code === 1000) this.attempt = 0; // closed on purpose (reconnect): at once
      // The documented cell text (docs/addin.md), with the server's reason after it.
      const reason = this.closeReason ?? (event.reason || null);
      const error = known
        ? new AppUnavailableError(`${known.text(this.app)}${reason ? ` (${reason})` : ''}`, known.kind, { signIn: event.code === 4401 })
        : new AppUnavailableError(`connection to '${this.app}' lost`, 'unreachable');
      this.lostAt ??= Date.now();
      for (const sub of this.subs.values()) {
        sub.held = sub.view ?? sub.held;
        sub.view = null;
      }
      this.retryLater(error);
    };
  }

  private onReady(): void {
    this.ready = true;
    this.attempt = 0;
    this.lostAt = null;
    for (const sub of this.subs.values()) {
      sub.error = null;
      this.send(sub.held ? { op: 'subscribe', id: sub.id, grid: sub.grid, seq: sub.held.seq } : { op: 'subscribe', id: sub.id, grid: sub.grid });
    }
    this.setPhase(this.phaseFromStatus());
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'snapshot':
      case 'resumed':
      case 'delta': {
        const sub = [...this.subs.values()].find((s) => s.id === message.id);
        if (!sub) return;
        if (message.type === 'snapshot') {
          sub.view = new GridView();
          sub.view.applySnapshot(message);
          sub.held = null;
        } else if (message.type === 'resumed') {
          if (!sub.held || sub.held.seq !== message.from_seq) {
            // Not the seq this cell holds (cannot happen with a conforming server): start afresh.
            sub.held = null;
            this.send({ op: 'unsubscribe', id: sub.id });
            this.send({ op: 'subscribe', id: sub.id, grid: sub.grid });
            return;
          }
          sub.view = sub.held;
          sub.held = null;
          sub.view.applyResumed(message);
        } else {
          sub.view?.applyDelta(message);
        }
        sub.error = null;
        this.notify(sub);
        return;
      }
      case 'status':
        this.status = { state: message.state, message: message.message ?? null, stale_since: message.stale_since ?? null, grids: message.grids ?? [] };
        this.setPhase(this.phaseFromStatus());
        return;
      case 'error': {
        const sub = message.id ? [...this.subs.values()].find((s) => s.id === message.id) : undefined;
        if (sub) {
          sub.error = message.message;
          this.notify(sub);
        } else {
          this.closeReason = message.message ?? null;
        }
        return;
      }
    }
  }

  private phaseFromStatus(): FeedPhase {
    if (!this.status) return { phase: 'live' };
    if (this.status.state === 'stopping') return { phase: 'stopped', lastDataAt: Date.now() };
    if (this.status.stale_since) return { phase: 'stale', since: this.status.stale_since };
    return { phase: 'live' };
  }

  private retryLater(error: Error): void {
    if (this.closed) return;
    const kind = error instanceof AppUnavailableError ? error.kind : 'config';
    // Signed out or unknown: no point hammering; retry at the slowest pace (the user may sign in).
    const retryInMs = kind === 'unauthorized' || kind === 'unknown'
      ? this.options.backoff?.maxMs ?? 5_000
      : backoffDelay(this.attempt, this.options.backoff);
    this.attempt++;
    if (kind === 'stopped') this.setPhase({ phase: 'stopped', lastDataAt: this.lostAt });
    else if (this.lostAt && kind === 'unreachable') this.setPhase({ phase: 'reconnecting', lastDataAt: this.lostAt, retryInMs, reason: error.message });
    else this.setPhase({ phase: 'failed', message: kind === 'unreachable' ? `${error.message}; retrying` : error.message, retryInMs });
    this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.connect(); }, retryInMs);
  }

  private setPhase(phase: FeedPhase): void {
    this.phase = phase;
    for (const sub of this.subs.values()) this.notify(sub);
  }

  private stateOf(sub: Subscription): GridState {
    return { phase: this.phase, view: sub.view, error: sub.error };
  }

  private notify(sub: Subscription): void {
    const state = this.stateOf(sub);
    for (const listener of sub.listeners) listener(state);
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.retryTimer = this.idleTimer = null;
  }
}
