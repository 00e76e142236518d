/**
 * Who may call a server from a browser (docs/protocol.md §6), one rule for the sidecar and the
 * directory.
 *
 * Auth on: tokens travel in headers or the first WebSocket message, never cookies, so any origin
 * may call (`Access-Control-Allow-Origin: *`); the token is the protection.
 *
 * Auth off (loopback only): nothing stops a web page the developer visits from calling
 * 127.0.0.1, and DNS rebinding defeats loopback binding. So:
 * - the Host header must name loopback (127.0.0.1, [::1], localhost, any port): a rebound name
 *   is refused;
 * - reads (GET, HEAD, WebSocket upgrades) may come from the server's own page or from a loopback
 *   origin (http(s)://localhost|127.0.0.1|[::1]:any port: the Excel add-in served locally,
 *   `aerogrid dev`); any other site is refused;
 *   an origin named with --allow-origin (AEROGRID_ALLOW_ORIGINS: a hosted add-in such as
 *   https://addins.example.com) may read too;
 * - actions (POST, DELETE, ...) only from the server's own origin, or from no browser at all
 *   (no Origin header: the CLI, curl).
 * A refusal carries the origin's CORS header, so the refused page can read why (and the fix).
 */
import type http from 'node:http';

export interface Refusal {
  status: 403;
  code: 'forbidden_host' | 'forbidden_origin';
  message: string;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', '[::1]', 'localhost']);
const READ_METHODS = new Set(['GET', 'HEAD']);
const ALLOW_HEADERS = 'Authorization, Content-Type';
const EXPOSE_HEADERS = 'WWW-Authenticate';

function hostnameOf(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

/**
 * The origins --allow-origin (comma-separated, repeatable) names, normalised (`https://host[:port]`);
 * throws naming the first that is not a bare http(s) origin.
 */
export function parseAllowedOrigins(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    let url: URL | null = null;
    try { url = new URL(value); } catch { url = null; }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin === 'null' || value.replace(/\/$/, '') !== url.origin) {
      throw new Error(`--allow-origin ${JSON.stringify(value)} is not an origin: give the scheme, host and port only, e.g. https://addins.example.com`);
    }
    if (!out.includes(url.origin)) out.push(url.origin);
  }
  return out;
}

/** An `http(s)://` origin on a loopback name, any port. */
export function isLoopbackOrigin(origin: string): boolean {
  if (!/^https?:\/\//i.test(origin)) return false;
  const host = hostnameOf(origin);
  return host !== null && LOOPBACK_NAMES.has(host);
}

/** The origin a browser sends for this server's own pages (`http://<Host>`), normalised. */
function ownOrigin(req: http.IncomingMessage): string | null {
  try {
    return req.headers.host ? new URL(`http://${req.headers.host}`).origin : null;
  } catch {
    return null;
  }
}

function sameOrigin(req: http.IncomingMessage, origin: string): boolean {
  try {
    return new URL(origin).origin === ownOrigin(req);
  } catch {
    return false;
  }
}

/** The method a request stands for: a CORS preflight stands for the one it asks about. */
function intendedMethod(req: http.IncomingMessage): string {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'OPTIONS') return method;
  const asked = req.headers['access-control-request-method'];
  return typeof asked === 'string' ? asked.toUpperCase() : 'GET';
}

/**
 * null: the request (HTTP or a WebSocket upgrade) may go on; otherwise answer it with the refusal.
 * Auth on: always null.
 */
export function refuseCrossSite(req: http.IncomingMessage, authOn: boolean, allowedOrigins: readonly string[] = []): Refusal | null {
  if (authOn) return null;
  const host = req.headers.host;
  const hostname = host ? hostnameOf(`http://${host}`) : null;
  if (hostname === null || !LOOPBACK_NAMES.has(hostname)) {
    return {
      status: 403,
      code: 'forbidden_host',
      message: `with auth off this server answers only to a loopback name (127.0.0.1, [::1] or localhost), not ${host ? `'${host}'` : 'a request without a Host header'}; turn auth on (--oidc-issuer, --oidc-audience) to serve it under other names`,
    };
  }
  const origin = req.headers.origin;
  if (origin === undefined || sameOrigin(req, origin)) return null;
  const read = READ_METHODS.has(intendedMethod(req));
  if (read && (isLoopbackOrigin(origin) || allowedOrigins.includes(origin))) return null;
  return {
    status: 403,
    code: 'forbidden_origin',
    message: read
      ? `with auth off only pages served from this machine (http(s)://localhost, 127.0.0.1 or [::1]) may read from this server, not ${origin}; fix: start it with --allow-origin ${origin} (aerogrid dev or aerogrid serve), or turn auth on`
      : `with auth off only this server's own pages may ${intendedMethod(req)} here, not ${origin}; use the CLI, or turn auth on to act from other sites`,
  };
}

/** Headers of a refusal: the refused page may read the reason (it holds no data). */
export function refusalHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const origin = req.headers.origin;
  return origin === undefined ? {} : { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/** CORS headers of an answer that refuseCrossSite let through. */
export function corsHeaders(req: http.IncomingMessage, authOn: boolean): http.OutgoingHttpHeaders {
  if (authOn) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSE_HEADERS };
  const origin = req.headers.origin;
  return origin === undefined
    ? { vary: 'Origin' }
    : { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'Origin' };
}

/**
 * The answer to a CORS preflight. `methods`: what the server allows with auth on; with auth off a
 * preflight only ever comes from another (loopback) origin, which may only read.
 */
export function preflightHeaders(req: http.IncomingMessage, authOn: boolean, methods: string): http.OutgoingHttpHeaders {
  return {
    ...corsHeaders(req, authOn),
    'access-control-allow-methods': authOn ? methods : 'GET, HEAD, OPTIONS',
    'access-control-allow-headers': ALLOW_HEADERS,
    'access-control-max-age': '600',
  };
}

/** The `WWW-Authenticate` of a 401: the error only when a token was sent (RFC 6750 §3). */
export function bearerChallenge(req: http.IncomingMessage): string {
  return req.headers.authorization ? 'Bearer realm="aerogrid", error="invalid_token"' : 'Bearer realm="aerogrid"';
}

/** A refusal as the raw HTTP answer to a WebSocket upgrade (the socket is not an HTTP response). */
export function upgradeRefusal(statusLine: string, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${statusLine}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
