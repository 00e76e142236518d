import { mkdtempSync, readdirSync, readFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

// The CLI itself runs through runCli in ./cli.ts.

export function tempDir(prefix = 'aerogrid-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every path under dir with its size and mtime: compare before and after to prove nothing was written. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const st = lstatSync(abs);
      out.push(`${relative(dir, abs)} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
      if (st.isDirectory() && !st.isSymbolicLink()) walk(abs);
    }
  };
  walk(dir);
  return out;
}

export function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}

// eslint-disable-next-line no-control-regex
export const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/;
