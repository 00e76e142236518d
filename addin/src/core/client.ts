// Everything the functions and the task pane share in the one runtime: the platform URL, the
// token, one AppConnection per app and the live list of apps.
import { AppConnection, type GridListener } from './app-connection.js';
import { AppsFeed } from './apps-feed.js';
import { Directory } from './directory.js';
import { sameSubject } from './oidc.js';

export interface ClientOptions {
  platformUrl?: string | null;
  token?: string | null;
  WebSocketImpl?: typeof WebSocket;
  fetchImpl?: typeof fetch;
  idleCloseMs?: number;
}

export class AeroGridClient {
  private directory: Directory | null = null;
  private feed: AppsFeed | null = null;
  private token: string | null;
  /** By `tenant/app`, so that `ordersapp` and `default/ordersapp` share one socket. */
  private connections = new Map<string, AppConnection>();
  /** What users wrote → `tenant/app`, as the directory of the current platform said. */
  private canonical = new Map<string, string>();
  private configListeners = new Set<() => void>();

  constructor(private readonly options: ClientOptions = {}) {
    this.token = options.token ?? null;
    if (options.platformUrl) this.setPlatformUrl(options.platformUrl);
  }

  get platformUrl(): string | null {
    return this.directory?.platformUrl ?? null;
  }

  /** Throws a clear error for a URL that is not http(s). Open sockets move to the new platform. */
  setPlatformUrl(url: string): void {
    this.directory = new Directory({ platformUrl: url, token: () => this.token, fetchImpl: this.options.fetchImpl });
    this.feed?.stop();
    this.feed = null;
    this.canonical.clear();
    for (const connection of this.connections.values()) connection.reconnect();
    for (const l of this.configListeners) l();
  }

  /** Signed in (again), or out. A token for another user opens new sockets: the servers renew only for the same subject. */
  setToken(token: string | null): void {
    const previous = this.token;
    this.token = token;
    const renewal = token !== null && (previous === null || sameSubject(previous, token));
    for (const connection of this.connections.values()) (renewal ? connection.renewToken() : connection.reconnect());
    this.feed?.stop();
    this.feed = null;
    for (const l of this.configListeners) l();
  }

  /** Called when the platform URL or the token changes (the task pane re-watches the apps). */
  onConfigChange(listener: () => void): () => void {
    this.configListeners.add(listener);
    return () => this.configListeners.delete(listener);
  }

  /** The connection kept under `key` (the app's `tenant/app` when known), created for `app` as the user wrote it. */
  private connection(app: string, key: string): AppConnection {
    let connection = this.connections.get(key);
    if (!connection) {
      connection = new AppConnection(app, {
        resolve: () => {
          if (!this.directory) return Promise.reject(new Error('no platform URL yet: open the AeroGrid task pane and enter it'));
          return this.directory.resolve(app);
        },
        token: () => this.token,
        idleCloseMs: this.options.idleCloseMs,
        WebSocketImpl: this.options.WebSocketImpl,
        onIdle: () => { if (this.connections.get(key) === connection) this.connections.delete(key); },
      });
      this.connections.set(key, connection);
    }
    return connection;
  }

  /** The first cell naming an app a new way waits for the directory to say which app it is. */
  subscribe(app: string, grid: string, listener: GridListener): () => void {
    const key = this.canonical.get(app);
    if (key || !this.directory) return this.connection(app, key ?? app).subscribe(grid, listener);
    let release: (() => void) | null = null;
    let released = false;
    listener({ phase: { phase: 'resolving' }, view: null, error: null });
    const directory = this.directory;
    void directory.canonicalName(app).catch(() => null).then((name) => {
      if (name && directory === this.directory) this.canonical.set(app, name);
      if (!released) release = this.connection(app, this.canonical.get(app) ?? app).subscribe(grid, listener);
    });
    return () => {
      released = true;
      release?.();
    };
  }

  /** The live list of apps; null when no platform URL is set. */
  apps(): AppsFeed | null {
    if (!this.directory) return null;
    this.feed ??= new AppsFeed(this.directory, { token: () => this.token, WebSocketImpl: this.options.WebSocketImpl });
    return this.feed;
  }
}
