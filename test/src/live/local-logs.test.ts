// Reading the local runner's log files: --since, --container, a tail and --follow on a real file.
import { appendFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepLine, parseSince, readLogFile } from '../../../src/live/local-logs.js';
import { shortPrefix } from '../../../src/live/logs.js';
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
    const following = readLogFile(file, {}, (lines) => seen.push(...lines), { follow: true, signal: controller.signal });
    await waitFor('the first line', () => seen.length === 1);
    await appendFile(file, '2026-01-31T10:00:01.000Z [runtime] sec');
    await appendFile(file, 'ond\n');
    await waitFor('the appended line, whole', () => seen.length === 2);
    expect(seen[1]).toBe('2026-01-31T10:00:01.000Z [runtime] second');
    controller.abort();
    await following;
  });

  it('a tail gives the last N lines of one container, however large the file, then follows only new ones', async () => {
    const file = join(await tempDir('logs'), 'app.log');
    // More than one read's worth (1 MiB), so the tail spans reads.
    const lines = Array.from({ length: 30_000 }, (_, i) => `2026-01-31T10:00:00.000Z [${i % 3 === 0 ? 'runtime' : 'sidecar'}] line ${i} ${'x'.repeat(40)}`);
    await writeFile(file, lines.join('\n') + '\n');
    const all: string[] = [];
    await readLogFile(file, {}, (batch) => all.push(...batch), { tail: 5 });
    expect(all).toEqual(lines.slice(-5));
    const runtime: string[] = [];
    await readLogFile(file, { container: 'runtime' }, (batch) => runtime.push(...batch), { tail: 3 });
    expect(runtime).toEqual(lines.filter((l) => l.includes('[runtime]')).slice(-3));
    const none: string[] = [];
    await readLogFile(file, {}, (batch) => none.push(...batch), { tail: 0 });
    expect(none).toEqual([]);

    const seen: string[] = [];
    const controller = new AbortController();
    let caughtUp = false;
    const following = readLogFile(file, {}, (batch) => seen.push(...batch), { tail: 0, follow: true, signal: controller.signal, onCaughtUp: () => { caughtUp = true; } });
    await waitFor('the backlog read', () => caughtUp);
    await appendFile(file, '2026-01-31T10:00:02.000Z [runtime] new\n');
    await waitFor('the new line', () => seen.length === 1);
    // Rotated (the runner renames the file and starts another): the new file is read from its start.
    await rename(file, `${file}.1`);
    await writeFile(file, '2026-01-31T10:00:03.000Z [sidecar] after rotation\n');
    await waitFor('the line after rotation', () => seen.length === 2);
    expect(seen).toEqual(['2026-01-31T10:00:02.000Z [runtime] new', '2026-01-31T10:00:03.000Z [sidecar] after rotation']);
    // Aborted, it ends without waiting for its next poll.
    const at = Date.now();
    controller.abort();
    await following;
    expect(Date.now() - at).toBeLessThan(200);
  });

  it("kubectl's prefix becomes the container's, as the local runner writes it", () => {
    expect(shortPrefix('[pod/shop-connector-7d9f-x2/sidecar] ready')).toBe('[sidecar] ready');
    expect(shortPrefix('[pod/shop-connector-7d9f-x2/runtime] [info] hi [pod/a/b] c')).toBe('[runtime] [info] hi [pod/a/b] c');
    expect(shortPrefix('[runtime] already short')).toBe('[runtime] already short');
  });
});
