// `aerogrid serve --run local`: the embedded runtime for one machine. Watches the GitOps repo's
// main branch and keeps one sidecar + Python runtime (runConnector) per running app, so every
// commit (deploy, stop, start, delete, rollback) is applied here as Argo CD applies it in a cluster.
import { statSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AuthOptions } from '@aerogrid/sidecar/auth';
import type { ConnectorOptions, RunningConnector } from './connector.js';
import { git, GitError } from '../gitops/git.js';
import { BRANCH } from '../gitops/repo.js';
import { CODE_DIR } from '../render/app.js';
import { desiredLocalApps, type DesiredLocalApp } from './desired.js';
import { LogFile } from './log-file.js';
import { CGROUP_PREFIX, checkSandbox, sandboxWanted, SANDBOX_SWITCH, UNSANDBOXED_NOTICE } from './sandbox.js';
import { CliError, ExitCode } from '../errors.js';
import { logFileOf, readRunnerState, runnerDir, writeRunnerState, type LocalAppState, type LocalRunnerState } from '../live/local-state.js';

export interface LocalRunnerOptions {
  repo: string;
  broker: string;
  /** How often main is checked for new commits. */
  pollMs?: number;
  log?: (line: string) => void;
  /** The interface the apps' sidecars listen on (default 127.0.0.1). */
  host?: string;
  /** Token checks for the apps' sidecars (each also gets its spec.access.groups); unset: auth off. */
  auth?: AuthOptions;
  /** Starts one connector; runConnector unless a caller supplies its own. */
  start?: (options: ConnectorOptions) => Promise<RunningConnector>;
  /** Run each app's runtime in a sandbox (default: unless $AEROGRID_SANDBOX is off). */
  sandbox?: boolean;
}

interface Running {
  tree: string;
  startedAt: number;
  connector: RunningConnector;
  logStream: LogFile;
}

/** One app of the reconciled commit and what runs of it (no state: not picked up yet). */
export interface LiveLocalApp {
  desired: DesiredLocalApp;
  state?: LocalAppState;
}

