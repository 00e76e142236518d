// What a cell says instead of a number when its data cannot be trusted to be current: shown as
// #N/A with this message, never as a silently stale value.

/** "10:42" in the user's local time (the clock on the wall next to the spreadsheet). */
export function clockTime(iso: string | number | Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/** Where one app's feed stands, as the connection sees it. */
export type FeedPhase =
  | { phase: 'resolving' }
  | { phase: 'connecting'; attempt: number }
  | { phase: 'live' }
  | { phase: 'stale'; since: string }
  | { phase: 'reconnecting'; lastDataAt: number | null; retryInMs: number; reason: string }
  | { phase: 'stopped'; lastDataAt: number | null }
  | { phase: 'failed'; message: string; retryInMs: number | null };

/** The #N/A message for a phase, or null when the cell may show its data. */
export function cellMessage(app: string, state: FeedPhase): string | null {
  switch (state.phase) {
    case 'live':
      return null;
    case 'resolving':
      return `looking up app '${app}'`;
    case 'connecting':
      return state.attempt > 0 ? `connecting to '${app}' (attempt ${state.attempt + 1})` : `connecting to '${app}'`;
    case 'stale':
      return `'${app}' is stale since ${clockTime(state.since)}: records are waiting but nothing was committed`;
    case 'reconnecting':
      return `${state.reason}; reconnecting${state.lastDataAt ? `, data stale since ${clockTime(state.lastDataAt)}` : ''}`;
    case 'stopped':
      return `app '${app}' stopped${state.lastDataAt ? `, data stale since ${clockTime(state.lastDataAt)}` : ''}`;
    case 'failed':
      return state.message;
  }
}
