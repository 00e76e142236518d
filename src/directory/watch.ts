// The directory's WebSocket watch (`aerogrid.directory.v1`, docs/protocol.md "Directory"): the
// caller's apps once, then every change. With auth on, the first message must be the `auth` op.
import type { WebSocket } from 'ws';
import { allowedActions, AuthError, requireAccess, visibleTo, AccessDenied, type Access, type Principal } from './access.js';
import { forClient, type DirectoryApp } from './app.js';
import type { Directory, DirectoryEvent } from './state.js';

export const DIRECTORY_PROTOCOL = 'aerogrid.directory.v1';
const AUTH_TIMEOUT_MS = 10_000;
// setTimeout's limit; a token living longer is re-checked at that point.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WatchOptions {
  directory: Directory;
  access: Access;
  /** The host name the client used to reach the directory (for sidecar URLs on a wildcard address). */
  host?: string;
}

export function acceptWatcher(ws: WebSocket, options: WatchOptions): void {
  const { directory, access } = options;
  let principal: Principal | null = null;
  let watching = false;
  let unsubscribe: (() => void) | undefined;
  let expiry: NodeJS.Timeout | undefined;

  const send = (message: Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const fail = (code: string, message: string, close?: number) => {
    send({ type: 'error', code, message });
    if (close) ws.close(close, code);
  };
  const view = (app: DirectoryApp) => forClient(app, options.host);
  const visible = (tenant: string) => !principal || principal.tenant === tenant;

  const onEvent = (event: DirectoryEvent) => {
    if (event.type === 'removed') {
      if (visible(event.tenant)) send(event);
    } else if (visible(event.app.tenant)) {
      send({ type: event.type, app: view(event.app) });
    }
  };

  const startWatching = () => {
    watching = true;
    send({ type: 'apps', tenant: principal?.tenant ?? null, allowed: allowedActions(principal), apps: visibleTo(principal, directory.list()).map(view) });
    unsubscribe = directory.subscribe(onEvent);
  };

  const armExpiry = (p: Principal) => {
    if (expiry) clearTimeout(expiry);
    expiry = setTimeout(() => {
      if (Date.now() < p.expiresAt) return armExpiry(p);
      fail('token_expired', 'the token expired: send {"op":"auth","token":...} with a fresh one before it does', 4401);
    }, Math.min(Math.max(0, p.expiresAt - Date.now()), MAX_TIMER_MS));
  };

  const authenticate = async (token: unknown) => {
    if (!access.enabled) {
      send({ type: 'authenticated', subject: null, tenant: null, expires_at: null });
      if (!watching) startWatching();
      return;
    }
    let next: Principal;
    try {
      next = (await access.verify(typeof token === 'string' ? token : ''))!;
      requireAccess(next, 'viewer');
    } catch (error) {
      if (error instanceof AccessDenied) return fail(error.code, error.message, 4403);
      return fail('unauthorized', error instanceof AuthError ? error.message : String(error), 4401);
    }
    if (principal && (next.subject !== principal.subject || next.tenant !== principal.tenant)) {
      return fail('unauthorized', 'a renewed token must be for the same user and tenant; open a new connection to switch', 4401);
    }
    principal = next;
    armExpiry(next);
    send({ type: 'authenticated', subject: next.subject, tenant: next.tenant, expires_at: new Date(next.expiresAt).toISOString() });
    if (!watching) startWatching();
  };

  // Messages are handled one at a time, in order: a renewal never overtakes the first auth.
  let queue = Promise.resolve();
  const authTimer = access.enabled
    ? setTimeout(() => { if (!principal) fail('unauthorized', `no auth message within ${AUTH_TIMEOUT_MS / 1000} s: send {"op":"auth","token":"<access token>"} first`, 4401); }, AUTH_TIMEOUT_MS)
    : undefined;

  ws.on('message', (data, isBinary) => {
    queue = queue.then(async () => {
      let message: { op?: unknown; token?: unknown; id?: unknown };
      try {
        if (isBinary) throw new Error('binary');
        message = JSON.parse(data.toString()) as typeof message;
        if (typeof message !== 'object' || message === null || Array.isArray(message)) throw new Error('not an object');
      } catch {
        if (access.enabled && !principal) return fail('unauthorized', 'the first message must be {"op":"auth","token":"<access token>"}', 4401);
        return fail('bad_json', 'each message must be a JSON object with an "op"');
      }
      if (message.op === 'auth') return authenticate(message.token);
      if (access.enabled && !principal) return fail('unauthorized', 'the first message must be {"op":"auth","token":"<access token>"}', 4401);
      if (message.op === 'ping') return send({ type: 'pong', ...(message.id !== undefined ? { id: message.id } : {}) });
      fail('unknown_op', `unknown op ${JSON.stringify(message.op)}; ops: auth, ping`);
    });
  });
  ws.on('close', () => {
    if (authTimer) clearTimeout(authTimer);
    if (expiry) clearTimeout(expiry);
    unsubscribe?.();
  });
  ws.on('error', () => undefined);

  if (!access.enabled) startWatching();
}
