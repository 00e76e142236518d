/**
 * The authentication of one WebSocket connection, shared by the sidecar (`aerogrid.v1`) and the
 * directory watch (`aerogrid.directory.v1`), docs/protocol.md §6:
 *
 * - auth first: the first message must be `{"op":"auth","token"}` within the timeout (the clock
 *   stops once the token is being checked: a slow JWKS fetch is not the client's fault); messages
 *   sent meanwhile wait in a bounded queue and are handed over once the token is accepted;
 * - renewals are checked one at a time, in order, so an older token's answer never wins; a renewal
 *   for another subject or tenant is `unauthorized` whatever its access would be;
 * - the token's expiry (with the verifier's clock tolerance) closes the connection with
 *   `token_expired`, unless a renewal is still being checked: then its outcome decides.
 */
import type { RawData, WebSocket } from 'ws';
import type { Principal } from './index.js';

/** Tolerated clock difference between the issuer and us (token checks and connection expiry). */
export const CLOCK_TOLERANCE_S = 5;

/** Close codes (docs/protocol.md §6). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_NOT_FOUND = 4404;

/** Why a connection is closed: the `error` message's code and text, and the close code. */
export interface Refusal {
  code: 'unauthorized' | 'forbidden' | 'not_found' | 'token_expired';
  message: string;
  closeCode: number;
}

export interface ConnectionAuthOptions {
  /** Checks a token's signature and claims; throws (an AuthError's message is shown) when it is bad. */
  verify(token: string): Promise<Principal>;
  /** May this principal use the connection? null: yes. */
  access(principal: Principal): Refusal | null;
  /** Sends the refusal as an `error` and closes the connection with its code. */
  refuse(refusal: Refusal): void;
  /** How long a new connection has to send its `auth` message (default 10 s). */
  timeoutMs?: number;
}

/** Messages a client may send while its first token is being checked. */
export const MAX_QUEUED_BEFORE_AUTH = 100;
/** setTimeout's longest delay; a token living longer is re-checked at that point. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_TIMEOUT_MS = 10_000;

const unauthorized = (message: string): Refusal => ({ code: 'unauthorized', message, closeCode: CLOSE_UNAUTHORIZED });

export class ConnectionAuth {
  /** Who the accepted token says the client is (null until then). */
  principal: Principal | null = null;
  private stopped = false;
  private expiry: NodeJS.Timeout | undefined;
  private renewals: Promise<void> = Promise.resolve();
  private pendingRenewals = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: ConnectionAuthOptions,
  ) {
    ws.once('close', () => this.stop());
    // A protocol error (e.g. an oversized frame) is followed by a close; without a listener it would crash the process.
    ws.on('error', () => this.stop());
  }

  /**
   * Waits for the first `auth`; once its token is accepted, `onAccepted` gets the messages that
   * came meanwhile (the caller installs its own message handler there). A refusal closes.
   */
  awaitFirst(onAccepted: (queued: [RawData, boolean][]) => void): void {
    const { ws } = this;
    const queued: [RawData, boolean][] = [];
    let verifying = false;
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(
      () => this.refuse(unauthorized(`no auth message within ${Math.round(timeoutMs / 1000)} s: send {"op":"auth","token":"<access token>"} first`)),
      timeoutMs,
    );
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
    };
    const onMessage = (data: RawData, isBinary: boolean) => {
      if (verifying) {
        if (queued.length < MAX_QUEUED_BEFORE_AUTH) return void queued.push([data, isBinary]);
        done();
        return this.refuse(unauthorized('too many messages before authentication'));
      }
      const m = isBinary ? null : parseObject(data);
      if (!m || m.op !== 'auth' || typeof m.token !== 'string') {
        done();
        return this.refuse(unauthorized('authentication required: the first message must be {"op":"auth","token":"<access token>"}'));
      }
      verifying = true;
      clearTimeout(timer);
      void this.admit(m.token).then((outcome) => {
        done();
        if (this.stopped || ws.readyState !== ws.OPEN) return;
        if (!outcome.ok) return this.refuse(outcome.refusal);
        this.principal = outcome.principal;
        onAccepted(queued);
        this.armExpiry();
      });
    };
    ws.on('message', onMessage);
  }

  /** A renewal, checked after those before it; `onRenewed` runs when it is accepted, a refusal closes. */
  renew(token: string, onRenewed: (principal: Principal) => void): void {
    this.pendingRenewals += 1;
    this.renewals = this.renewals.then(async () => {
      try {
        if (this.stopped) return;
        const outcome = await this.admit(token, this.principal);
        if (this.stopped) return;
        if (!outcome.ok) return this.refuse(outcome.refusal);
        this.principal = outcome.principal;
        onRenewed(outcome.principal);
      } finally {
        this.pendingRenewals -= 1;
        this.armExpiry();
      }
    });
  }

  /** The connection is gone: no more timers, no more answers. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.expiry);
  }

  private refuse(refusal: Refusal): void {
    if (this.stopped) return;
    this.stop();
    this.options.refuse(refusal);
  }

  /** Verify, then (renewal) the same subject and tenant, then access: in that order. */
  private async admit(token: string, current: Principal | null = null): Promise<{ ok: true; principal: Principal } | { ok: false; refusal: Refusal }> {
    let principal: Principal;
    try {
      principal = await this.options.verify(token);
    } catch (err) {
      return { ok: false, refusal: unauthorized(err instanceof Error && err.name === 'AuthError' ? err.message : 'the token could not be checked') };
    }
    if (current && (principal.subject !== current.subject || principal.tenant !== current.tenant)) {
      return { ok: false, refusal: unauthorized('a renewal token must be for the same user and tenant; reconnect to switch users') };
    }
    const refusal = this.options.access(principal);
    return refusal ? { ok: false, refusal } : { ok: true, principal };
  }

  private armExpiry(): void {
    clearTimeout(this.expiry);
    const p = this.principal;
    if (this.stopped || !p) return;
    const deadline = p.expiresAt + CLOCK_TOLERANCE_S * 1000;
    this.expiry = setTimeout(() => {
      // A renewal being checked decides (its end re-arms); a long-lived token is re-checked later.
      if (this.pendingRenewals > 0) return;
      if (Date.now() < deadline) return this.armExpiry();
      this.refuse({ code: 'token_expired', message: 'the token expired: renew it with {"op":"auth","token":"<new access token>"} before it expires', closeCode: CLOSE_UNAUTHORIZED });
    }, Math.min(Math.max(deadline - Date.now(), 0), MAX_TIMER_MS));
    this.expiry.unref();
  }
}

/** A text frame's string (ws hands out a Buffer, an ArrayBuffer or fragments). */
export function frameText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** The frame as a JSON object, or null. */
export function parseObject(data: RawData): Record<string, unknown> | null {
  try {
    const msg: unknown = JSON.parse(frameText(data));
    return typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
