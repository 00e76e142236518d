// The directory's HTTP and WebSocket server (docs/protocol.md "Directory"), run by
// `aerogrid serve`: the apps with their live status, stop/start/delete/rollback as GitOps commits, the watch,
// and the web console at `/`.
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer } from 'ws';
import { bearerChallenge, corsHeaders, preflightHeaders, refusalHeaders, refuseCrossSite, upgradeRefusal } from '@aerogrid/sidecar/cors';
import { CliError, ExitCode } from '../errors.js';
import type { ConsoleConfig } from '@aerogrid/protocol/console-api';
import { consoleConfig, hostConsole } from '../console/hosting.js';
import { AccessDenied, AuthError, requireAccess, visibleTo, type Access, type Principal } from './access.js';
import { forClient } from './app.js';
import type { Directory } from './state.js';
import { DIRECTORY_PROTOCOL } from '@aerogrid/protocol/directory-messages';
import { acceptWatcher } from './watch.js';
import type { AddinHosting } from './addin-hosting.js';
import { ApiError } from '../console-api/errors.js';
import type { ConsoleApi, ConsoleApiStream } from '../console-api/routes.js';

export type AppAction = 'stop' | 'start' | 'delete' | 'rollback';

export interface DirectoryServerOptions {
  host: string;
  port: number;
  directory: Directory;
  access: Access;
  /** Commits the action to the GitOps repo; resolves to the commit (for a rollback: `release`, the release it went back to; asked: the one wanted). */
  act(action: AppAction, tenant: string, name: string, principal: Principal | null, release?: string): Promise<{ commit: string; changed: boolean; release?: number }>;
  /** With auth off: origins besides loopback whose pages may read (--allow-origin). */
  allowOrigins?: readonly string[];
  log?: (line: string) => void;
  /** How the console signs users in (GET /v1/console/config; default: as with auth off). */
  console?: ConsoleConfig;
  /** The built add-in at /addin/ (a cluster's directory, with its platform host). */
  addin?: AddinHosting;
  /** The web console's API (templates, drafts, validate, try, deploy, source, releases, restore, logs). */
  consoleApi?: ConsoleApi;
}

export interface DirectoryServer {
  /** `http://HOST:PORT` with the real port. */
  url: string;
  close(): Promise<void>;
}

