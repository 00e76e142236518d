/**
 * The client WebSocket protocol (`aerogrid.v1`, docs/protocol.md §2): hello on connect,
 * subscriptions (snapshot, then conflated deltas), ping/pong, status broadcasts and errors.
 *
 * Conflation: a subscription remembers the seq it was last sent; the keys changed since then come
 * from the grid's history (grid-history.ts), so a subscription costs no memory per changed row.
 * At most once per flush interval (measured per subscription, so a slow flush never puts two
 * deltas closer together), each subscription behind its grid gets one delta carrying the rows'
 * current values, unless its socket holds more than `maxBufferedBytes` unsent (less with so many
 * clients that all of them holding that much would overrun the outbound budget: see holdBytes);
 * then it waits. The
 * delta's body is built once per grid and previous seq, and its frame encoded once per previous
 * seq and subscription id: subscriptions that share both (thousands of clients of one grid) are
 * sent the same buffer, so a flush costs one UTF-8 encoding per delta, not one per client. A
 * subscription so far behind that the history no longer reaches back gets a new snapshot.
 *
 * The flush timer runs only while there is something to do: a change of a watched grid (the
 * grid's listener) wakes it for the first subscription that may be sent, and it sleeps again once
 * no subscription is behind and nothing waits unsent. An idle sidecar (no clients, or clients of
 * grids that do not change) takes no timer wake-ups, which matters for many apps on one machine.
 *
 * Pacing (docs/protocol.md §2 "Pacing"): the kernel's socket buffers take megabytes before
 * `bufferedAmount` grows, so a client reading slower than deltas come would get them ever later,
 * each one stale on arrival. Each pass's deltas to a client are followed by a WebSocket ping
 * carrying a number, and while `deliveryWindow` of those pings are unanswered, its deltas wait:
 * a pong proves the client has read everything sent before its ping. What a client has not read
 * stays within a few deltas, and what it gets next is conflated to the latest values.
 *
 * Resume (docs/protocol.md §2): a subscribe carrying the client's last seq gets `resumed` with
 * only the changes since, when the history reaches back to it; else a snapshot.
 *
 * Memory (docs/protocol.md §2 "Keepalive and drops"): what waits unsent for all clients together
 * stays within `outboundBudgetBytes`: before a large message, and once per flush interval while
 * bytes wait unsent, the clients furthest behind are closed (4008, with the reason) until it
 * fits; one client alone may hold at most `maxBacklogBytes`. A closed client's queue is freed
 * when its close frame got through, or 5 s later. Connections are capped per sidecar and per
 * client address (1013). A grid's snapshot is serialized once per seq, however many clients ask
 * for it.
 *
 * Authentication (docs/protocol.md "Authentication"): with an authenticator, a connection is only
 * a client once its first message, `{"op":"auth","token"}`, carried a valid token of this app's
 * tenant (and viewer groups); until then it gets nothing but errors. The token's expiry closes the
 * connection (4401) unless the client renews it with another `auth`. These rules, shared with the
 * directory's watch, live in ConnectionAuth (auth/connection-auth.ts).
 */
import type { Socket } from 'node:net';
import type { WebSocket, RawData } from 'ws';
import {
  checkAccess,
  CLOSE_FORBIDDEN,
  CLOSE_NOT_FOUND,
  ConnectionAuth,
  frameText,
  type Principal,
  type Refusal,
  type Authenticator,
} from '../auth/index.js';
import { CLIENT_PROTOCOL, CLOSE_TOO_FAR_BEHIND, CLOSE_TRY_AGAIN_LATER, tooFarBehindReason, type AppStatus, type AuthenticatedMessage, type ErrorCode, type ErrorMessage, type GridInfo, type Row, type ServerMessage } from '@aerogrid/protocol/client-messages';
import type { Grid, GridStore, Row as GridRow } from '../grids.js';
import type { StatusTracker } from '../status.js';
import type { Logger } from '../log.js';
import { DEFAULTS } from '../defaults.js';

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
  /** Deltas to a client wait while this many of the pings that followed its earlier ones are unanswered (default 2). */
  deliveryWindow?: number;
  /** Subscriptions per connection (default 100). */
  maxSubscriptions?: number;
  /** Ping idle clients this often and drop those that do not answer (default 30 s). */
  keepaliveMs?: number;
  /** Auth on: tokens are checked, and a client must authenticate first. */
  authenticator?: Authenticator;
  /** With auth: only members of one of these groups may read (empty: every viewer of the tenant). */
  viewerGroups?: readonly string[];
  /** With auth: how long a new connection has to send its `auth` message (default 10 s). */
  authTimeoutMs?: number;
  /** A client this many bytes behind on reading is dropped, so memory stays bounded (default 64 MiB). */
  maxBacklogBytes?: number;
  /** Bytes unsent for all clients together (default 256 MiB): the furthest behind are dropped. */
  outboundBudgetBytes?: number;
  /** Connections at a time, per sidecar and per client address (defaults 10 000 and 2 000). */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
}

