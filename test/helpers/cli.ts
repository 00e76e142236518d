import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

export interface CliProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `aerogrid <args>` as a user would (bin/aerogrid), collecting stdout and stderr. */
/** With ownGroup, the CLI leads a process group of its own, as a shell's foreground job does. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, options: { ownGroup?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [join(packageRoot, 'bin', 'aerogrid'), ...args], {
    env: { ...process.env, ...env, NO_COLOR: '1' },
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
