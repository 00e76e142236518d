/**
 * The client WebSocket protocol (`aerogrid.v1`, docs/protocol.md §2): hello on connect,
 * subscriptions (snapshot, then conflated deltas), ping/pong, status broadcasts and errors.
 *
 * Conflation: each subscription keeps the set of keys changed since its last delta (at most one
 * entry per row of the grid). Every flush interval, each subscription with changes gets one delta
 * carrying the rows' current values, unless the client's socket already holds more than
 * `maxBufferedBytes` unsent; then the changes keep accumulating in the set until it drains.
 */
import type { WebSocket, RawData } from 'ws';
import type { Grid, GridStore } from '../grids.js';
import type { Status, StatusTracker } from '../status.js';
import type { Logger } from '../log.js';

export const CLIENT_PROTOCOL = 'aerogrid.v1';

export type ErrorCode =
  | 'bad_json'
  | 'bad_request'
  | 'unknown_op'
  | 'unknown_grid'
  | 'duplicate_id'
  | 'unknown_id'
  | 'too_many_subscriptions';

export interface FanoutOptions {
  store: GridStore;
  status: StatusTracker;
  logger: Logger;
  app: () => string;
  tenant: string;
  /** Delta flush interval (default 50 ms). */
  flushIntervalMs?: number;
  /** Hold deltas back while a client has more than this many bytes unsent (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Subscriptions per connection (default 100). */
  maxSubscriptions?: number;
  /** Ping idle clients this often and drop those that do not answer (default 30 s). */
  keepaliveMs?: number;
}

interface Subscription {
  id: string;
  /** Null while pending: subscribed before any runtime declared the grids. */
  grid: Grid | null;
  gridName: string;
  dirty: Set<string>;
  stop: () => void;
}

interface Client {
  ws: WebSocket;
  subs: Map<string, Subscription>;
  alive: boolean;
}

const MAX_ID_LENGTH = 256;

function describeGrids(store: GridStore): string {
  const names = store.names();
  return names.length > 0 ? `grids: ${names.join(', ')}` : 'the app has no grids yet';
}

export class Fanout {
  private readonly clients = new Set<Client>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly keepaliveTimer: NodeJS.Timeout;
  private readonly unlisten: (() => void)[] = [];
  private readonly maxBuffered: number;
  private readonly maxSubscriptions: number;

