// What `aerogrid serve --run local` is running, shared with status, logs and deploy --wait through
// one JSON file in $AEROGRID_HOME (written whole and renamed, so readers never see half of it).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aerogridHome } from '../paths.js';

export type LocalAppPhase = 'starting' | 'running' | 'stopped' | 'failed';

export interface LocalAppState {
  tenant: string;
  app: string;
  /** The GitOps commit whose version of the app's folder this is. */
  commit: string;
  replicas: number;
  phase: LocalAppPhase;
  url?: string;
  pids?: { sidecar?: number; runtime?: number };
  message?: string;
  logFile: string;
  updatedAt: string;
}

export interface LocalRunnerState {
  pid: number;
  repo: string;
  broker: string;
  /** The GitOps commit last reconciled. */
  reconciled?: string;
  updatedAt: string;
  apps: Record<string, LocalAppState>;
}

export function runnerDir(): string {
  return join(aerogridHome(), 'serve');
}

export function stateFile(): string {
  return join(runnerDir(), 'state.json');
}

export function logFileOf(tenant: string, app: string): string {
  return join(runnerDir(), 'logs', tenant, `${app}.log`);
}

export async function writeRunnerState(state: LocalRunnerState): Promise<void> {
  await mkdir(runnerDir(), { recursive: true });
  const tmp = `${stateFile()}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2));
  await rename(tmp, stateFile());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running local runner's state, or undefined when none runs (a stale file is ignored). */
export async function readRunnerState(): Promise<LocalRunnerState | undefined> {
  if (!existsSync(stateFile())) return undefined;
  try {
    const state = JSON.parse(await readFile(stateFile(), 'utf8')) as LocalRunnerState;
    return alive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** GET <url>readyz within a second: true when the sidecar says it is ready. */
export interface ReadyProbe {
  ready: boolean;
  /** The sidecar's state (docs/protocol.md §2); absent when it did not answer. */
  state?: string;
  message?: string;
  /** Since when the grids lag behind their topics (ISO), when they do. */
  staleSince?: string;
}

export async function probeReady(url: string): Promise<ReadyProbe> {
  try {
    const response = await fetch(new URL('readyz', url), { signal: AbortSignal.timeout(1000) });
    const body = (await response.json().catch(() => ({}))) as { state?: string; message?: string; stale_since?: string | null };
    return {
      ready: response.ok,
      ...(body.state ? { state: body.state } : {}),
      ...(body.message ? { message: body.message } : {}),
      ...(body.stale_since ? { staleSince: body.stale_since } : {}),
    };
  } catch (error) {
    return { ready: false, message: `not reachable: ${(error as Error).message}` };
  }
}
