/** Reconnect delays: 250 ms doubling to 5 s, with ±20 % jitter so that many cells' sockets do not reconnect in lockstep. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 5_000;
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt));
  const jitter = 0.8 + 0.4 * (options.random ?? Math.random)();
  return Math.round(Math.min(max, base * jitter));
}
