import { spawn, type ChildProcess } from 'node:child_process';
import { readLines } from './lines.js';

export interface ManagedProcessOptions {
  /** Shown before every line the process prints, e.g. "sidecar". */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where prefixed output goes (default: stderr). */
  log?: (line: string) => void;
  /** Called with each stdout line before it is logged; return true to swallow it. */
  onStdout?: (line: string) => boolean | void;
}

/** A child process whose output is prefixed line by line and that can be stopped gracefully. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private running = true;

  constructor(options: ManagedProcessOptions) {
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C at the terminal reaches only the supervisor, which then
      // stops its children in order (the sidecar first, so the runtime finishes its batch).
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.running = false;
        // What it started in its process group ends with it (a child that user code left behind).
        this.signalGroup('SIGKILL');
        resolve({ code, signal });
      });
      this.child.once('error', (error) => {
        this.running = false;
        log(`[${options.name}] could not start ${options.command}: ${error.message}`);
        resolve({ code: 127, signal: null });
      });
    });
    readLines(this.child.stdout!, (line) => {
      if (options.onStdout?.(line)) return;
      log(`[${options.name}] ${line}`);
    });
    readLines(this.child.stderr!, (line) => log(`[${options.name}] ${line}`));
  }

  /** A signal to the process's whole group (it leads its own: detached). */
  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try { process.kill(-this.child.pid, signal); } catch { /* the group is gone */ }
  }

  get alive(): boolean {
    return this.running;
  }

  /** SIGTERM, then SIGKILL after graceMs. Resolves when the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
