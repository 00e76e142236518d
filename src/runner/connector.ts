import { ENV } from '@aerogrid/protocol/environment';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { AuthOptions } from '@aerogrid/sidecar/auth';
import { CliError, ExitCode } from '../errors.js';
import { pythonSdkPath, sidecarMainPath } from '../paths.js';
import { ManagedProcess } from './process.js';
import type { ResourceLimits } from '../repo-layout/limits.js';
import { createRuntimeSandbox, type RuntimeSandbox } from './sandbox.js';

export interface ConnectorOptions {
  /** The connector folder. */
  dir: string;
  /** The Python file inside it (default app.py). */
  entrypoint?: string;
  broker: string;
  /** HTTP/WebSocket port of the sidecar; 0 picks a free one. */
  port: number;
  host?: string;
  tenant?: string;
  /** Restart the runtime when a .py file in the folder changes. */
  watch: boolean;
  log?: (line: string) => void;
  /**
   * The app's name when known (from aerogrid.yaml): the sidecar then restores its grids from the
   * changelog at once, before the runtime connects, and refuses a runtime declaring another app.
   */
  app?: string;
  /** Extra environment for both processes. */
  env?: NodeJS.ProcessEnv;
  /** What the sidecar does with a record that cannot be processed (default: its own, `dlq`). */
  deadLetter?: 'dlq' | 'stop';
  /** The dead-letter topic (default: the sidecar's, `aerogrid.<tenant>.<app>.dlq`). */
  deadLetterTopic?: string;
  /** `retention.ms` of the dead-letter topic when the sidecar creates it (spec.deadLetter.retention). */
  deadLetterRetentionMs?: number;
  /**
   * A separate copy of the app (`aerogrid dev` runs `dev`): its own consumer group, changelog,
   * dead letters and transactional id, `aerogrid.<tenant>.<app>.<instance>.*`.
   */
  instance?: string;
  /** OIDC auth for the sidecar's clients; absent: auth off (an inherited AEROGRID_OIDC_* is ignored). */
  auth?: AuthOptions;
  /** With auth: only these groups may read the grids (aerogrid.yaml spec.access.groups; empty: the whole tenant). */
  viewerGroups?: string[];
  /**
   * The topics the runtime may declare (names, or 'prefix*'): the sidecar refuses a runtime that
   * declares another, as it does in the cluster with the tenant's allowance. Unset: any.
   */
  allowedTopics?: string[];
  /**
   * Runs the runtime confined (the local runner): only the runtime protocol's environment, no
   * broker address, its own working folder, and (sandbox) bubblewrap with `limits` in a cgroup.
   * Unset: the runtime runs as this process's child with its environment (`aerogrid dev`).
   */
  confine?: { name: string; workDir: string; limits: ResourceLimits; sandbox: boolean };
}

/** The sidecar's auth settings as its environment (docs/protocol.md "Authentication"). */
const AUTH_ENV = [ENV.oidcIssuer, ENV.oidcAudience, ENV.jwksUri, ENV.tenantClaim, ENV.viewerGroups] as const;

function sidecarAuthEnv(auth: AuthOptions | undefined, viewerGroups: string[] | undefined): Record<(typeof AUTH_ENV)[number], string | undefined> {
  return {
    [ENV.oidcIssuer]: auth?.issuer,
    [ENV.oidcAudience]: auth?.audience,
    [ENV.jwksUri]: auth?.jwksUri,
    [ENV.tenantClaim]: auth?.tenantClaim,
    [ENV.viewerGroups]: auth && viewerGroups?.length ? viewerGroups.join(',') : undefined,
  };
}

