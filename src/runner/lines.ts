// A child's output split into lines, each at most MAX_LINE_BYTES: a longer line is cut there with
// a marker, and the rest of it is dropped as it arrives, never held. (readline keeps a whole line
// in memory: one 100 MB line from user code took serve from 103 MB to 445 MB.)
import type { Readable } from 'node:stream';

export const MAX_LINE_BYTES = 16 * 1024;

export function cutMarker(dropped: number): string {
  return ` … [line cut at ${MAX_LINE_BYTES / 1024} KiB: ${dropped} more bytes dropped]`;
}

/** Calls onLine for every line of `input` (without its newline), cut to `max` bytes. */
export function readLines(input: Readable, onLine: (line: string) => void, max = MAX_LINE_BYTES): void {
  let parts: Buffer[] = [];
  let held = 0;
  // Bytes of the current line dropped so far; -1 while it has not been cut.
  let dropped = -1;
  const flush = () => {
    const text = Buffer.concat(parts).toString('utf8');
    onLine(dropped >= 0 ? text + cutMarker(dropped) : text.replace(/\r$/, ''));
    parts = [];
    held = 0;
    dropped = -1;
  };
  input.on('data', (chunk: Buffer) => {
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline < 0 ? chunk.length : newline;
      const length = end - start;
      if (dropped < 0) {
        const take = Math.min(length, max - held);
        // A copy: a slice would keep the whole chunk alive.
        if (take > 0) { parts.push(Buffer.from(chunk.subarray(start, start + take))); held += take; }
        if (take < length) dropped = length - take;
      } else {
        dropped += length;
      }
      if (newline < 0) break;
      flush();
      start = newline + 1;
    }
  });
  input.on('end', () => { if (held > 0 || dropped >= 0) flush(); });
}
