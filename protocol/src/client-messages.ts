// The client WebSocket protocol `aerogrid.v1` (docs/protocol.md §2): every message a client and
// the sidecar exchange. The sidecar's fan-out writes these and the clients (the add-in, the test
// client) read them; the authentication messages (§6) are shared with the directory's watch.

export const CLIENT_PROTOCOL = 'aerogrid.v1';

/** A grid row: column → value, as JSON carries it. */
export type Row = Record<string, unknown>;

// ---- client → server ----

export interface SubscribeOp {
  op: 'subscribe';
  /** Chosen by the client, unique per connection. */
  id: string;
  grid: string;
  /**
   * Resume: the last `seq` the client holds for this grid (from an earlier connection). The
   * answer is `resumed` with only the missed changes, or a `snapshot` when they are not known.
   */
  seq?: number;
}

export interface UnsubscribeOp {
  op: 'unsubscribe';
  id: string;
}

export interface PingOp {
  op: 'ping';
  id?: string | number;
}

export interface AuthOp {
  op: 'auth';
  /** An OIDC access token: the first message when auth is on, later a renewal. */
  token: string;
}

export type ClientMessage = SubscribeOp | UnsubscribeOp | PingOp | AuthOp;

// ---- server → client ----

/** `standby`: another instance of the app is its writer; this one follows its changelog. */
export type AppState = 'starting' | 'waiting' | 'running' | 'standby' | 'failing' | 'stopping';

/** Progress of reading the changelog into the grids (while it lasts). */
export interface RestoreProgress {
  /** Changelog records read so far. */
  records_read: number;
  /** Records to read at most (the changelog's size when the restore began). */
  records_total: number;
}

/** The app's state as clients see it: `hello.status`, and the `status` message without `type` and `grids`. */
export interface AppStatus {
  state: AppState;
  message: string | null;
  /**
   * When the grids stopped making progress while records are waiting (ISO 8601), or null while
   * they keep up. Clients show the grid as stale since then.
   */
  stale_since: string | null;
  /** Present while the grids are being restored from the changelog. */
  restore?: RestoreProgress;
}

export interface GridInfo {
  name: string;
  columns: string[];
  rows: number;
}

export interface HelloMessage {
  type: 'hello';
  protocol: typeof CLIENT_PROTOCOL;
  app: string;
  tenant: string;
  grids: GridInfo[];
  status: AppStatus;
}

/** The answer to `auth` (§6); with auth off `subject` and `expires_at` are null (and, from the directory, `tenant`). */
export interface AuthenticatedMessage {
  type: 'authenticated';
  subject: string | null;
  tenant: string | null;
  expires_at: string | null;
}

/** The whole grid, once per subscription. */
export interface SnapshotMessage {
  type: 'snapshot';
  id: string;
  grid: string;
  columns: string[];
  seq: number;
  rows: Record<string, Row>;
}

/** What changed since the subscription's previous message (conflated: latest values only). */
export interface DeltaMessage {
  type: 'delta';
  id: string;
  grid: string;
  /** The seq of the subscription's previous message: a client holding another one missed something and subscribes again. */
  from_seq: number;
  seq: number;
  upserts: Record<string, Row>;
  deletes: string[];
}

/** The answer to a `subscribe` with `seq` that the server can serve: what changed since `from_seq`. */
export interface ResumedMessage {
  type: 'resumed';
  id: string;
  grid: string;
  columns: string[];
  /** The `seq` the client sent. */
  from_seq: number;
  seq: number;
  upserts: Record<string, Row>;
  deletes: string[];
}

export interface StatusMessage extends AppStatus {
  type: 'status';
  /** The grid list as in `hello`, so that a client sees grids declared after it connected. */
  grids: GridInfo[];
}

/**
 * Close codes of the sidecar's WebSocket besides the auth ones (§6), each with a reason text
 * (docs/protocol.md §2 "Keepalive and drops"): 4008 the client fell too far behind on reading
 * (its own backlog, or the sidecar's budget for all clients together: the furthest behind go
 * first; the directory's watch closes a watcher over its backlog the same way, §5); 1013 (try
 * again later) the sidecar or the client's address has too many connections.
 */
export const CLOSE_TOO_FAR_BEHIND = 4008;
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** A 4008 close's reason begins with this, then says which limit and what to do about it. */
export const TOO_FAR_BEHIND_REASON = 'too far behind';

/** A WebSocket close reason holds at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** `text` cut to what a close reason can hold, at a character boundary. */
export function clipCloseReason(text: string): string {
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes > MAX_CLOSE_REASON_BYTES) break;
    out += ch;
  }
  return out;
}

/**
 * The reason of a 4008 close: `too far behind: <why>; <advice>`, clipped to a close reason's size.
 * The sidecar's clients are told to read faster or subscribe to fewer grids.
 */
export function tooFarBehindReason(why: string, advice = 'read faster or subscribe to fewer grids'): string {
  return clipCloseReason(`${TOO_FAR_BEHIND_REASON}: ${why}; ${advice}`);
}

export type ErrorCode =
  | 'bad_json'
  | 'bad_request'
  | 'unknown_op'
  | 'unknown_grid'
  | 'duplicate_id'
  | 'unknown_id'
  | 'too_many_subscriptions'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'token_expired';

/** A request could not be served; the connection stays open unless the code is about auth. */
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The request's `id`, when it had one. */
  id?: string | number;
}

export interface PongMessage {
  type: 'pong';
  id?: string | number;
}

export interface UnsubscribedMessage {
  type: 'unsubscribed';
  id: string;
}

export type ServerMessage =
  | HelloMessage
  | AuthenticatedMessage
  | SnapshotMessage
  | DeltaMessage
  | ResumedMessage
  | StatusMessage
  | ErrorMessage
  | PongMessage
  | UnsubscribedMessage;