/** `env` without the variables that are unset (undefined) in it. */
function defined(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

export interface RunningConnector {
  /** The viewer page; the HTTP API and WebSocket live under it. */
  url: string;
  stop(): Promise<void>;
  /** Resolves when the sidecar has exited (after stop(), or on its own). */
  done: Promise<void>;
  /** Process ids, for benchmarks and diagnostics. */
  pids(): { sidecar: number | undefined; runtime: number | undefined };
}

/**
 * Many sidecars share one machine: one V8 worker thread each instead of four (an idle sidecar
 * measured about 4 MB less RSS; GC and compile work that a worker would do runs on the rest), and
 * at most two glibc malloc arenas instead of one per thread (about 4 MB less).
 */
export const SIDECAR_NODE_FLAGS = ['--v8-pool-size=1'];
export const SIDECAR_ENV = { MALLOC_ARENA_MAX: '2' };

/**
 * Node 20 loads NODE_EXTRA_CA_CERTS as it starts, whether or not the process ever opens a TLS
 * connection: with a system bundle of some 140 CAs, about 1.8 MiB more RSS per sidecar. A
 * sidecar opens TLS only to the brokers (AEROGRID_KAFKA_TLS) and to its OIDC issuer, so it keeps
 * the variable only with one of those.
 */
export function withoutUnusedCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kafkaTls = (env[ENV.kafkaTls] ?? '').trim().toLowerCase();
  const opensTls = !['', 'false', '0'].includes(kafkaTls) || Boolean(env[ENV.oidcIssuer] || env[ENV.jwksUri]);
  if (opensTls || env.NODE_EXTRA_CA_CERTS === undefined) return env;
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return rest;
}

const USER_CODE_ERROR = 2; // the runtime's exit code when app.py itself fails to load

/**
 * Runs one connector as a pod would: the sidecar (owns Kafka, serves the grids) and the Python
 * runtime beside it, joined by a Unix socket. The runtime is restarted when it crashes (with
 * backoff) and, with watch, when the code changes.
 */
