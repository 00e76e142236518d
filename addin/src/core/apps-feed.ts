// The tenant's apps, live: the directory's watch socket (/v1/apps/watch, aerogrid.directory.v1),
// or, against a single sidecar, its one app polled. Tells when an app becomes ready.
import { DIRECTORY_PROTOCOL, type DirectoryMessage } from '@aerogrid/protocol/directory-messages';
import { backoffDelay } from './backoff.js';
import { AppUnavailableError } from './app-connection.js';
import { type AppInfo, type Directory, wsUrlOf } from './directory.js';

export interface AppsState {
  apps: AppInfo[];
  /** Why the list may be out of date (connecting, unreachable ...), or null when live. */
  problem: string | null;
  /** The platform refused the list for want of a sign-in (the pane then shows its sign-in fields). */
  signInRequired: boolean;
}

export interface AppsFeedOptions {
  token?: () => string | null;
  pollMs?: number;
  WebSocketImpl?: typeof WebSocket;
}

const appId = (a: { tenant: string; name: string }) => `${a.tenant}/${a.name}`;

export class AppsFeed {
  private apps = new Map<string, AppInfo>();
  private problem: string | null = 'connecting';
  private signInRequired = false;
  private listeners = new Set<(state: AppsState) => void>();
  private readyListeners = new Set<(app: AppInfo) => void>();
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private running = false;
  private first = true;

  constructor(private readonly directory: Directory, private readonly options: AppsFeedOptions = {}) {}

  watch(listener: (state: AppsState) => void): () => void {
    this.listeners.add(listener);
    this.start();
    listener(this.state());
    return () => { this.listeners.delete(listener); this.maybeStop(); };
  }

  onReady(listener: (app: AppInfo) => void): () => void {
    this.readyListeners.add(listener);
    this.start();
    return () => { this.readyListeners.delete(listener); this.maybeStop(); };
  }

  state(): AppsState {
    const apps = [...this.apps.values()].sort((a, b) => appId(a).localeCompare(appId(b)));
    return { apps, problem: this.problem, signInRequired: this.signInRequired };
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.close(1000);
    this.socket = null;
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.cycle();
  }

  private maybeStop(): void {
    if (this.listeners.size === 0 && this.readyListeners.size === 0) this.stop();
  }

  private async cycle(): Promise<void> {
    if (!this.running) return;
    try {
      const list = await this.directory.list();
      if (!this.running) return;
      this.replace(list.apps);
      this.signInRequired = false;
      if (list.mode === 'directory') return this.openWatch();
      this.attempt = 0;
      this.problem = null;
      this.emit();
      this.timer = setTimeout(() => void this.cycle(), this.options.pollMs ?? 2_000);
    } catch (error) {
      this.failed(error instanceof Error ? error.message : String(error), error instanceof AppUnavailableError && error.signIn);
    }
  }

  private openWatch(): void {
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    let socket: WebSocket;
    try {
      socket = new Impl(wsUrlOf(this.directory.platformUrl, 'v1/apps/watch'), DIRECTORY_PROTOCOL);
    } catch (error) {
      return this.failed(`cannot open the directory's watch: ${(error as Error).message}`);
    }
    this.socket = socket;
    const token = this.options.token?.() ?? null;
    socket.onopen = () => { if (token) socket.send(JSON.stringify({ op: 'auth', token })); };
    let reason: string | null = null;
    socket.onmessage = (event) => {
      let m: DirectoryMessage;
      try { m = JSON.parse(String(event.data)) as DirectoryMessage; } catch { return; }
      if (m.type === 'apps') { this.replace(m.apps ?? []); this.attempt = 0; this.problem = null; this.emit(); }
      else if (m.type === 'app' && m.app) { this.apps.set(appId(m.app), m.app); this.emit(); }
      else if (m.type === 'removed') { this.apps.delete(appId(m)); this.emit(); }
      else if (m.type === 'ready' && m.app) { this.apps.set(appId(m.app), m.app); for (const l of this.readyListeners) l(m.app); this.emit(); }
      else if (m.type === 'error') reason = m.message ?? m.code;
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.failed(reason ?? 'the directory connection was lost', event.code === 4401);
    };
  }

  /** A polled list: apps that turned ready since the last poll are announced. */
  private replace(apps: AppInfo[]): void {
    const before = this.apps;
    this.apps = new Map(apps.map((a) => [appId(a), a]));
    if (this.first) { this.first = false; return; }
    if (this.socket) return; // the watch socket announces readiness itself
    for (const app of apps) {
      if (app.ready && !before.get(appId(app))?.ready) for (const l of this.readyListeners) l(app);
    }
  }

  private failed(message: string, signIn = false): void {
    if (!this.running) return;
    this.problem = `${message}; retrying`;
    this.signInRequired = signIn;
    this.emit();
    this.timer = setTimeout(() => void this.cycle(), backoffDelay(this.attempt++));
  }

  private emit(): void {
    const state = this.state();
    for (const l of this.listeners) l(state);
  }
}
