// Output lines of a real child process as the runner reads them (src/runner/lines.ts): any chunking,
// CRLF, a missing last newline, and a long line cut with its marker while the next arrives whole.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cutMarker, MAX_LINE_BYTES, readLines } from '../../../src/runner/lines.js';

function linesOf(script: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    readLines(child.stdout!, (line) => lines.push(line));
    child.once('error', reject);
    child.stdout!.once('close', () => resolve(lines));
  });
}

describe('readLines', () => {
  it('splits lines written in odd pieces, drops CR before LF, and keeps a last line without a newline', async () => {
    const lines = await linesOf(`import sys, time
for piece in ['one\\ntw', 'o\\r\\nthr', 'ee\\n\\nfour']:
    sys.stdout.write(piece); sys.stdout.flush(); time.sleep(0.05)`);
    expect(lines).toEqual(['one', 'two', 'three', '', 'four']);
  });

  it('cuts a 5 MB line at 16 KiB with a marker counting what it dropped, and reads the next line whole', async () => {
    const lines = await linesOf(`import sys
sys.stdout.write('x' * 5_000_000 + '\\nnext line\\n')`);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('x'.repeat(MAX_LINE_BYTES) + cutMarker(5_000_000 - MAX_LINE_BYTES));
    expect(lines[1]).toBe('next line');
  });

  it('holds a line of exactly 16 KiB whole', async () => {
    const lines = await linesOf(`import sys
sys.stdout.write('y' * ${MAX_LINE_BYTES} + '\\n')`);
    expect(lines).toEqual(['y'.repeat(MAX_LINE_BYTES)]);
  });
});
