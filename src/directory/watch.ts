// The directory's WebSocket watch (`aerogrid.directory.v1`, docs/protocol.md "Directory"): the
// caller's apps once, then every change. With auth on, the connection follows the sidecar's rules
// (ConnectionAuth: auth first, ordered renewals, expiry; docs/protocol.md §6).
import type { RawData, WebSocket } from 'ws';
import { CLOSE_FORBIDDEN, ConnectionAuth, parseObject, type Refusal } from '@aerogrid/sidecar/auth';
import { allowedActions, requireAccess, visibleTo, AccessDenied, type Access, type Principal } from './access.js';
import { forClient, type DirectoryApp } from './app.js';
import type { Directory, DirectoryEvent } from './state.js';
import { CLOSE_TOO_FAR_BEHIND, tooFarBehindReason } from '@aerogrid/protocol/client-messages';

const KEEPALIVE_MS = 30_000;
const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;
/** A watcher closed for its backlog is cut off at the latest this long after its close frame was queued. */
const CLOSE_GRACE_MS = 5_000;

export interface WatchOptions {
  directory: Directory;
  access: Access;
  /** The host name the client used to reach the directory (for sidecar URLs on a wildcard address). */
  host?: string;
  /** Ping each watcher this often and drop one that did not answer the last ping (default 30 s). */
  keepaliveMs?: number;
  /** A watcher this many bytes behind on reading is dropped, so memory stays bounded (default 64 MiB). */
  maxBacklogBytes?: number;
}

/** The directory is readable by every viewer of the caller's own tenant. */
function viewerAccess(principal: Principal): Refusal | null {
  try {
    requireAccess(principal, 'viewer');
    return null;
  } catch (error) {
    if (error instanceof AccessDenied) return { code: error.code, message: error.message, closeCode: CLOSE_FORBIDDEN };
    throw error;
  }
}

export function acceptWatcher(ws: WebSocket, options: WatchOptions): void {
  const { directory, access } = options;
  let auth: ConnectionAuth | null = null;
  let unsubscribe: (() => void) | undefined;
  const principal = () => auth?.principal ?? null;

  const send = (message: Record<string, unknown>) => {
    if (ws.readyState !== ws.OPEN) return;
    // Like the sidecar: a watcher that does not read must not grow our memory without limit.
    const max = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
    if (ws.bufferedAmount > max) return tooFarBehind(max);
    ws.send(JSON.stringify(message));
  };
  /** Closed with 4008 and the reason (docs/protocol.md §5); its queue goes with the close frame, or after the grace. */
  const tooFarBehind = (max: number) => {
    const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
    const size = max >= 1024 * 1024 ? `${Math.round(max / 1024 / 1024)} MiB` : `${Math.round(max / 1024)} KiB`;
    ws.close(CLOSE_TOO_FAR_BEHIND, tooFarBehindReason(`over ${size} unsent to this watcher`, 'read faster'));
  };
  const fail = (code: string, message: string) => send({ type: 'error', code, message });
  const view = (app: DirectoryApp) => forClient(app, options.host);
  const visible = (tenant: string) => !principal() || principal()!.tenant === tenant;
  const authenticated = (p: Principal | null) =>
    send({ type: 'authenticated', subject: p?.subject ?? null, tenant: p?.tenant ?? null, expires_at: p ? new Date(p.expiresAt).toISOString() : null });

  const onEvent = (event: DirectoryEvent) => {
    if (event.type === 'removed') {
      if (visible(event.tenant)) send(event);
    } else if (visible(event.app.tenant)) {
      send({ type: event.type, app: view(event.app) });
    }
  };

  const startWatching = () => {
    const p = principal();
    send({ type: 'apps', tenant: p?.tenant ?? null, allowed: allowedActions(p), apps: visibleTo(p, directory.list()).map(view) });
    unsubscribe = directory.subscribe(onEvent);
  };

  const onMessage = (data: RawData, isBinary: boolean) => {
    const message = isBinary ? null : parseObject(data);
    if (!message) return fail('bad_json', 'each message must be a JSON object with an "op"');
    if (message.op === 'auth') {
      if (!auth) return authenticated(null);
      // A missing token is refused like a bad one (unauthorized, 4401).
      return auth.renew(typeof message.token === 'string' ? message.token : '', authenticated);
    }
    if (message.op === 'ping') return send({ type: 'pong', ...(message.id !== undefined ? { id: message.id } : {}) });
    fail('unknown_op', `unknown op ${JSON.stringify(message.op)}; ops: auth, ping`);
  };
  // Keepalive: a watcher whose network went away without a close is noticed and dropped.
  let alive = true;
  ws.on('pong', () => (alive = true));
  const keepalive = setInterval(() => {
    if (!alive) return void ws.terminate();
    alive = false;
    ws.ping();
  }, options.keepaliveMs ?? KEEPALIVE_MS);
  keepalive.unref();
  ws.on('close', () => {
    clearInterval(keepalive);
    unsubscribe?.();
  });
  ws.on('error', () => undefined);

  if (!access.enabled) {
    ws.on('message', onMessage);
    return startWatching();
  }
  const connection = new ConnectionAuth(ws, {
    verify: async (token) => (await access.verify(token))!,
    access: viewerAccess,
    refuse: ({ code, message, closeCode }) => {
      send({ type: 'error', code, message });
      ws.close(closeCode, code);
    },
  });
  auth = connection;
  // Only after the token is accepted: a socket closed meanwhile never subscribes.
  connection.awaitFirst((queued) => {
    authenticated(connection.principal);
    startWatching();
    ws.on('message', onMessage);
    for (const [data, isBinary] of queued) onMessage(data, isBinary);
  });
}
