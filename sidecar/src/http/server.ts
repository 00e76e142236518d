/**
 * HTTP and WebSocket on one port (docs/protocol.md §2, §3): the `/v1/` JSON endpoints, health,
 * readiness, Prometheus metrics, the live viewer page at `/`, and WebSocket upgrades at `/v1/ws`
 * and `/`.
 *
 * With auth on, every `/v1/` request needs `Authorization: Bearer <token>` of this app's tenant
 * (another tenant's token gets the same 404 as a missing app); WebSocket clients authenticate in
 * their first message (fanout.ts). `/v1/` answers CORS preflights: the Excel add-in calls it from
 * its own origin, with tokens, never cookies. With auth off, cors.ts keeps other web sites out.
 */
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer } from 'ws';
import type { GridStore } from '../grids.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { StatusTracker } from '../status.js';
import { AuthError, checkAccess, type Authenticator } from '../auth/index.js';
import { bearerChallenge, corsHeaders, preflightHeaders, refusalHeaders, refuseCrossSite, upgradeRefusal } from './cors.js';
import { CLIENT_PROTOCOL } from '@aerogrid/protocol/client-messages';
import { Fanout, notFoundMessage } from './fanout.js';
import { fileURLToPath } from 'node:url';
import { pageFiles } from './page-files.js';

export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export interface FrontendOptions {
  host: string;
  port: number;
  store: GridStore;
  status: StatusTracker;
  metrics: Metrics;
  logger: Logger;
  tenant: string;
  app: () => string;
  /** Grids are served and the runtime is connected. */
  ready: () => boolean;
  /** The body of `GET /v1/status` (default: the status alone). */
  report?: () => Record<string, unknown>;
  /** The status message `/readyz` shows (default: the status's own); open to probes, so no record content. */
  probeMessage?: () => string | null;
  /** Restore progress for `/readyz` (absent: not reported). */
  restore?: () => Record<string, unknown>;
  flushIntervalMs?: number;
  maxBufferedBytes?: number;
  maxSubscriptions?: number;
  /** See FanoutOptions. */
  maxBacklogBytes?: number;
  outboundBudgetBytes?: number;
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  authTimeoutMs?: number;
  /** Auth on: verifies tokens (closed with the frontend). */
  authenticator?: Authenticator;
  /** With auth: only members of one of these groups may read (empty: every viewer of the tenant). */
  viewerGroups?: readonly string[];
  /** With auth off: origins besides loopback whose pages may read (--allow-origin). */
  allowOrigins?: readonly string[];
}

export interface Frontend {
  /** `http://HOST:PORT/` with the real port. */
  url: string;
  port: number;
  fanout: Fanout;
  close(): Promise<void>;
}

const WS_PATHS = new Set(['/v1/ws', '/']);

function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function httpError(res: http.ServerResponse, status: number, code: string, message: string, headers?: http.OutgoingHttpHeaders): void {
  json(res, status, { error: { code, message } }, headers);
}

