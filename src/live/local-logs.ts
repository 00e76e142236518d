// Reading an app's log file written by the local runner: each line is
// "<ISO time> [sidecar|runtime|serve] text".
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CliError, ExitCode } from '../errors.js';

export interface LogFilter {
  /** Only lines at or after this time. */
  since?: Date;
  container?: 'sidecar' | 'runtime';
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

/** Prints the matching lines, then with follow keeps printing new ones until `signal` aborts. */
export async function printLogFile(file: string, filter: LogFilter, write: (line: string) => void, options: { follow?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  if (!existsSync(file)) return;
  let position = 0;
  let rest = '';
  const drain = async () => {
    const size = statSync(file).size;
    if (size < position) position = 0; // the file was recreated
    if (size === position) return;
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(size - position);
      await handle.read(buffer, 0, buffer.length, position);
      position = size;
      const lines = (rest + buffer.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (keepLine(line, filter)) write(line);
    } finally {
      await handle.close();
    }
  };
  await drain();
  while (options.follow && !options.signal?.aborted) {
    await new Promise((r) => setTimeout(r, 250));
    if (existsSync(file)) await drain();
  }
}
