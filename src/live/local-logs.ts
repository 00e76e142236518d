// Reading an app's log file written by the local runner: each line is
// "<ISO time> [sidecar|runtime|serve] text".
import type { LogContainer } from '@aerogrid/protocol/console-api';
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CliError, ExitCode } from '../errors.js';

export interface LogFilter {
  /** Only lines at or after this time. */
  since?: Date;
  container?: LogContainer;
}

/** '10m', '2h', '30s', '1d' or an ISO time, as the earliest time to show. */
export function parseSince(value: string, now = Date.now()): Date {
  const match = /^(\d+)(s|m|h|d)$/.exec(value);
  if (match) return new Date(now - Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd']);
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new CliError(`--since '${value}' is neither a duration nor a time.`, { exitCode: ExitCode.usage, hint: 'Use e.g. --since 10m, --since 2h or --since 2026-01-31T09:00:00Z.' });
  return time;
}

export function keepLine(line: string, filter: LogFilter): boolean {
  const space = line.indexOf(' ');
  if (filter.since) {
    const at = Date.parse(line.slice(0, space));
    if (!Number.isNaN(at) && at < filter.since.getTime()) return false;
  }
  if (filter.container && !line.slice(space + 1).startsWith(`[${filter.container}]`)) return false;
  return line.length > 0;
}

export interface LogFileReading {
  /** Only the last N matching lines of what the file holds now (then, with follow, every new one). */
  tail?: number;
  /** Keep reading lines as they are appended, until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Called once the lines the file held are written: what follows is new. */
  onCaughtUp?: () => void;
}

const FOLLOW_POLL_MS = 250;
/** Read at most this much at once: a 10 MiB file is scanned, never held whole. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** A sleep that ends early when `signal` aborts (a follow stops at once, with no timer left). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Writes the matching lines of the log file in batches (each batch: what one read found), then
 * with follow keeps writing new ones until `signal` aborts.
 */
export async function readLogFile(file: string, filter: LogFilter, write: (lines: string[]) => void, options: LogFileReading = {}): Promise<void> {
  let position = 0;
  let rest = '';
  const drain = async (take: (lines: string[]) => void) => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size < position) { position = 0; rest = ''; } // the file was recreated or rotated
    if (size === position) return;
    const handle = await open(file, 'r');
    try {
      while (position < size) {
        const buffer = Buffer.alloc(Math.min(READ_CHUNK_BYTES, size - position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const lines = (rest + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        take(lines.filter((line) => keepLine(line, filter)));
      }
    } finally {
      await handle.close();
    }
  };
  const tail = options.tail;
  if (tail === undefined) {
    await drain((lines) => { if (lines.length) write(lines); });
  } else {
    // Only the last `tail` lines are kept while the file is scanned.
    let kept: string[] = [];
    await drain((lines) => {
      for (const line of lines) kept.push(line);
      if (kept.length > 2 * tail + 1000) kept = kept.slice(-tail);
    });
    kept = tail === 0 ? [] : kept.slice(-tail);
    if (kept.length) write(kept);
  }
  options.onCaughtUp?.();
  while (options.follow && !options.signal?.aborted) {
    await pause(FOLLOW_POLL_MS, options.signal);
    if (options.signal?.aborted) break;
    await drain((lines) => { if (lines.length) write(lines); });
  }
}