  constructor(private readonly options: FanoutOptions) {
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
    this.maxSubscriptions = options.maxSubscriptions ?? 100;
    this.flushTimer = setInterval(() => this.flush(), options.flushIntervalMs ?? 50);
    this.flushTimer.unref();
    this.keepaliveTimer = setInterval(() => this.keepalive(), options.keepaliveMs ?? 30_000);
    this.keepaliveTimer.unref();
    this.unlisten.push(options.status.onChange((s) => this.broadcastStatus(s)));
    this.unlisten.push(
      options.store.onListChange(() => {
        this.activatePending();
        this.broadcastStatus(options.status.get());
      }),
    );
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const c of this.clients) n += c.subs.size;
    return n;
  }

  /** Takes a new WebSocket connection. */
  accept(ws: WebSocket): void {
    const client: Client = { ws, subs: new Map(), alive: true };
    this.clients.add(client);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    ws.on('close', () => this.drop(client));
    ws.on('error', () => this.drop(client));
    const { store, status, tenant } = this.options;
    this.send(client, {
      type: 'hello',
      protocol: CLIENT_PROTOCOL,
      app: this.options.app(),
      tenant,
      grids: store.list().map(({ name, columns, rows }) => ({ name, columns, rows })),
      status: status.get(),
    });
  }

  /** Sends every pending delta that may go now (also called by the timer). */
  flush(): void {
    for (const client of this.clients) {
      const { ws } = client;
      if (ws.readyState !== ws.OPEN) continue;
      for (const sub of client.subs.values()) {
        if (sub.dirty.size === 0 || !sub.grid) continue;
        if (ws.bufferedAmount > this.maxBuffered) break;
        const upserts = Object.create(null) as Record<string, unknown>;
        const deletes: string[] = [];
        for (const key of sub.dirty) {
          const row = sub.grid.rows.get(key);
          if (row === undefined) deletes.push(key);
          else upserts[key] = row;
        }
        sub.dirty.clear();
        this.send(client, { type: 'delta', id: sub.id, grid: sub.grid.name, seq: sub.grid.seq, upserts, deletes });
      }
    }
  }

  close(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.keepaliveTimer);
    for (const u of this.unlisten) u();
    for (const client of [...this.clients]) {
      client.ws.close(1001, 'server shutting down');
      this.drop(client);
    }
  }

  private broadcastStatus(status: Status): void {
    // `grids` is an addition to §2's status message: it lets clients notice grids declared by a
    // runtime that connected after them (unknown fields are ignored by older clients).
    const grids = this.options.store.list().map(({ name, columns, rows }) => ({ name, columns, rows }));
    for (const client of this.clients) this.send(client, { type: 'status', ...status, grids });
  }

  private keepalive(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.ws.terminate();
        this.drop(client);
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }

  private drop(client: Client): void {
    if (!this.clients.delete(client)) return;
    for (const sub of client.subs.values()) sub.stop();
    client.subs.clear();
  }

  private send(client: Client, message: object): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(message));
  }

  private error(client: Client, code: ErrorCode, message: string, id?: unknown): void {
    const echo = typeof id === 'string' || typeof id === 'number' ? { id } : {};
    this.send(client, { type: 'error', code, message, ...echo });
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.error(client, 'bad_request', 'binary frames are not supported: send JSON text frames');
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      return this.error(client, 'bad_json', `the frame is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return this.error(client, 'bad_request', "a message must be a JSON object with an 'op'");
    }
    const m = msg as Record<string, unknown>;
    if (m.op === undefined) return this.error(client, 'bad_request', "missing field 'op'", m.id);
    if (typeof m.op !== 'string') return this.error(client, 'bad_request', "field 'op' must be a string", m.id);
    switch (m.op) {
      case 'subscribe':
        return this.subscribe(client, m);
      case 'unsubscribe':
        return this.unsubscribe(client, m);
      case 'ping':
        if (m.id !== undefined && typeof m.id !== 'string' && typeof m.id !== 'number') {
          return this.error(client, 'bad_request', "field 'id' must be a string or a number");
        }
        return this.send(client, m.id === undefined ? { type: 'pong' } : { type: 'pong', id: m.id });
      default:
        return this.error(client, 'unknown_op', `unknown op '${m.op}'; ops: subscribe, unsubscribe, ping`, m.id);
    }
  }

  private checkId(client: Client, m: Record<string, unknown>): string | null {
    if (m.id === undefined) {
      this.error(client, 'bad_request', "missing field 'id'");
      return null;
    }
    if (typeof m.id !== 'string' || m.id.length === 0 || m.id.length > MAX_ID_LENGTH) {
      this.error(client, 'bad_request', `field 'id' must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, m.id);
      return null;
    }
    return m.id;
  }

  private subscribe(client: Client, m: Record<string, unknown>): void {
    const id = this.checkId(client, m);
    if (id === null) return;
    if (m.grid === undefined) return this.error(client, 'bad_request', "missing field 'grid'", id);
    if (typeof m.grid !== 'string') return this.error(client, 'bad_request', "field 'grid' must be a string", id);
    if (client.subs.has(id)) {
      return this.error(client, 'duplicate_id', `subscription id '${id}' is already in use on this connection`, id);
    }
    if (client.subs.size >= this.maxSubscriptions) {
      return this.error(
        client,
        'too_many_subscriptions',
        `at most ${this.maxSubscriptions} subscriptions per connection; unsubscribe first`,
        id,
      );
    }
    const { store } = this.options;
    const sub: Subscription = { id, grid: null, gridName: m.grid, dirty: new Set(), stop: () => {} };
    if (!store.get(m.grid)) {
      if (store.listKnown) return this.error(client, 'unknown_grid', `no grid '${m.grid}'; ${describeGrids(store)}`, id);
      // No runtime has declared the grids yet: the snapshot comes when it does.
      client.subs.set(id, sub);
      return;
    }
    client.subs.set(id, sub);
    this.activate(client, sub);
  }

  /** Starts a subscription whose grid exists: listen, then send the snapshot. */
  private activate(client: Client, sub: Subscription): void {
    const grid = this.options.store.get(sub.gridName)!;
    sub.grid = grid;
    sub.stop = this.options.store.listen(grid.name, (_g, keys) => {
      for (const k of keys) sub.dirty.add(k);
    });
    this.send(client, {
      type: 'snapshot',
      id: sub.id,
      grid: grid.name,
      columns: grid.columns,
      seq: grid.seq,
      rows: grid.rowsObject(),
    });
  }

  /** Pending subscriptions: start those whose grid now exists; fail the rest once the grid list is known. */
  private activatePending(): void {
    const { store } = this.options;
    for (const client of this.clients) {
      for (const sub of [...client.subs.values()]) {
        if (sub.grid) continue;
        if (store.get(sub.gridName)) this.activate(client, sub);
        else if (store.listKnown) {
          client.subs.delete(sub.id);
          this.error(client, 'unknown_grid', `no grid '${sub.gridName}'; ${describeGrids(store)}`, sub.id);
        }
      }
    }
  }

  private unsubscribe(client: Client, m: Record<string, unknown>): void {
    const id = this.checkId(client, m);
    if (id === null) return;
    const sub = client.subs.get(id);
    if (!sub) return this.error(client, 'unknown_id', `no subscription '${id}' on this connection`, id);
    sub.stop();
    client.subs.delete(id);
    this.send(client, { type: 'unsubscribed', id });
  }
}
