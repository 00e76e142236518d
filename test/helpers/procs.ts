/**
 * Real processes for the exactly-once tests: the sidecar (`node sidecar/dist/main.js`) and the
 * Python runtime (`python3 -m aerogrid run`), each killable with SIGKILL at any moment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { packageRoot, pythonSdkPath } from '../../src/paths.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, name: string, logs: string[]): Proc {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const push = (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (!line) continue;
      logs.push(`[${name} ${child.pid}] ${line}`);
      if (process.env.AEROGRID_TEST_VERBOSE) process.stderr.write(`[${name} ${child.pid}] ${line}\n`);
    }
  };
  child.stdout!.on('data', push);
  child.stderr!.on('data', push);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

export interface SidecarArgs {
  broker: string;
  port: number;
  runtimePort: number;
  app: string;
  tenant: string;
  extra?: string[];
  /** The entry point: the build's main.js unless given (e.g. the bundle the runner starts). */
  main?: string;
}

export function startSidecarProcess(a: SidecarArgs, logs: string[]): Proc {
  return start(
    process.execPath,
    [
      a.main ?? join(packageRoot, 'sidecar', 'dist', 'main.js'),
      '--broker', a.broker,
      '--port', String(a.port),
      '--runtime-addr', `tcp://127.0.0.1:${a.runtimePort}`,
      '--app', a.app,
      '--tenant', a.tenant,
      ...(a.extra ?? []),
    ],
    {},
    'sidecar',
    logs,
  );
}

export function startRuntimeProcess(appFile: string, runtimePort: number, broker: string, env: NodeJS.ProcessEnv, logs: string[]): Proc {
  return start(
    process.env.AEROGRID_PYTHON ?? 'python3',
    ['-m', 'aerogrid', 'run', appFile],
    {
      ...env,
      PYTHONPATH: [pythonSdkPath, process.env.PYTHONPATH].filter(Boolean).join(':'),
      PYTHONUNBUFFERED: '1',
      AEROGRID_RUNTIME_ADDR: `tcp://127.0.0.1:${runtimePort}`,
      AEROGRID_BROKER: broker,
      AEROGRID_CONNECT_TIMEOUT: '60',
    },
    'runtime',
    logs,
  );
}

/** Kills with SIGKILL (no clean-up of any kind) and waits for the exit. */
export async function kill9(proc: Proc | null): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGKILL');
  await proc.exited;
}

export const sorted = (rows: Record<string, unknown>) => Object.fromEntries(Object.entries(rows).sort(([a], [b]) => a.localeCompare(b)));
export const same = (a: Record<string, unknown> | undefined | null, b: Record<string, unknown>) =>
  !!a && JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

/** Seeded pseudo-random numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
