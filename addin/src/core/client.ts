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
  private connections = new Map<string, AppConnection>();
  private configListeners = new Set<() => void>();

  constructor(private readonly options: ClientOptions = {}) {
    this.token = options.token ?? null;
    if (options.platformUrl) this.setPlatformUrl(options.platformUrl);
  }

  get platformUrl(): string | null {
    return this.directory?.platformUrl ?? null;
  }

  get signedIn(): boolean {
    return this.token !== null;
  }

  /** Throws a clear error for a URL that is not http(s). Open sockets move to the new platform. */
  setPlatformUrl(url: string): void {
    this.directory = new Directory({ platformUrl: url, token: () => this.token, fetchImpl: this.options.fetchImpl });
    this.feed?.stop();
    this.feed = null;
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

  connection(app: string): AppConnection {
    let connection = this.connections.get(app);
    if (!connection) {
      connection = new AppConnection(app, {
        resolve: () => {
          if (!this.directory) return Promise.reject(new Error('no platform URL yet: open the AeroGrid task pane and enter it'));
          return this.directory.resolve(app);
        },
        token: () => this.token,
        idleCloseMs: this.options.idleCloseMs,
        WebSocketImpl: this.options.WebSocketImpl,
        onIdle: () => { if (this.connections.get(app) === connection) this.connections.delete(app); },
      });
      this.connections.set(app, connection);
    }
    return connection;
  }

  subscribe(app: string, grid: string, listener: GridListener): () => void {
    return this.connection(app).subscribe(grid, listener);
  }

  /** The live list of apps; null when no platform URL is set. */
  apps(): AppsFeed | null {
    if (!this.directory) return null;
    this.feed ??= new AppsFeed(this.directory, { token: () => this.token, WebSocketImpl: this.options.WebSocketImpl });
    return this.feed;
  }

  /** Open app sockets and their wire subscriptions, for the task pane's footer and the tests. */
  stats(): { sockets: number; subscriptions: number } {
    let subscriptions = 0;
    for (const c of this.connections.values()) subscriptions += c.subscriptionCount();
    return { sockets: this.connections.size, subscriptions };
  }
}
