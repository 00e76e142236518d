/**
 * The status rules (docs/protocol.md §2 `status`): which state the app is in and why, as a pure
 * function of what the core knows; the crash window that says when the runtime "keeps crashing";
 * and the stale clock that says since when the grids show old data.
 */
import type { Logger } from './log.js';
import type { SourceState } from './pipeline/source.js';
import type { AppState } from '@aerogrid/protocol/client-messages';
import type { WriterRole } from './writer.js';

export interface RestoreInfo {
  state: 'pending' | 'restoring' | 'done';
  records_read: number;
  records_total: number;
  rows: number;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
}

export interface HealthFacts {
  app: string;
  group: string | null;
  changelogTopic: string;
  shuttingDown: boolean;
  /** Why consumption stopped at a bad record (policy `stop`). */
  halted: string | null;
  /** A batch that hung (batch deadline): while its record is looked for, and a while after. */
  hung: string | null;
  /** Why the pipeline is being re-run from the last commit. */
  recovering: string | null;
  /** While the changelog is being prepared (restore): its problem, if any, and the restore. */
  preparing: { problem: string | null; restore: RestoreInfo } | null;
  runtime: { connected: boolean; startupError: string | null; sessionsStarted: number; upForMs: number };
  crashes: { count: number; loop: boolean; windowMs: number; lastReason: string; settleMs: number };
  /** The Kafka source: absent while the app streams nothing (or is halted). */
  source: { state: SourceState | null } | null;
  role: WriterRole;
  /** A standby's changelog records not applied yet (null: not known). */
  standbyBehind: number | null;
}

export function appStatus(f: HealthFacts): { state: AppState; message: string | null } {
  const is = (state: AppState, message: string | null) => ({ state, message });
  if (f.shuttingDown) return is('stopping', 'shutting down');
  if (f.halted) return is('failing', f.halted);
  if (f.recovering) return is('starting', `re-running from the last committed batch (${f.recovering})`);
  if (f.preparing) {
    if (f.preparing.problem) return is('waiting', f.preparing.problem);
    const r = f.preparing.restore;
    if (r.state === 'restoring') return is('starting', `restoring the grids from '${f.changelogTopic}': ${r.records_read} of ${r.records_total} records read`);
    return is('starting', 'reading the changelog');
  }
  if (f.hung) return is('failing', f.hung);
  const c = f.crashes;
  const failing = `the runtime disconnected ${c.count} times in the last ${Math.round(c.windowMs / 1000)} s (last: ${c.lastReason})`;
  if (!f.runtime.connected) {
    if (f.runtime.startupError) return is('failing', f.runtime.startupError);
    if (c.loop) return is('failing', failing);
    return is('waiting', f.runtime.sessionsStarted === 0 ? 'waiting for the runtime to connect' : 'waiting for the runtime to reconnect');
  }
  if (f.source) {
    const s = f.source.state;
    switch (s?.phase) {
      case 'waiting-topic':
        return is('waiting', `waiting for topic '${s.topic}' to exist (create it or check the name)`);
      case 'unreachable':
        return is('waiting', s.message);
      case 'restarting':
        return is('starting', s.message);
      case 'stopped':
        return is('starting', 'starting the consumer');
      case 'running':
        break;
      default:
        return is('starting', `joining consumer group '${f.group}'`);
    }
  }
  if (c.loop && f.runtime.upForMs < c.settleMs) return is('failing', failing);
  // An app that streams no topic has nothing to write: the roles apply to consuming apps.
  if (f.source && f.role === 'taking-over') return is('starting', `taking over as the writer of '${f.app}': fencing the last writer, catching up with the changelog`);
  if (f.source && f.role === 'standby') {
    const behind = f.standbyBehind === null ? '' : ` (${f.standbyBehind} record${f.standbyBehind === 1 ? '' : 's'} behind)`;
    return is('standby', `standing by: another instance of '${f.app}' is the writer; the grids follow its changelog${behind}`);
  }
  return is('running', null);
}

/**
 * The status message for the open probes (`/readyz`): the same state, but a reason that could
 * carry a record's content (a bad record's value, a failed batch) is said in general terms; the
 * full message is in `/v1/status`, behind auth.
 */
export function probeMessage(f: Pick<HealthFacts, 'shuttingDown' | 'halted' | 'recovering'>, message: string | null): string | null {
  if (f.shuttingDown) return message;
  if (f.halted) return "stopped at a bad record (dead-letter policy 'stop'); see /v1/status";
  if (f.recovering) return 're-running from the last committed batch; see /v1/status';
  return message;
}

/** Unrequested runtime disconnects within a window: "keeps crashing" at `loopCount` of them. */
export class CrashWindow {
  private times: number[] = [];
  lastReason = '';

  constructor(
    readonly loopCount: number,
    readonly windowMs: number,
  ) {}

  record(reason: string): void {
    this.times.push(Date.now());
    this.lastReason = reason;
  }

  count(): number {
    const since = Date.now() - this.windowMs;
    this.times = this.times.filter((t) => t >= since);
    return this.times.length;
  }
}

/**
 * Since when the grids are stale: records wait and nothing was committed for `afterMs`; back to
 * current once commits flow again. A standby's grids are stale from when it became one.
 */
export class StaleClock {
  since: number | null = null;
  private lastProgressAt = Date.now();

  constructor(
    private readonly afterMs: number,
    private readonly logger: Logger,
  ) {}

  /** Whether `since` is a standby's start rather than the time records began to wait. */
  private standby = false;

  progressed(): void {
    this.lastProgressAt = Date.now();
  }

  update(waiting: boolean, standbySince: number | null): number | null {
    const now = Date.now();
    if (standbySince !== null) {
      this.standby = true;
      return (this.since = standbySince);
    }
    if (this.standby) {
      // A standby that became the writer: its grids followed the changelog up to now.
      this.standby = false;
      this.since = null;
      this.lastProgressAt = now;
    }
    if (!waiting) {
      this.lastProgressAt = now;
      this.since = null;
    } else if (this.since === null && now - this.lastProgressAt > this.afterMs) {
      this.since = this.lastProgressAt;
      this.logger.warn(`the grids are stale: records are waiting and nothing was committed since ${new Date(this.lastProgressAt).toISOString()}`);
    } else if (this.since !== null && this.lastProgressAt > this.since && now - this.lastProgressAt <= this.afterMs) {
      this.since = null;
      this.logger.info('the grids are making progress again');
    }
    return this.since;
  }
}
