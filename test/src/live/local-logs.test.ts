// Reading the local runner's log files: --since, --container and --follow on a real file.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepLine, parseSince, printLogFile } from '../../../src/live/local-logs.js';
import { waitFor } from '../../helpers/wait.js';
import { tempDir } from '../../helpers/gitops.js';

describe('local runner logs', () => {
  it('--since takes durations and times, and rejects anything else with a fix', () => {
    const now = Date.parse('2026-01-31T12:00:00Z');
    expect(parseSince('10m', now).toISOString()).toBe('2026-01-31T11:50:00.000Z');
    expect(parseSince('1d', now).toISOString()).toBe('2026-01-30T12:00:00.000Z');
    expect(parseSince('2026-01-31T09:00:00Z').toISOString()).toBe('2026-01-31T09:00:00.000Z');
    expect(() => parseSince('yesterday')).toThrow(/neither a duration nor a time/);
  });

  it('keeps the lines of one container at or after a time', () => {
    const lines = ['2026-01-31T09:00:00.000Z [sidecar] old', '2026-01-31T10:00:00.000Z [runtime] new', '2026-01-31T10:00:01.000Z [sidecar] newer'];
    const since = new Date('2026-01-31T09:30:00Z');
    expect(lines.filter((l) => keepLine(l, { since }))).toEqual(lines.slice(1));
    expect(lines.filter((l) => keepLine(l, { container: 'sidecar' }))).toEqual([lines[0], lines[2]]);
  });

  it('--follow prints lines appended later, and stops when asked', async () => {
    const file = join(await tempDir('logs'), 'app.log');
    await writeFile(file, '2026-01-31T10:00:00.000Z [sidecar] first\n');
    const seen: string[] = [];
    const controller = new AbortController();
    const following = printLogFile(file, {}, (line) => seen.push(line), { follow: true, signal: controller.signal });
    await waitFor('the first line', () => seen.length === 1);
    await appendFile(file, '2026-01-31T10:00:01.000Z [runtime] sec');
    await appendFile(file, 'ond\n');
    await waitFor('the appended line, whole', () => seen.length === 2);
    expect(seen[1]).toBe('2026-01-31T10:00:01.000Z [runtime] second');
    controller.abort();
    await following;
  });
});