const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
const CORS_METHODS = 'GET, HEAD, POST, DELETE, OPTIONS';

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: http.OutgoingHttpHeaders = {}) {
    super(message);
  }
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** The host name the client used (Host header), for sidecar URLs on a wildcard address. */
function requestHost(req: http.IncomingMessage): string | undefined {
  try {
    return req.headers.host ? new URL(`http://${req.headers.host}`).hostname : undefined;
  } catch {
    return undefined;
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

const APP_PATH = /^\/v1\/apps\/([^/]+)\/([^/]+)(?:\/(stop|start|rollback))?$/;

export async function startDirectoryServer(options: DirectoryServerOptions): Promise<DirectoryServer> {
  const { directory, access } = options;
  const webConsole = hostConsole(options.console ?? consoleConfig(undefined, undefined));

  const caller = async (req: http.IncomingMessage): Promise<Principal | null> => {
    try {
      return await access.fromRequest(req);
    } catch (error) {
      if (error instanceof AuthError) throw new HttpError(401, 'unauthorized', error.message, { 'www-authenticate': bearerChallenge(req) });
      throw error;
    }
  };

  const api = async (req: http.IncomingMessage, path: string): Promise<{ status: number; body: unknown } | ConsoleApiStream> => {
    const own = options.consoleApi?.route(path);
    if (own) {
      // HEAD wherever GET is (HTTP's rule; Node leaves out the body of a HEAD's answer).
      const methods = own.methods.includes('GET') ? [...own.methods, 'HEAD'] : own.methods;
      if (!methods.includes(req.method ?? '')) {
        req.resume();
        throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${methods.join(', ')}`, { allow: `${methods.join(', ')}, OPTIONS` });
      }
      const principal = await caller(req).catch((error: unknown) => { req.resume(); throw error; });
      return own.handle(req, principal);
    }
    req.resume();
    const host = requestHost(req);
    if (path === '/v1/apps') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on /v1/apps; use GET`, { allow: 'GET, HEAD, OPTIONS' });
      const principal = await caller(req);
      requireAccess(principal, 'viewer');
      return { status: 200, body: { tenant: principal?.tenant ?? null, apps: visibleTo(principal, directory.list()).map((a) => forClient(a, host)) } };
    }
    const match = APP_PATH.exec(path);
    if (!match) throw new HttpError(404, 'not_found', `no such path: ${path}; the directory serves /v1/apps`);
    let tenant: string, name: string;
    try {
      [tenant, name] = [decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)];
    } catch {
      throw new HttpError(400, 'bad_request', 'the path is not valid percent-encoding');
    }
    const action = match[3] as 'stop' | 'start' | 'rollback' | undefined;
    const allowed = action ? 'POST' : 'GET, HEAD, DELETE';
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (!allowed.split(', ').includes(method ?? '')) throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${allowed}`, { allow: `${allowed}, OPTIONS` });
    const principal = await caller(req);
    // Existence is checked after the tenant: another tenant's app and a missing one look the same.
    const missing = new HttpError(404, 'not_found', `no app '${tenant}/${name}'`);
    try {
      requireAccess(principal, method === 'GET' ? 'viewer' : 'developer', tenant);
    } catch (error) {
      if (error instanceof AccessDenied && error.code === 'not_found') throw missing;
      throw error;
    }
    const app = directory.get(tenant, name);
    if (!app) throw missing;
    if (method === 'GET') return { status: 200, body: forClient(app, host) };
    const release = new URL(req.url ?? '/', 'http://localhost').searchParams.get('release') ?? undefined;
    const result = await options.act(action ?? 'delete', tenant, name, principal, action === 'rollback' ? release : undefined);
    return { status: 202, body: { commit: result.commit, changed: result.changed, ...(result.release !== undefined ? { release: result.release } : {}) } };
  };

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refusal = refuseCrossSite(req, access.enabled, options.allowOrigins);
    if (refusal) return json(res, refusal.status, { error: { code: refusal.code, message: refusal.message } }, refusalHeaders(req));
    if (webConsole.handle(req, res, path)) return;
    if (options.addin?.handle(req, res, path)) return;
    if (path === '/healthz') return json(res, 200, { ok: true });
    if (path === '/readyz') return json(res, 200, { ready: true });
    if (!path.startsWith('/v1/')) return json(res, 404, { error: { code: 'not_found', message: `no such path: ${path}` } });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, preflightHeaders(req, access.enabled, CORS_METHODS));
      return res.end();
    }
    const cors = corsHeaders(req, access.enabled);
    const fail = (error: unknown) => {
      if (error instanceof HttpError) return json(res, error.status, { error: { code: error.code, message: error.message } }, { ...cors, ...error.headers });
      if (error instanceof ApiError) return json(res, error.status, { error: { code: error.code, message: error.message, ...(error.fix ? { fix: error.fix } : {}), ...error.where } }, { ...cors, ...(error.status === 413 ? { connection: 'close' } : {}) });
      if (error instanceof AccessDenied) return json(res, error.code === 'forbidden' ? 403 : 404, { error: { code: error.code, message: error.message } }, cors);
      if (error instanceof CliError) {
        // The library's errors, as the CLI's exit codes would tell them.
        const [status, code] = error.exitCode === ExitCode.notFound ? [404, 'not_found']
          : error.exitCode === ExitCode.failure ? [409, 'conflict']
          : error.exitCode === ExitCode.environment ? [502, 'gitops_unavailable']
          : [422, 'invalid'];
        return json(res, status, { error: { code, message: error.hint ? `${error.message} ${error.hint}` : error.message } }, cors);
      }
      options.log?.(`[directory] ${req.method} ${path} failed: ${(error as Error).stack ?? String(error)}`);
      return json(res, 500, { error: { code: 'internal', message: 'the directory failed to answer; see the output of aerogrid serve' } }, cors);
    };
    api(req, path).then(
      (answer) => {
        if (!('stream' in answer)) return json(res, answer.status, answer.body, cors);
        // A streamed answer writes its own headers; until it has, a failure is answered as any other.
        return answer.stream(res, cors).catch((error: unknown) => {
          if (!res.headersSent) return fail(error);
          options.log?.(`[directory] ${req.method} ${path} failed while streaming: ${(error as Error).message}`);
          res.destroy();
        });
      },
      fail,
    );
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(DIRECTORY_PROTOCOL) ? DIRECTORY_PROTOCOL : false),
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const reject = (statusLine: string, code: string, message: string) => socket.end(upgradeRefusal(statusLine, code, message));
    socket.on('error', () => undefined);
    const refusal = refuseCrossSite(req, access.enabled, options.allowOrigins);
    if (refusal) return reject('403 Forbidden', refusal.code, refusal.message);
    if (path !== '/v1/apps/watch') return reject('404 Not Found', 'not_found', `the directory's WebSocket is /v1/apps/watch, not ${path}`);
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').map((p) => p.trim()).includes(DIRECTORY_PROTOCOL)) {
      return reject('400 Bad Request', 'unsupported_protocol', `unsupported WebSocket subprotocol ${offered}; the directory speaks ${DIRECTORY_PROTOCOL}`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => acceptWatcher(ws, { directory, access, host: requestHost(req) }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new CliError(`Port ${options.port} on ${options.host} is in use, so the directory cannot listen there.`, { exitCode: ExitCode.environment, hint: 'Stop what uses it, or pick another port: --port 7071 (0 picks a free one).' })
        : error);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  server.on('error', (error) => options.log?.(`[directory] http server: ${error.message}`));
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://${hostForUrl(options.host)}:${port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
