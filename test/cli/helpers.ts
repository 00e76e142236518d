import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { packageRoot } from '../../src/paths.js';

export const bin = join(packageRoot, 'bin', 'aerogrid');
export const sdkPath = join(packageRoot, 'sdk', 'python');

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs `aerogrid <args>` as a user would (bin/aerogrid, no terminal), to completion. */
export function aerogrid(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? packageRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

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
