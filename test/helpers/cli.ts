// Runs the `aerogrid` CLI as a user would (node bin/aerogrid, no terminal): the one way every
// suite runs it, to completion (runCli) or as a long-running process (startCli).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

export const bin = join(packageRoot, 'bin', 'aerogrid');

export interface CliOptions {
  /** Default: the package root. */
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * The environment of a run: this process's plus `env`. FORCE_COLOR is dropped, so the output is
 * what a user sees off a terminal (no colour: stdout and stderr are pipes).
 */
function environment(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const merged = { ...process.env, ...env };
  delete merged.FORCE_COLOR;
  return merged;
}

/** Runs `aerogrid <args>` to completion, with stdout and stderr apart; `input` is its standard input. */
export function runCli(args: string[], options: CliOptions & { input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? packageRoot, env: environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Starts `aerogrid <args>` and leaves it running, collecting stdout and stderr. With ownGroup,
 * the CLI leads a process group of its own, as a shell's foreground job does.
 */
export function startCli(args: string[], options: CliOptions & { ownGroup?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? packageRoot,
    env: environment(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownGroup ?? false,
  });
  let text = '';
  child.stdout!.on('data', (d) => { text += d; });
  child.stderr!.on('data', (d) => { text += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** The viewer URL a running `aerogrid dev` / `demo` printed. */
export function viewerUrl(output: string): string | null {
  return /Viewer: (http:\/\/\S+)/.exec(output)?.[1] ?? null;
}