export interface LocalRunner {
  stop(): Promise<void>;
  done: Promise<void>;
  /** The GitOps commit last reconciled. */
  reconciled(): string | undefined;
  /** The apps of the GitOps repo as last read, each with its running state (for the directory). */
  apps(): LiveLocalApp[];
  /** Calls listener after every change of apps(); returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

function fileSize(file: string): number {
  try { return statSync(file).size; } catch { return 0; }
}

const RESTART_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];
const HEALTHY_RUN_MS = 60_000;

export async function startLocalRunner(options: LocalRunnerOptions): Promise<LocalRunner> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const start = options.start ?? (await import('./connector.js')).runConnector;
  const pollMs = options.pollMs ?? 500;
  // One runner per $AEROGRID_HOME: two would fight over the checkout, the state file and the apps.
  const other = await readRunnerState();
  if (other && other.pid !== process.pid) {
    throw new CliError(`aerogrid serve already runs for this $AEROGRID_HOME (pid ${other.pid}, serving ${other.repo}).`, {
      exitCode: ExitCode.environment,
      hint: `Use that one (aerogrid status), stop it first (Ctrl-C in its terminal, or kill ${other.pid}), or give this one another AEROGRID_HOME.`,
    });
  }
  const sandbox = options.sandbox ?? sandboxWanted();
  if (sandbox) await checkSandbox();
  else log(`[serve] ${SANDBOX_SWITCH}=off: the apps run without a sandbox (${UNSANDBOXED_NOTICE}).`);
  const checkout = join(runnerDir(), 'checkout');
  await rm(checkout, { recursive: true, force: true });
  await mkdir(dirname(checkout), { recursive: true });
  try {
    await git(dirname(checkout), ['clone', '--quiet', '--branch', BRANCH, '--single-branch', '--no-tags', '--', options.repo, checkout]);
  } catch (error) {
    throw new CliError(`Cannot read the GitOps repo ${options.repo}: ${error instanceof GitError ? error.stderr.trim() : String(error)}`, {
      exitCode: ExitCode.environment,
      hint: 'Check --gitops (or $AEROGRID_GITOPS): it must be a git repository with a main branch that this machine can reach.',
    });
  }

  const state: LocalRunnerState = { pid: process.pid, repo: options.repo, broker: options.broker, updatedAt: new Date().toISOString(), apps: {} };
  const running = new Map<string, Running>();
  const failures = new Map<string, { count: number; retryAt: number }>();
  let stopping = false;
  let head: string | undefined;
  let saving = Promise.resolve();
  let desiredApps: DesiredLocalApp[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) {
      try { listener(); } catch (error) { log(`[serve] a change listener failed: ${(error as Error).message}`); }
    }
  };
  const save = () => {
    notify();
    state.updatedAt = new Date().toISOString();
    saving = saving.then(() => writeRunnerState(state)).catch((e) => log(`[serve] could not write the state file: ${(e as Error).message}`));
    return saving;
  };
  const setApp = (app: DesiredLocalApp, phase: LocalAppState['phase'], extra: Partial<LocalAppState> = {}) => {
    state.apps[app.key] = { tenant: app.tenant, app: app.app, commit: app.commit, replicas: app.replicas, phase, logFile: logFileOf(app.tenant, app.app), updatedAt: new Date().toISOString(), ...extra };
  };

  const stopApp = async (key: string) => {
    const current = running.get(key);
    if (!current) return;
    running.delete(key);
    await current.connector.stop();
    current.logStream.end(`${new Date().toISOString()} [serve] stopped ${key}\n`);
  };

  const startApp = async (app: DesiredLocalApp) => {
    // Each version runs from its own copy, so a later checkout never changes code under a running app.
    const dir = join(runnerDir(), 'apps', app.tenant, app.app, app.tree);
    await rm(dir, { recursive: true, force: true });
    await cp(join(app.dir, CODE_DIR), dir, { recursive: true });
    await cp(join(app.dir, 'aerogrid.yaml'), join(dir, 'aerogrid.yaml'));
    // Its writable folder starts empty with each version, as a pod's emptyDir does.
    const workDir = join(runnerDir(), 'work', app.tenant, app.app);
    await rm(workDir, { recursive: true, force: true });
    const logFile = logFileOf(app.tenant, app.app);
    await mkdir(dirname(logFile), { recursive: true });
    const logStream = new LogFile(logFile, fileSize(logFile));
    logStream.write(`${new Date().toISOString()} [serve] starting ${app.key} at ${app.commit.slice(0, 12)}\n`);
    setApp(app, 'starting');
    await save();
    const connector = await start({
      dir, app: app.app, entrypoint: app.entrypoint, broker: options.broker, port: 0, host: options.host ?? '127.0.0.1', tenant: app.tenant, watch: false,
      ...(app.deadLetter ? { deadLetter: app.deadLetter.policy, deadLetterTopic: app.deadLetter.topic, deadLetterRetentionMs: app.deadLetter.retentionMs } : {}),
      ...(options.auth ? { auth: options.auth, viewerGroups: app.viewerGroups } : {}),
      allowedTopics: app.allowedTopics,
      confine: { name: `${CGROUP_PREFIX}-${process.pid}-${app.tenant}-${app.app}`, workDir, limits: app.resources, sandbox },
      // Timestamped, so `aerogrid logs --since` can filter.
      log: (line) => logStream.write(`${new Date().toISOString()} ${line}\n`),
    });
    running.set(app.key, { tree: app.tree, startedAt: Date.now(), connector, logStream });
    setApp(app, 'running', { url: connector.url, pids: connector.pids() });
    await save();
    log(`[serve] ${app.key} running at ${connector.url} (${app.commit.slice(0, 12)})`);
    void connector.done.then(() => {
      // Exited without being asked: note it and start it again after a backoff.
      const current = running.get(app.key);
      if (stopping || current?.connector !== connector) return;
      running.delete(app.key);
      logStream.end();
      const failure = failures.get(app.key) ?? { count: 0, retryAt: 0 };
      // An app that ran a good while before exiting starts again soon; a crash loop backs off.
      if (Date.now() - current.startedAt > HEALTHY_RUN_MS) failure.count = 0;
      failure.retryAt = Date.now() + RESTART_BACKOFF_MS[Math.min(failure.count, RESTART_BACKOFF_MS.length - 1)]!;
      failure.count++;
      failures.set(app.key, failure);
      setApp(app, 'failed', { message: `exited; restarting (attempt ${failure.count})` });
      void save();
      log(`[serve] ${app.key} exited; restarting`);
    });
  };

  const reconcileApp = async (app: DesiredLocalApp) => {
    const current = running.get(app.key);
    if (app.problem) {
      await stopApp(app.key);
      setApp(app, 'failed', { message: app.problem });
      return;
    }
    if (app.replicas === 0) {
      if (current) log(`[serve] ${app.key} stopped`);
      await stopApp(app.key);
      setApp(app, 'stopped');
      return;
    }
    if (current && current.tree === app.tree) {
      state.apps[app.key] = { ...state.apps[app.key]!, commit: app.commit };
      return;
    }
    // A new version starts with a clean slate.
    if (state.apps[app.key] && state.apps[app.key]!.commit !== app.commit) failures.delete(app.key);
    const failure = failures.get(app.key);
    if (!current && failure && failure.retryAt > Date.now() && state.apps[app.key]?.commit === app.commit) return;
    await stopApp(app.key);
    try {
      await startApp(app);
      // Started: no retry pending, but the count stays until it has run a good while.
      if (failure) failure.retryAt = Infinity;
    } catch (error) {
      const f = failures.get(app.key) ?? { count: 0, retryAt: 0 };
      f.retryAt = Date.now() + RESTART_BACKOFF_MS[Math.min(f.count, RESTART_BACKOFF_MS.length - 1)]!;
      f.count++;
      failures.set(app.key, f);
      setApp(app, 'failed', { message: (error as Error).message });
      log(`[serve] ${app.key} failed to start: ${(error as Error).message}`);
    }
  };

  const reconcile = async () => {
    await git(checkout, ['fetch', '--quiet', 'origin', BRANCH]);
    const remote = (await git(checkout, ['rev-parse', `origin/${BRANCH}`])).trim();
    const retryDue = [...failures.values()].some((f) => f.retryAt <= Date.now());
    if (remote === head && !retryDue) return;
    if (remote !== head) await git(checkout, ['reset', '--quiet', '--hard', remote]);
    const desired = await desiredLocalApps(checkout);
    desiredApps = desired;
    notify();
    const keys = new Set(desired.map((a) => a.key));
    // Deleted apps go first; then every app in parallel (each start waits for its sidecar).
    for (const key of [...running.keys(), ...Object.keys(state.apps)]) {
      if (keys.has(key)) continue;
      if (running.has(key)) log(`[serve] ${key} deleted`);
      await stopApp(key);
      delete state.apps[key];
      failures.delete(key);
    }
    await Promise.all(desired.map((app) => reconcileApp(app)));
    head = remote;
    state.reconciled = remote;
    await save();
  };

  let timer: NodeJS.Timeout | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  let inflight: Promise<void> = Promise.resolve();
  const loop = async () => {
    if (stopping) return;
    try {
      inflight = reconcile();
      await inflight;
    } catch (error) {
      log(`[serve] reconcile failed: ${(error as Error).message}`);
    }
    if (!stopping) timer = setTimeout(() => void loop(), pollMs);
  };
  await loop();

  return {
    reconciled: () => head,
    apps: () => desiredApps.map((desired) => {
      const current = state.apps[desired.key];
      return current ? { desired, state: { ...current } } : { desired };
    }),
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    done,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      if (timer) clearTimeout(timer);
      await inflight.catch(() => undefined);
      await Promise.all([...running.keys()].map((key) => stopApp(key)));
      for (const app of Object.values(state.apps)) if (app.phase !== 'failed') app.phase = 'stopped';
      await save();
      resolveDone();
    },
  };
}