/** Why a client was dropped, as counted in `aerogrid_ws_dropped_total{reason}`. */
export type DropReason = 'backlog' | 'budget' | 'keepalive';
/** Why a connection was refused, as counted in `aerogrid_ws_refused_total{reason}`. */
export type RefuseReason = 'sidecar' | 'address';

/** Messages at least this long check the whole sidecar's budget before they are queued. */
const LARGE_MESSAGE = 64 * 1024;
/** A dropped client's queue is freed at the latest this long after its close frame was queued. */
const CLOSE_GRACE_MS = 5_000;

function mib(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

interface Subscription {
  id: string;
  client: Client;
  /** Null while pending: subscribed before any runtime declared the grids. */
  grid: Grid | null;
  gridName: string;
  /** The seq of the last snapshot, resumed or delta sent. */
  sentSeq: number;
  /** When it was sent (performance.now()): the next delta waits a flush interval. */
  sentAt: number;
  /** The seq the client asked to resume from (kept while pending). */
  resumeFrom: number | null;
}

interface Client {
  ws: WebSocket;
  subs: Map<string, Subscription>;
  alive: boolean;
  /** Auth on: the token, its renewals and its expiry. */
  auth: ConnectionAuth | null;
  /** Pacing: the number of the last ping that followed data, and of the last one answered. */
  pingsSent: number;
  pingsAnswered: number;
}

/** A delta's body from one previous seq, and its frames by subscription id (null body: too far behind). */
interface DeltaText {
  body: string | null;
  frames: Map<string, Buffer>;
}

/** `ws.send` options for a frame encoded ahead: a text frame, whatever its payload's type. */
const TEXT_FRAME = { binary: false } as const;

/** A grid's rows as JSON, kept for the seq they are of. */
interface SnapshotText {
  seq: number;
  rows: string;
}

const MAX_ID_LENGTH = 256;

/** `"upserts":{...},"deletes":[...]` of `keys`: the JSON body of a delta, without its braces. */
function changesJson(grid: Grid, keys: Iterable<string>): string {
  const { upserts, deletes } = changes(grid, keys);
  return JSON.stringify({ upserts, deletes }).slice(1, -1);
}

function changes(grid: Grid, keys: Iterable<string>): { upserts: Record<string, GridRow>; deletes: string[] } {
  const upserts = Object.create(null) as Record<string, GridRow>;
  const deletes: string[] = [];
  for (const key of keys) {
    const row = grid.rows.get(key);
    if (row === undefined) deletes.push(key);
    else upserts[key] = row;
  }
  return { upserts, deletes };
}

function gridInfos(store: GridStore): GridInfo[] {
  return store.list().map(({ name, columns, rows }) => ({ name, columns, rows }));
}

function describeGrids(store: GridStore): string {
  const names = store.names();
  return names.length > 0 ? `grids: ${names.join(', ')}` : 'the app has no grids yet';
}

export class Fanout {
  private readonly clients = new Set<Client>();
  /** Auth on: connections that have not authenticated yet. */
  private readonly unauthenticated = new Set<WebSocket>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** When the armed flush timer fires (performance.now()). */
  private flushAt = Infinity;
  /** When the budget for all clients was last checked during flushes (performance.now()). */
  private budgetCheckedAt = 0;
  /** Listeners on the watched grids (those with a subscription), which wake the flush timer. */
  private readonly gridListeners = new Map<string, () => void>();
  private readonly flushIntervalMs: number;
  /**
   * A fifth of the interval: how soon after a grid's change the timer fires (so that changes in
   * quick succession share one flush), and how often a subscription held back by its client's
   * unsent bytes is looked at again.
   */
  private readonly pollMs: number;
  /** Active subscriptions by grid name. */
  private readonly watchers = new Map<string, Set<Subscription>>();
  /** The last status broadcast, so that an identical one is not sent again. */
  private lastStatus = '';
  private closed = false;
  private readonly keepaliveTimer: NodeJS.Timeout;
  private readonly unlisten: (() => void)[] = [];
  private readonly maxBuffered: number;
  private readonly deliveryWindow: number;
  private readonly maxSubscriptions: number;
  private readonly maxBacklog: number;
  private readonly budget: number;
  private readonly maxConnections: number;
  private readonly maxPerAddress: number;
  /** Every open connection (clients and those still authenticating), by client address. */
  private readonly perAddress = new Map<string, number>();
  private connections = 0;
  /** Dropped clients whose close frame is still queued: their bytes still count. */
  private readonly closing = new Set<WebSocket>();
  private readonly snapshots = new Map<string, SnapshotText>();
  readonly dropped: Record<DropReason, number> = { backlog: 0, budget: 0, keepalive: 0 };
  readonly refused: Record<RefuseReason, number> = { sidecar: 0, address: 0 };

  constructor(private readonly options: FanoutOptions) {
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
    this.deliveryWindow = options.deliveryWindow ?? 2;
    this.maxSubscriptions = options.maxSubscriptions ?? 100;
    this.maxBacklog = options.maxBacklogBytes ?? DEFAULTS.maxBacklogBytes;
    this.budget = options.outboundBudgetBytes ?? DEFAULTS.outboundBudgetBytes;
    this.maxConnections = options.maxConnections ?? DEFAULTS.maxConnections;
    this.maxPerAddress = options.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.pollMs = Math.max(1, Math.floor(this.flushIntervalMs / 5));
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

  /** Bytes queued for all clients together (what the budget bounds). */
  get outboundBytes(): number {
    let n = 0;
    for (const c of this.clients) n += c.ws.bufferedAmount;
    for (const ws of this.closing) n += ws.bufferedAmount;
    return n;
  }

  /** Takes a new WebSocket connection from `address` (the peer's IP). */
  accept(ws: WebSocket, address = 'unknown'): void {
    const here = this.perAddress.get(address) ?? 0;
    const refusal =
      this.connections >= this.maxConnections ? { reason: 'sidecar' as const, text: `the sidecar has its maximum of ${this.maxConnections} connections; try again later` }
      : here >= this.maxPerAddress ? { reason: 'address' as const, text: `${this.maxPerAddress} connections from your address already; try again later` }
      : null;
    if (refusal) {
      this.refused[refusal.reason] += 1;
      ws.close(CLOSE_TRY_AGAIN_LATER, refusal.text);
      return;
    }
    this.connections += 1;
    this.perAddress.set(address, here + 1);
    ws.once('close', () => {
      this.connections -= 1;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n > 0) this.perAddress.set(address, n);
      else this.perAddress.delete(address);
    });
    const { authenticator } = this.options;
    if (!authenticator) return void this.open(ws, null, []);
    // Auth on: the first message must be a good `auth` (the shared rules of ConnectionAuth).
    this.unauthenticated.add(ws);
    ws.once('close', () => this.unauthenticated.delete(ws));
    let client: Client | undefined;
    const auth = new ConnectionAuth(ws, {
      verify: (token) => authenticator.verify(token),
      access: (principal) => this.access(principal),
      refuse: ({ code, message, closeCode }) => {
        if (client) return this.closeWith(client, code, message, closeCode);
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify({ type: 'error', code, message } satisfies ErrorMessage));
        ws.close(closeCode, code);
      },
      timeoutMs: this.options.authTimeoutMs,
    });
    auth.awaitFirst((queued) => {
      this.unauthenticated.delete(ws);
      client = this.open(ws, auth, queued);
    });
  }

  /** May this principal read this app? Another tenant gets exactly what a missing app gives: nothing of this one leaks. */
  private access(principal: Principal): Refusal | null {
    const decision = checkAccess(principal, { tenant: this.options.tenant, role: 'viewer', groups: this.options.viewerGroups });
    if (decision.ok) return null;
    if (decision.code === 'not_found') return { code: 'not_found', message: notFoundMessage(principal.tenant), closeCode: CLOSE_NOT_FOUND };
    return { code: 'forbidden', message: decision.message, closeCode: CLOSE_FORBIDDEN };
  }

  private authenticated(client: Client): AuthenticatedMessage {
    const p = client.auth?.principal;
    return p
      ? { type: 'authenticated', subject: p.subject, tenant: p.tenant, expires_at: new Date(p.expiresAt).toISOString() }
      : { type: 'authenticated', subject: null, tenant: this.options.tenant, expires_at: null };
  }

  /** `{"op":"auth"}` on an open connection: a renewal (checked in order), or a no-op with auth off. */
  private renew(client: Client, m: Record<string, unknown>): void {
    if (!client.auth) return this.send(client, this.authenticated(client));
    if (typeof m.token !== 'string') return this.error(client, 'bad_request', "field 'token' must be a string (an access token)");
    client.auth.renew(m.token, () => this.send(client, this.authenticated(client)));
  }

  private closeWith(client: Client, code: ErrorCode, message: string, closeCode: number): void {
    this.error(client, code, message);
    if (client.ws.readyState === client.ws.OPEN) client.ws.close(closeCode, code);
    this.drop(client);
  }

  /** A client from now on: `authenticated` (auth on), `hello`, then whatever it sent meanwhile. */
  private open(ws: WebSocket, auth: ConnectionAuth | null, queued: [RawData, boolean][]): Client {
    const client: Client = { ws, subs: new Map(), alive: true, auth, pingsSent: 0, pingsAnswered: 0 };
    this.clients.add(client);
    ws.on('pong', (data) => this.onPong(client, data));
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    ws.on('close', () => this.drop(client));
    ws.on('error', () => this.drop(client));
    if (auth) this.send(client, this.authenticated(client));
    const { store, status, tenant } = this.options;
    this.send(client, {
      type: 'hello',
      protocol: CLIENT_PROTOCOL,
      app: this.options.app(),
      tenant,
      grids: gridInfos(store),
      status: status.get(),
    });
    for (const [data, isBinary] of queued) this.onMessage(client, data, isBinary);
    return client;
  }

  /**
   * Arms the flush timer to fire `delayMs` from now (at least 1 ms), unless it is armed to fire
   * sooner already (so a flush pass runs at most once per `pollMs` for changes, however many). Nothing arms it but work: a watched grid's change, a subscription still behind,
   * bytes still unsent.
   */
  private wake(delayMs: number): void {
    if (this.closed) return;
    const at = performance.now() + Math.max(1, delayMs);
    if (this.flushTimer && this.flushAt <= at) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushAt = at;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flushAt = Infinity;
      this.flush();
    }, at - performance.now());
    this.flushTimer.unref();
  }

  /**
   * Sends every pending delta that may go now (also called by the timer), then arms the timer for
   * the next subscription that will be due, if any.
   */
  flush(): void {
    const start = performance.now();
    // Deltas are small one by one, so the budget is checked once per flush interval, not per send.
    if (start - this.budgetCheckedAt >= this.flushIntervalMs) {
      this.budgetCheckedAt = start;
      this.makeRoom(null, 0);
    }
    /** When the next subscription behind its grid may be sent (performance.now()). */
    let next = Infinity;
    const hold = this.holdBytes();
    /** Clients sent something in this pass (their sockets corked): each gets one ping after it. */
    const sent = new Set<Client>();
    for (const [name, subs] of this.watchers) {
      const grid = this.options.store.get(name);
      if (!grid) continue;
      /** Deltas by previous seq: subscriptions at the same seq share the body, and with the same id the frame. */
      let deltas: Map<number, DeltaText> | null = null;
      for (const sub of subs) {
        if (sub.sentSeq === grid.seq) continue;
        const due = sub.sentAt + this.flushIntervalMs;
        if (performance.now() < due) {
          next = Math.min(next, due);
          continue;
        }
        const { ws } = sub.client;
        // A socket no longer open is being dropped: nothing to wait for.
        if (ws.readyState !== ws.OPEN) continue;
        if (ws.bufferedAmount > hold) {
          next = Math.min(next, performance.now() + this.pollMs);
          continue;
        }
        // Not yet read what came before: its pong wakes the flush.
        if (this.unread(sub.client)) continue;
        if (!sent.has(sub.client)) {
          sent.add(sub.client);
          cork(ws);
        }
        deltas ??= new Map();
        let delta = deltas.get(sub.sentSeq);
        if (delta === undefined) {
          const keys = grid.history.since(sub.sentSeq, grid.seq);
          delta = { body: keys ? changesJson(grid, keys) : null, frames: new Map() };
          deltas.set(sub.sentSeq, delta);
        }
        if (delta.body === null) {
          // Too far behind for the history: the whole grid again.
          this.sendSnapshot(sub, grid, performance.now());
          continue;
        }
        let frame = delta.frames.get(sub.id);
        if (frame === undefined) {
          frame = Buffer.from(`{"type":"delta","id":${JSON.stringify(sub.id)},"grid":${JSON.stringify(grid.name)},"from_seq":${sub.sentSeq},"seq":${grid.seq},${delta.body}}`);
          delta.frames.set(sub.id, frame);
        }
        sub.sentSeq = grid.seq;
        // The time of this send, not of the flush's start: a slow flush must not shorten the spacing.
        sub.sentAt = performance.now();
        this.sendText(sub.client, frame);
      }
    }
    for (const client of sent) {
      this.pingAfterData(client);
      uncork(client.ws);
    }
    // While bytes wait unsent, the budget is checked every flush interval.
    if (next === Infinity && this.outboundBytes > 0) next = performance.now() + this.flushIntervalMs;
    if (next !== Infinity) this.wake(next - performance.now());
  }

  /** Pacing: has the client left `deliveryWindow` pings that followed data unanswered? */
  private unread(client: Client): boolean {
    return client.pingsSent - client.pingsAnswered >= this.deliveryWindow;
  }

  /** Pacing: a ping numbered after what was just sent; its pong says the client has read it all. */
  private pingAfterData(client: Client): void {
    const { ws } = client;
    if (ws.readyState !== ws.OPEN || !this.clients.has(client)) return;
    client.pingsSent += 1;
    ws.ping(String(client.pingsSent));
  }

  /** Any pong shows the client alive (keepalive); a pacing pong also lets its next deltas go. */
  private onPong(client: Client, data: Buffer): void {
    client.alive = true;
    const n = Number(data.toString('latin1'));
    // A keepalive ping's pong is empty (0); a number never sent is a client's own, ignored.
    if (!Number.isSafeInteger(n) || n <= client.pingsAnswered || n > client.pingsSent) return;
    client.pingsAnswered = n;
    if (client.subs.size > 0) this.wake(this.pollMs);
  }

  /**
   * Unsent bytes that hold a subscription's deltas back: `maxBufferedBytes`, or less once every
   * client holding that much would take more than half the outbound budget (an equal share of that
   * half, at least 16 KiB). With thousands of clients, a slow reader's deltas are then conflated
   * before the budget has to drop clients for bytes that conflation would have saved.
   */
  private holdBytes(): number {
    return Math.min(this.maxBuffered, Math.max(16 * 1024, Math.floor(this.budget / 2 / Math.max(1, this.clients.size))));
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const stop of this.gridListeners.values()) stop();
    this.gridListeners.clear();
    clearInterval(this.keepaliveTimer);
    for (const u of this.unlisten) u();
    for (const client of [...this.clients]) {
      client.ws.close(1001, 'server shutting down');
      this.drop(client);
    }
    for (const ws of [...this.unauthenticated]) ws.close(1001, 'server shutting down');
    this.unauthenticated.clear();
  }

  private broadcastStatus(status: AppStatus): void {
    // `grids` is an addition to §2's status message: it lets clients notice grids declared by a
    // runtime that connected after them (unknown fields are ignored by older clients).
    const message: ServerMessage = { type: 'status', ...status, grids: gridInfos(this.options.store) };
    const text = JSON.stringify(message);
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    for (const client of this.clients) this.sendText(client, text);
  }

  private keepalive(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        // No pong to the last ping: the peer is gone or stuck, so a close frame would not arrive.
        this.dropped.keepalive += 1;
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
    client.auth?.stop();
    for (const sub of client.subs.values()) this.unwatch(sub);
    client.subs.clear();
  }

  private send(client: Client, message: ServerMessage): void {
    this.sendText(client, JSON.stringify(message));
  }

  /** Sends a text frame: a string, or one encoded ahead as UTF-8 (shared by clients, never changed). */
  private sendText(client: Client, text: string | Buffer): void {
    const { ws } = client;
    if (ws.readyState !== ws.OPEN || !this.clients.has(client)) return;
    if (ws.bufferedAmount + text.length > this.maxBacklog) {
      // Deltas wait for a slow reader, but replies and snapshots do not: a client that keeps
      // asking without reading would grow our memory without limit.
      return this.shed(client, 'backlog', tooFarBehindReason(`over ${mib(this.maxBacklog)} unsent to this connection`));
    }
    if (text.length >= LARGE_MESSAGE && !this.makeRoom(client, text.length)) return;
    if (typeof text === 'string') ws.send(text);
    else ws.send(text, TEXT_FRAME);
    // Bytes left unsent: the flush timer keeps the budget checked until they are gone.
    if (ws.bufferedAmount > 0) this.wake(this.flushIntervalMs);
  }

  /**
   * Keeps all clients' unsent bytes, plus `bytes` more for `requester`, within the budget: drops
   * the clients furthest behind first (the requester counted with its message). False when the
   * requester itself was dropped.
   */
  private makeRoom(requester: Client | null, bytes: number): boolean {
    let total = this.outboundBytes + bytes;
    if (total <= this.budget) return true;
    const behind = (c: Client) => c.ws.bufferedAmount + (c === requester ? bytes : 0);
    const queue = [...this.clients].filter((c) => behind(c) > 0).sort((a, b) => behind(b) - behind(a));
    for (const c of queue) {
      if (total <= this.budget) break;
      total -= behind(c);
      this.shed(c, 'budget', tooFarBehindReason(`furthest behind (${mib(behind(c))}) when all clients' ${mib(this.budget)} ran out`));
      if (c === requester) return false;
    }
    return true;
  }

  /** Drops a client with close code 4008 and the reason; its queue goes with the close frame, or after the grace. */
  private shed(client: Client, why: DropReason, reason: string): void {
    const { ws } = client;
    this.dropped[why] += 1;
    this.options.logger.warn(`dropping a WebSocket client: ${reason}`);
    this.drop(client);
    this.closing.add(ws);
    const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    ws.once('close', () => {
      clearTimeout(timer);
      this.closing.delete(ws);
    });
    ws.close(CLOSE_TOO_FAR_BEHIND, reason);
  }

  private error(client: Client, code: ErrorCode, message: string, id?: unknown): void {
    const echo: { id?: string | number } = typeof id === 'string' || typeof id === 'number' ? { id } : {};
    this.send(client, { type: 'error', code, message, ...echo });
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    if (!this.clients.has(client)) return;
    if (isBinary) return this.error(client, 'bad_request', 'binary frames are not supported: send JSON text frames');
    let msg: unknown;
    try {
      msg = JSON.parse(frameText(data));
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
      case 'auth':
        return this.renew(client, m);
      default:
        return this.error(client, 'unknown_op', `unknown op '${String(m.op).slice(0, 100)}'; ops: subscribe, unsubscribe, ping, auth`, m.id);
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
    if (m.seq !== undefined && (typeof m.seq !== 'number' || !Number.isSafeInteger(m.seq) || m.seq < 0)) {
      return this.error(client, 'bad_request', "field 'seq' must be a non-negative integer (the last seq the client holds for the grid)", id);
    }
    const { store } = this.options;
    const sub: Subscription = { id, client, grid: null, gridName: m.grid, sentSeq: -1, sentAt: 0, resumeFrom: typeof m.seq === 'number' ? m.seq : null };
    if (!store.get(m.grid)) {
      if (store.listKnown) return this.error(client, 'unknown_grid', `no grid '${m.grid}'; ${describeGrids(store)}`, id);
      // No runtime has declared the grids yet: the snapshot comes when it does.
      client.subs.set(id, sub);
      return;
    }
    client.subs.set(id, sub);
    this.activate(client, sub);
  }

  /** Starts a subscription whose grid exists: `resumed` when it can resume, else the snapshot. */
  private activate(client: Client, sub: Subscription): void {
    const grid = this.options.store.get(sub.gridName)!;
    sub.grid = grid;
    let watching = this.watchers.get(grid.name);
    if (!watching) {
      this.watchers.set(grid.name, (watching = new Set()));
      // A change of a watched grid wakes the flush timer; of an unwatched one, nothing.
      this.gridListeners.set(grid.name, this.options.store.listen(grid.name, () => this.wake(this.pollMs)));
    }
    watching.add(sub);
    const now = performance.now();
    const from = sub.resumeFrom;
    sub.resumeFrom = null;
    const keys = from === null ? null : grid.history.since(from, grid.seq);
    if (from === null || keys === null) this.sendSnapshot(sub, grid, now);
    else {
      sub.sentSeq = grid.seq;
      sub.sentAt = now;
      this.send(client, { type: 'resumed', id: sub.id, grid: grid.name, columns: grid.columns, from_seq: from, seq: grid.seq, ...changes(grid, keys) });
    }
    // The first delta waits until the client has read its snapshot (or resumed). With pings
    // already unanswered its deltas wait anyway, and more would flood it (ws clients drop a peer
    // that leaves 60 pongs owed).
    if (!this.unread(client)) this.pingAfterData(client);
  }

  private sendSnapshot(sub: Subscription, grid: Grid, now: number): void {
    sub.sentSeq = grid.seq;
    sub.sentAt = now;
    let rows = this.snapshots.get(grid.name);
    if (!rows || rows.seq !== grid.seq) this.snapshots.set(grid.name, (rows = { seq: grid.seq, rows: JSON.stringify(grid.rowsObject()) }));
    this.sendText(
      sub.client,
      `{"type":"snapshot","id":${JSON.stringify(sub.id)},"grid":${JSON.stringify(grid.name)},"columns":${JSON.stringify(grid.columns)},"seq":${grid.seq},"rows":${rows.rows}}`,
    );
  }

  private unwatch(sub: Subscription): void {
    const watching = this.watchers.get(sub.gridName);
    if (!watching) return;
    watching.delete(sub);
    if (watching.size > 0) return;
    this.watchers.delete(sub.gridName);
    this.gridListeners.get(sub.gridName)?.();
    this.gridListeners.delete(sub.gridName);
  }

  /** Pending subscriptions: start those whose grid now exists; fail the rest once the grid list is known. */
  private activatePending(): void {
    const { store } = this.options;
    for (const client of this.clients) {
      for (const sub of [...client.subs.values()]) {
        // A send may have dropped the client (too far behind): its subscriptions are gone.
        if (!this.clients.has(client)) break;
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
    this.unwatch(sub);
    client.subs.delete(id);
    this.send(client, { type: 'unsubscribed', id });
  }
}

/**
 * Holds a socket's writes until `uncork`, so a pass's deltas and the ping after them leave in one
 * write (a system call per client and pass, not two). Sockets without one (tests) are left as they are.
 */
function cork(ws: WebSocket): void {
  (ws as unknown as { _socket?: Socket })._socket?.cork();
}

function uncork(ws: WebSocket): void {
  (ws as unknown as { _socket?: Socket })._socket?.uncork();
}

/** What a caller gets where there is no app for its tenant (the same for a missing app and another tenant's). */
export function notFoundMessage(tenant: string): string {
  return `not found: no app here for tenant '${tenant}'`;
}
