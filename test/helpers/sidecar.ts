/**
 * Test helpers for the sidecar: a fake Python runtime that speaks the runtime socket protocol,
 * a WebSocket client that collects messages, HTTP helpers, and polling.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export const BROKER = process.env.AEROGRID_TEST_BROKER ?? '127.0.0.1:19092';

/** A name unique to this test run, valid as an app name and a topic name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Polls `probe` until it returns a truthy value (or stops throwing); fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as Exclude<T, false | null | undefined>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

/** Collects JSON messages and hands them out in order, filtered by a predicate. */
class Inbox {
  private readonly queue: Msg[] = [];
  private readonly waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  readonly all: Msg[] = [];

  push(m: Msg): void {
    this.all.push(m);
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(m);
    } else {
      this.queue.push(m);
    }
  }

  next(match: (m: Msg) => boolean, timeoutMs: number, what: string): Promise<Msg> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: Msg) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.all.slice(-5)).slice(0, 600)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Removes and returns the queued messages that match. */
  take(match: (m: Msg) => boolean): Msg[] {
    const taken = this.queue.filter(match);
    for (const m of taken) this.queue.splice(this.queue.indexOf(m), 1);
    return taken;
  }

  /** Messages not yet handed out. */
  pending(match: (m: Msg) => boolean = () => true): Msg[] {
    return this.queue.filter(match);
  }
}

export interface HelloOptions {
  app: string;
  topics?: { name: string; streamed?: boolean }[];
  grids?: { name: string; columns: string[] }[];
  protocol?: string;
  pid?: number;
}

export type BatchHandler = (batch: Msg) => { deltas: Msg[]; rejected?: Msg[]; processed?: number };

/** A stand-in for the Python runtime, speaking `aerogrid.runtime.v1` over TCP or a Unix socket. */
export class FakeRuntime {
  readonly inbox = new Inbox();
  readonly closed: Promise<void>;
  isClosed = false;
  private buffer = '';
  private handler: BatchHandler | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => {
      this.isClosed = true;
      resolve();
    }));
  }

  static connect(addr: string): Promise<FakeRuntime> {
    return new Promise((resolve, reject) => {
      const socket = addr.startsWith('unix://')
        ? net.connect(addr.slice('unix://'.length))
        : (() => {
            const m = /^tcp:\/\/(.+):(\d+)$/.exec(addr)!;
            return net.connect(Number(m[2]), m[1]!);
          })();
      socket.once('connect', () => resolve(new FakeRuntime(socket)));
      socket.once('error', reject);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const msg = JSON.parse(line) as Msg;
      if (msg.type === 'batch' && this.handler) this.ackWith(msg, this.handler);
      else this.inbox.push(msg);
    }
  }

  send(msg: object): void {
    this.socket.write(JSON.stringify(msg) + '\n');
  }

  sendRaw(text: string): void {
    this.socket.write(text);
  }

  /** Sends hello and returns the welcome. */
  async hello(options: HelloOptions): Promise<Msg> {
    this.send({
      type: 'hello',
      protocol: options.protocol ?? 'aerogrid.runtime.v1',
      app: options.app,
      pid: options.pid ?? process.pid,
      sdk: 'test',
      topics: (options.topics ?? []).map((t) => ({ key_type: 'str', value_type: 'Order', ...t })),
      grids: options.grids ?? [],
    });
    return this.next('welcome');
  }

  next(type: string, timeoutMs = 10_000): Promise<Msg> {
    return this.inbox.next((m) => m.type === type, timeoutMs, `a '${type}' message`);
  }

  /** Acks one batch with what `handler` returns. */
  ackWith(batch: Msg, handler: BatchHandler): void {
    const { deltas, rejected = [], processed } = handler(batch);
    this.send({
      type: 'ack',
      id: batch.id,
      processed: processed ?? batch.records.length - rejected.length,
      deltas,
      rejected,
    });
  }

  /** From now on, acks every batch (queued ones first) with `handler`. */
  autoAck(handler: BatchHandler): void {
    this.handler = handler;
    for (const b of this.inbox.take((m) => m.type === 'batch')) this.ackWith(b, handler);
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * The seed connector's logic (DESIGN.md §1) as a batch handler: sums `quantity` per `product`
 * into grid `product_sum`, rejecting what the Python runtime would reject.
 */
export class OrdersModel {
  readonly sums = new Map<string, number>();
  readonly seen: string[] = [];

  constructor(snapshot?: Record<string, Record<string, { units_sold: number }>>) {
    for (const [k, row] of Object.entries(snapshot?.product_sum ?? {})) this.sums.set(k, row.units_sold);
  }

  readonly handle: BatchHandler = (batch) => {
    const touched = new Set<string>();
    const rejected: Msg[] = [];
    for (const r of batch.records as Msg[]) {
      this.seen.push(`${r.topic}/${r.partition}/${r.offset}`);
      const reject = (kind: string, reason: string) =>
        rejected.push({ topic: r.topic, partition: r.partition, offset: r.offset, kind, reason });
      let v: Msg;
      try {
        v = JSON.parse(r.value);
      } catch {
        reject('decode', 'value is not valid JSON');
        continue;
      }
      if (typeof v?.quantity !== 'number' || !Number.isInteger(v.quantity)) {
        reject('validation', `field 'quantity': expected int, got ${typeof v?.quantity} ${JSON.stringify(v?.quantity)}`);
        continue;
      }
      if (v.product === 'boom') {
        rejected.push({
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          kind: 'handler',
          reason: 'ValueError: boom',
          traceback: 'Traceback (most recent call last):\n  File "app.py", line 20, in sum_orders\nValueError: boom\n',
        });
        continue;
      }
      this.sums.set(v.product, (this.sums.get(v.product) ?? 0) + v.quantity);
      touched.add(v.product);
    }
    return {
      deltas: [...touched].map((k) => ({ grid: 'product_sum', key: k, row: { units_sold: this.sums.get(k) } })),
      rejected,
    };
  };
}

export const ORDERS_GRIDS = [{ name: 'product_sum', columns: ['units_sold'] }];

/** A WebSocket client that collects server messages. */
export class WsClient {
  readonly inbox = new Inbox();
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number }>;

  constructor(
    url: string,
    readonly ws: WebSocket = new WebSocket(url, 'aerogrid.v1'),
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve({ code })));
    ws.on('message', (data) => this.inbox.push(JSON.parse(data.toString()) as Msg));
    ws.on('error', () => {});
  }

  static async open(url: string, protocols: string | string[] | undefined = 'aerogrid.v1'): Promise<WsClient> {
    const c = new WsClient(url, new WebSocket(url, protocols));
    await c.opened;
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  next(match: string | ((m: Msg) => boolean), timeoutMs = 10_000): Promise<Msg> {
    const fn = typeof match === 'string' ? (m: Msg) => m.type === match : match;
    return this.inbox.next(fn, timeoutMs, typeof match === 'string' ? `a '${match}' message` : 'a matching message');
  }

  /** Sends a request and returns the next message carrying its id (reply or error). */
  async request(msg: Msg, timeoutMs = 5000): Promise<Msg> {
    this.send(msg);
    return this.next((m) => m.id === msg.id && m.type !== 'delta', timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}

export async function getJson(url: string): Promise<{ status: number; body: Msg; contentType: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Msg, contentType: res.headers.get('content-type') };
}

export function wsUrl(httpUrl: string, path = 'v1/ws'): string {
  return httpUrl.replace(/^http/, 'ws') + path;
}
