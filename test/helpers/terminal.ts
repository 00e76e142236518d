// Runs the `aerogrid` CLI on a real pseudo-terminal (test/src/cli/pty_driver.py, Python's pty
// module), as a person at a terminal: it waits for each expected text and types the answer.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { bin } from './cli.js';

export interface Step { expect: string; send: string }
export interface PtyResult { exitCode: number; output: string; text: string; error: string | null }

const driver = join(packageRoot, 'test', 'src', 'cli', 'pty_driver.py');

/** Runs aerogrid on a pseudo-terminal (CI, NO_COLOR and FORCE_COLOR unset unless given). */
export function atTerminal(args: string[], steps: Step[], options: { cwd?: string; env?: Record<string, string> } = {}): PtyResult {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), TERM: 'xterm-256color', ...options.env };
  for (const name of ['CI', 'NO_COLOR', 'FORCE_COLOR']) if (!options.env || !(name in options.env)) delete env[name];
  const spec = { argv: [process.execPath, bin, ...args], cwd: options.cwd ?? packageRoot, env, steps, timeout: 30 };
  const r = spawnSync('python3', [driver, JSON.stringify(spec)], { encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) throw new Error(`pty driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}