export async function runConnector(options: ConnectorOptions): Promise<RunningConnector> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const dir = resolve(options.dir);
  const entrypoint = options.entrypoint ?? 'app.py';
  const appFile = join(dir, entrypoint);
  if (!existsSync(appFile)) {
    throw new CliError(`No ${entrypoint} in ${dir}.`, {
      exitCode: ExitCode.notFound,
      hint: 'Run `aerogrid dev` in a connector folder (one with app.py), or create one with `aerogrid init`.',
    });
  }
  const socketDir = await mkdtemp(join(tmpdir(), 'aerogrid-'));
  const runtimeAddr = `unix://${join(socketDir, 'runtime.sock')}`;
  const inherited: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // What the caller asked for is what runs: auth comes from `options.auth` only.
  for (const name of AUTH_ENV) delete inherited[name];
  // What the runtime protocol needs: all a confined runtime gets of the environment.
  const protocolEnv: Record<string, string> = {
    [ENV.runtimeAddr]: runtimeAddr,
    [ENV.tenant]: options.tenant ?? process.env[ENV.tenant] ?? 'default',
    ...(options.app ? { [ENV.app]: options.app } : {}),
    ...(options.instance ? { [ENV.instance]: options.instance } : {}),
  };
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ...protocolEnv,
    [ENV.broker]: options.broker,
    // The sidecar stops by itself if this process dies without stopping it (see sidecar/src/main.ts).
    [ENV.parentPid]: String(process.pid),
  };
  // A caller's allowance wins over one inherited from the environment.
  delete env[ENV.allowedTopics];
  if (options.allowedTopics) env[ENV.allowedTopics] = options.allowedTopics.join(',');
  let sandbox: RuntimeSandbox | undefined;
  if (options.confine) {
    try {
      sandbox = await createRuntimeSandbox({ ...options.confine, codeDir: dir, socketDir });
    } catch (error) {
      await rm(socketDir, { recursive: true, force: true });
      throw new CliError(`Cannot sandbox the runtime: ${(error as Error).message}`, { exitCode: ExitCode.environment });
    }
  }

  let url = '';
  const sidecar = new ManagedProcess({
    name: 'sidecar',
    command: process.execPath,
    args: [
      ...SIDECAR_NODE_FLAGS, sidecarMainPath(), '--broker', options.broker, '--port', String(options.port), '--host', options.host ?? '127.0.0.1', '--runtime-addr', runtimeAddr,
      ...(options.deadLetter ? ['--dead-letter', options.deadLetter] : []),
      ...(options.deadLetterTopic ? ['--dead-letter-topic', options.deadLetterTopic] : []),
      ...(options.deadLetterRetentionMs ? ['--dead-letter-retention-ms', String(options.deadLetterRetentionMs)] : []),
    ],
    env: withoutUnusedCaCerts({ ...env, ...SIDECAR_ENV, ...defined(sidecarAuthEnv(options.auth, options.viewerGroups)) }),
    log,
    onStdout: (line) => {
      if (!line.startsWith('{')) return false;
      try {
        const event = JSON.parse(line) as { event?: string; http?: string };
        if (event.event === 'listening' && event.http) { url = event.http; return true; }
      } catch { /* an ordinary line */ }
      return false;
    },
  });
  const listening = new Promise<void>((resolveListening, reject) => {
    const timer = setInterval(() => { if (url) { clearInterval(timer); resolveListening(); } }, 20);
    void sidecar.exited.then(({ code }) => {
      clearInterval(timer);
      reject(new CliError(`The sidecar exited (code ${code}) before it was ready; see its output above.`, { exitCode: ExitCode.failure }));
    });
  });
  try {
    await listening;
  } catch (error) {
    await sandbox?.dispose();
    await rm(socketDir, { recursive: true, force: true });
    throw error;
  }

  let stopping = false;
  let runtime: ManagedProcess | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let backoffMs = 500;

  const startRuntime = async () => {
    restartTimer = null;
    const startedAt = Date.now();
    const python = process.env.AEROGRID_PYTHON ?? 'python3';
    let launch;
    try {
      launch = sandbox
        ? await sandbox.launch(appFile, protocolEnv)
        : { command: python, args: ['-m', 'aerogrid', 'run', appFile], cwd: dir, env: { ...env, PYTHONPATH: [pythonSdkPath, process.env.PYTHONPATH].filter(Boolean).join(':'), PYTHONUNBUFFERED: '1' } };
    } catch (error) {
      // Python could not be found for the sandbox: try again later, as after a crash.
      log(`[dev] cannot start the runtime: ${(error as Error).message}; retrying in ${(backoffMs / 1000).toFixed(1)} s`);
      if (!stopping) restartTimer = setTimeout(() => void startRuntime(), backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30_000);
      return;
    }
    if (stopping) return;
    const proc = new ManagedProcess({ name: 'runtime', ...launch, log });
    runtime = proc;
    void proc.exited.then(({ code, signal }) => {
      // Whatever the app started outside its process group (a daemon) ends with it too.
      sandbox?.killLeftovers();
      if (stopping || runtime !== proc) return;
      if (code === USER_CODE_ERROR) {
        log(`[dev] ${basename(appFile)} failed to load (see above). ${options.watch ? 'Fix it and save: the runtime restarts on its own.' : 'Fix it and run again.'}`);
        return;
      }
      if (Date.now() - startedAt > 30_000) backoffMs = 500;
      log(`[dev] the runtime exited (${signal ?? `code ${code}`}); restarting in ${(backoffMs / 1000).toFixed(1)} s`);
      restartTimer = setTimeout(() => void startRuntime(), backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30_000);
    });
  };

  const restartRuntime = async (reason: string) => {
    if (stopping) return;
    log(`[dev] ${reason}: restarting the runtime`);
    if (restartTimer) clearTimeout(restartTimer);
    const old = runtime;
    runtime = null;
    await old?.stop();
    backoffMs = 500;
    if (!stopping) await startRuntime();
  };

  let watcher: FSWatcher | null = null;
  if (options.watch) {
    let debounce: NodeJS.Timeout | null = null;
    watcher = watch(dir, (_event, file) => {
      if (!file || !String(file).endsWith('.py')) return;
      if (debounce) clearTimeout(debounce);
      debounce = setTimeout(() => void restartRuntime(`${file} changed`), 300);
    });
  }

  await startRuntime();

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    watcher?.close();
    if (restartTimer) clearTimeout(restartTimer);
    // The sidecar tells the runtime to shut down after its last batch; stop the runtime after it.
    await sidecar.stop(10_000);
    await runtime?.stop(5_000);
    await sandbox?.dispose();
    await rm(socketDir, { recursive: true, force: true });
  };

  const done = sidecar.exited.then(async () => {
    if (!stopping) {
      log('[dev] the sidecar exited; stopping the runtime');
      await stop();
    }
  });

  return { url, stop, done, pids: () => ({ sidecar: sidecar.child.pid, runtime: runtime?.child.pid }) };
}