/** null: the request may go on; otherwise it has been answered (401, 403 or 404). */
async function authorize(req: http.IncomingMessage, res: http.ServerResponse, options: FrontendOptions): Promise<'ok' | null> {
  const { authenticator } = options;
  if (!authenticator) return 'ok';
  let principal;
  try {
    principal = await authenticator.fromRequest(req);
  } catch (err) {
    const message = err instanceof AuthError ? err.message : 'the token could not be checked';
    httpError(res, 401, 'unauthorized', message, { 'www-authenticate': bearerChallenge(req) });
    return null;
  }
  const decision = checkAccess(principal, { tenant: options.tenant, role: 'viewer', groups: options.viewerGroups });
  if (decision.ok) return 'ok';
  if (decision.code === 'not_found') httpError(res, 404, 'not_found', notFoundMessage(principal.tenant));
  else httpError(res, 403, 'forbidden', decision.message);
  return null;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startFrontend(options: FrontendOptions): Promise<Frontend> {
  const { store, status, metrics, logger } = options;
  const fanout = new Fanout({
    store,
    status,
    logger,
    app: options.app,
    tenant: options.tenant,
    flushIntervalMs: options.flushIntervalMs,
    maxBufferedBytes: options.maxBufferedBytes,
    maxSubscriptions: options.maxSubscriptions,
    authenticator: options.authenticator,
    viewerGroups: options.viewerGroups,
    authTimeoutMs: options.authTimeoutMs,
    maxBacklogBytes: options.maxBacklogBytes,
    outboundBudgetBytes: options.outboundBudgetBytes,
    maxConnections: options.maxConnections,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress,
  });
  metrics.gauges = {
    gridRows: () => store.list().map((g) => ({ grid: g.name, rows: g.rows })),
    wsClients: () => fanout.clientCount,
    wsSubscriptions: () => fanout.subscriptionCount,
    wsOutbound: () => ({ bytes: fanout.outboundBytes, dropped: fanout.dropped, refused: fanout.refused }),
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(CLIENT_PROTOCOL) ? CLIENT_PROTOCOL : false),
  });
  wss.on('connection', (ws, req: http.IncomingMessage) => fanout.accept(ws, req.socket.remoteAddress ?? 'unknown'));

  const authOn = Boolean(options.authenticator);
  // The built viewer (web/build.mjs) is sidecar/dist/viewer, two folders up from this module in
  // src/http, dist/http and dist/bundle alike.
  const viewer = pageFiles(fileURLToPath(new URL('../../dist/viewer/', import.meta.url)), 'viewer', {
    policy: "connect-src 'self'",
    html: (page) => (authOn ? page.replace('<meta name="aerogrid-auth" content="off">', '<meta name="aerogrid-auth" content="on">') : page),
  });
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error(`http ${req.method} ${req.url}: ${(err as Error).message}`);
      if (!res.headersSent) httpError(res, 500, 'internal', 'internal error');
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const refusal = refuseCrossSite(req, authOn, options.allowOrigins);
    if (refusal) return httpError(res, refusal.status, refusal.code, refusal.message, refusalHeaders(req));
    if (path.startsWith('/v1/')) {
      for (const [name, value] of Object.entries(corsHeaders(req, authOn))) res.setHeader(name, value!);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, preflightHeaders(req, authOn, 'GET, HEAD, OPTIONS'));
        return void res.end();
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return httpError(res, 405, 'method_not_allowed', `${req.method} is not allowed; use GET`, { allow: 'GET, HEAD' });
    }
    if (viewer.handle(req, res, path)) return;
    if (path === '/healthz') return json(res, 200, { ok: true });
    if (path === '/readyz') {
      const s = status.get();
      // `?standby=ok`: a standby that follows the writer counts as ready too (a pod's readiness
      // with replicas: 2, so that the Deployment is available with one writer and one standby).
      const ready = options.ready() || (url.searchParams.get('standby') === 'ok' && s.state === 'standby');
      const body: Record<string, unknown> = { ready, state: s.state, message: options.probeMessage ? options.probeMessage() : s.message, stale_since: s.stale_since };
      if (options.restore) body.restore = options.restore();
      return json(res, ready ? 200 : 503, body);
    }
    if (path.startsWith('/v1/') && (await authorize(req, res, options)) === null) return;
    if (path === '/v1/status') {
      return json(res, 200, options.report ? options.report() : { app: options.app(), ...status.get() });
    }
    if (path === '/metrics') {
      const text = metrics.render();
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
      });
      return void res.end(text);
    }
    if (path === '/v1/grids') {
      return json(res, 200, { app: options.app(), grids: store.list() });
    }
    if (path.startsWith('/v1/grids/')) {
      let name: string;
      try {
        name = decodeURIComponent(path.slice('/v1/grids/'.length));
      } catch {
        return httpError(res, 400, 'bad_request', 'the grid name in the path is not valid percent-encoding');
      }
      const grid = store.get(name);
      if (!grid) {
        const names = store.names();
        return httpError(res, 404, 'unknown_grid', `no grid '${name}'; ${names.length ? `grids: ${names.join(', ')}` : 'the app has no grids yet'}`);
      }
      return json(res, 200, { grid: grid.name, columns: grid.columns, seq: grid.seq, rows: grid.rowsObject() });
    }
    return httpError(res, 404, 'not_found', `no such path: ${path}`);
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const reject = (statusLine: string, code: string, message: string) => socket.end(upgradeRefusal(statusLine, code, message));
    socket.on('error', () => {});
    const refusal = refuseCrossSite(req, authOn, options.allowOrigins);
    if (refusal) return reject('403 Forbidden', refusal.code, refusal.message);
    if (!WS_PATHS.has(path)) return reject('404 Not Found', 'not_found', `WebSocket endpoint is /v1/ws, not ${path}`);
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined) {
      const list = offered.split(',').map((p) => p.trim());
      if (!list.includes(CLIENT_PROTOCOL)) {
        return reject(
          '400 Bad Request',
          'unsupported_protocol',
          `unsupported WebSocket subprotocol ${list.join(', ')}; this server speaks ${CLIENT_PROTOCOL}`,
        );
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error(`http server: ${err.message}`));
  const port = (server.address() as net.AddressInfo).port;
  const url = `http://${hostForUrl(options.host)}:${port}/`;

  return {
    url,
    port,
    fanout,
    close: async () => {
      fanout.close();
      options.authenticator?.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
