/**
 * The runtime socket server (docs/protocol.md §1): listens on `tcp://HOST:PORT` or
 * `unix:///path`, accepts one runtime session at a time, frames JSON lines and turns them into
 * calls on a RuntimeHandler. Protocol violations are answered with an `error` and a closed socket.
 */
import net from 'node:net';
import fs from 'node:fs';
import { errorMessage, type Logger } from '../log.js';
import { LineDecoder, LineTooLongError } from './lines.js';
import { messageType, parseAck, parseHello, parseLog, ProtocolError, type Ack, type Hello, type LogMessageLevel } from './protocol.js';

export type RuntimeAddr = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses `tcp://HOST:PORT` or `unix:///absolute/path`. */
export function parseRuntimeAddr(value: string): RuntimeAddr {
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`invalid runtime address ${JSON.stringify(value)}: expected unix:///absolute/path`);
    return { kind: 'unix', path };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(value);
  if (!m || Number(m[2]) > 65535) {
    throw new Error(`invalid runtime address ${JSON.stringify(value)}: expected tcp://HOST:PORT or unix:///path`);
  }
  return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function formatRuntimeAddr(addr: RuntimeAddr): string {
  if (addr.kind === 'unix') return `unix://${addr.path}`;
  return `tcp://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
}

export interface RuntimeHandler {
  /** A valid hello arrived. Sends the welcome (or throws a ProtocolError to refuse the session). */
  onHello(session: RuntimeSession, hello: Hello): Promise<void>;
  /** An ack arrived; throws a ProtocolError when it does not fit. */
  onAck(session: RuntimeSession, ack: Ack): void;
  onLog(session: RuntimeSession, level: LogMessageLevel, message: string): void;
  /**
   * The runtime sent an `error` (it closes the socket next). Before hello this is a runtime that
   * cannot start, e.g. the user's code failed to load.
   */
  onRuntimeError(session: RuntimeSession, code: string, message: string, beforeHello: boolean): void;
  /** A session that had said hello ended. `reason` says why, for the log and the status. */
  onClose(session: RuntimeSession, reason: string): void;
  /**
   * After hello, a line over the limit came in (most likely an ack too large): true when the
   * handler dealt with it (and ended the session); false makes it a `protocol` error.
   */
  onLineTooLong?(session: RuntimeSession, message: string): boolean;
}

export interface RuntimeServerOptions {
  addr: RuntimeAddr;
  handler: RuntimeHandler;
  logger: Logger;
  /** A connection must say hello within this time (default 10 s). */
  helloTimeoutMs?: number;
  maxLineBytes?: number;
}

let nextSessionId = 1;

export class RuntimeSession {
  readonly id = nextSessionId++;
  hello: Hello | null = null;
  closed = false;
  /** Set when the sidecar asked the runtime to shut down. */
  shutdownRequested = false;
  private closeReason: string | null = null;
  private readonly decoder: LineDecoder;
  private helloPending = false;
  private readonly queued: string[] = [];
  private helloTimer: NodeJS.Timeout | null;
  /** Resolves once the socket is closed. */
  readonly whenClosed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    readonly socket: net.Socket,
    private readonly server: RuntimeServer,
    private readonly handler: RuntimeHandler,
    private readonly logger: Logger,
    helloTimeoutMs: number,
    maxLineBytes: number,
  ) {
    this.decoder = new LineDecoder(maxLineBytes);
    this.whenClosed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.helloTimer = setTimeout(() => this.fail('protocol', `expected hello within ${helloTimeoutMs / 1000} s`), helloTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.closeReason ??= `socket error: ${err.message}`;
    });
    socket.on('close', () => this.onSocketClose());
  }

  get describe(): string {
    return this.hello?.pid !== undefined ? `runtime pid ${this.hello.pid}` : `runtime session ${this.id}`;
  }

  send(message: object): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(JSON.stringify(message) + '\n');
  }

  /** Sends an `error` and closes the session. */
  fail(code: string, message: string): void {
    if (this.closed) return;
    this.closeReason ??= `protocol error: ${message}`;
    this.logger.warn(`${this.describe}: ${code}: ${message}; closing the session`);
    this.send({ type: 'error', code, message });
    this.end();
  }

  /** Asks the runtime to finish the batch in hand, ack it and exit. */
  requestShutdown(): void {
    this.shutdownRequested = true;
    this.send({ type: 'shutdown' });
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearHelloTimer();
    this.socket.end();
    // Do not wait forever for a peer that does not close its side.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private clearHelloTimer(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let lines: string[];
    try {
      lines = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof LineTooLongError)) throw err;
      if (this.hello && this.handler.onLineTooLong?.(this, err.message)) return;
      return this.fail('protocol', err.message);
    }
    for (const line of lines) {
      if (this.closed) return;
      if (line.trim() === '') continue;
      if (this.helloPending) this.queued.push(line);
      else this.handleLine(line);
    }
  }

  private handleLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch (err) {
      return this.fail('protocol', `a line is not valid JSON: ${errorMessage(err)}`);
    }
    try {
      const type = messageType(msg);
      const body = msg as Record<string, unknown>;
      if (type === 'error') {
        const code = typeof body.code === 'string' ? body.code : 'error';
        const message = typeof body.message === 'string' ? body.message : JSON.stringify(body.message ?? null);
        this.closeReason = `the runtime reported an error (${code}): ${message}`;
        this.handler.onRuntimeError(this, code, message, !this.hello && !this.helloPending);
        this.end();
        return;
      }
      if (!this.hello) {
        if (type !== 'hello') throw new ProtocolError(`expected hello, got ${type}`);
        const hello = parseHello(body);
        this.clearHelloTimer();
        this.helloPending = true;
        this.handler.onHello(this, hello).then(
          () => {
            this.hello = hello;
            this.helloPending = false;
            while (this.queued.length > 0 && !this.closed) this.handleLine(this.queued.shift()!);
          },
          (err: unknown) => {
            this.helloPending = false;
            if (err instanceof ProtocolError) this.fail(err.code, err.message);
            else this.fail('internal', `could not start the session: ${errorMessage(err)}`);
          },
        );
        return;
      }
      switch (type) {
        case 'hello':
          throw new ProtocolError('hello was already received in this session');
        case 'ack':
          this.handler.onAck(this, parseAck(body));
          return;
        case 'log': {
          const { level, message } = parseLog(body);
          this.handler.onLog(this, level, message);
          return;
        }
        default:
          throw new ProtocolError(`unknown message type '${type}'`);
      }
    } catch (err) {
      if (err instanceof ProtocolError) return this.fail(err.code, err.message);
      return this.fail('internal', `sidecar error while handling a message: ${errorMessage(err)}`);
    }
  }

  private onSocketClose(): void {
    this.closed = true;
    this.resolveClosed();
    this.clearHelloTimer();
    this.server.sessionEnded(this);
    if (this.hello) {
      const reason = this.closeReason ?? (this.shutdownRequested ? 'shut down on request' : 'the runtime closed the connection');
      this.handler.onClose(this, reason);
    }
  }
}

export class RuntimeServer {
  private server: net.Server | null = null;
  private current: RuntimeSession | null = null;
  private readonly sockets = new Set<net.Socket>();
  private boundAddr: RuntimeAddr;

  constructor(private readonly options: RuntimeServerOptions) {
    this.boundAddr = options.addr;
  }

  /** The address runtimes connect to (with the real port when listening on port 0). */
  get addr(): string {
    return formatRuntimeAddr(this.boundAddr);
  }

  get session(): RuntimeSession | null {
    return this.current;
  }

  async listen(): Promise<void> {
    const { addr } = this.options;
    if (addr.kind === 'unix') await removeStaleSocket(addr.path);
    const server = net.createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (addr.kind === 'unix') server.listen(addr.path, done);
      else server.listen(addr.port, addr.host, done);
    });
    server.on('error', (err) => this.options.logger.error(`runtime socket: ${err.message}`));
    this.server = server;
    if (addr.kind === 'tcp') {
      const bound = server.address() as net.AddressInfo;
      this.boundAddr = { kind: 'tcp', host: addr.host, port: bound.port };
    }
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.current && !this.current.closed) {
      const holder = this.current.describe;
      socket.on('error', () => {});
      this.options.logger.warn(`refused a second runtime connection: ${holder} is connected`);
      socket.end(
        JSON.stringify({
          type: 'error',
          code: 'busy',
          message: `another runtime is connected (${holder}); this sidecar serves one runtime at a time`,
        }) + '\n',
      );
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    this.current = new RuntimeSession(
      socket,
      this,
      this.options.handler,
      this.options.logger,
      this.options.helloTimeoutMs ?? 10_000,
      this.options.maxLineBytes ?? 64 * 1024 * 1024,
    );
  }

  /** Called by a session when its socket closed. */
  sessionEnded(session: RuntimeSession): void {
    if (this.current === session) this.current = null;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.options.addr.kind === 'unix') {
      try {
        fs.unlinkSync(this.options.addr.path);
      } catch {
        // already gone
      }
    }
  }
}

/** Removes a leftover socket file, unless a live process still listens on it. */
async function removeStaleSocket(path: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`cannot listen on unix://${path}: the path exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`cannot listen on unix://${path}: another process is listening there`);
  fs.unlinkSync(path);
}
