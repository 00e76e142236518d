// An app's log lines, from the local runner's log file when it runs the app on this machine, else
// from the cluster (kubectl logs of the app's Deployment): `aerogrid logs`, and the console's
// GET /v1/apps/<tenant>/<app>/logs through appLogs.
import { LOG_CONTAINERS, type LogContainer } from '@aerogrid/protocol/console-api';
import { CliError, ExitCode } from '../errors.js';

export interface LogsOptions {
  /** APP or TENANT/APP. */
  ref: string;
  tenant?: string;
  /** The GitOps repo, to find the app's tenant for kubectl. */
  gitops?: string;
  follow?: boolean;
  since?: string;
  container?: string;
  timestamps?: boolean;
}

/** Where an app's lines are: the local runner's log file, or the cluster's Deployment. */
export type LogPlace = { logFile: string } | { cluster: { localRunner: boolean } };

export interface AppLogsRequest {
  tenant: string;
  app: string;
  container?: LogContainer;
  /** '10m', '2h', '1d' or an ISO time. */
  since?: string;
  /** Only the last N lines (in a cluster: of each container, as kubectl --tail). */
  tail?: number;
  follow?: boolean;
  /** Keep each local line's time (kubectl shows none). */
  timestamps?: boolean;
  /** Lines as `[sidecar] text` wherever they come from (kubectl's own prefix names the pod too). */
  containerPrefix?: boolean;
  /** Ends a follow: the file is no longer read, kubectl is killed. */
  signal?: AbortSignal;
  /** Called once the lines there were are written: what comes after is new. */
  onCaughtUp?: () => void;
}

/** kubectl --prefix's `[pod/<pod>/<container>] ` as the local runner's `[<container>] `. */
export function shortPrefix(line: string): string {
  return line.replace(/^\[pod\/[^/\]]+\/([^\]/]+)\] /, '[$1] ');
}

/** Writes the app's lines in batches; resolves when they are written (with follow: when `signal` aborts). For a cluster, to kubectl's exit code. */
export async function appLogs(place: LogPlace, request: AppLogsRequest, write: (lines: string[]) => void): Promise<number | undefined> {
  const { container, signal, onCaughtUp } = request;
  if ('logFile' in place) {
    const { parseSince, readLogFile } = await import('./local-logs.js');
    const since = request.since ? parseSince(request.since) : undefined;
    const strip = (line: string) => (request.timestamps ? line : line.slice(line.indexOf(' ') + 1));
    await readLogFile(place.logFile, { ...(since ? { since } : {}), ...(container ? { container } : {}) }, (lines) => write(lines.map(strip)), {
      ...(request.tail !== undefined ? { tail: request.tail } : {}),
      ...(request.follow ? { follow: true } : {}),
      ...(signal ? { signal } : {}),
      ...(onCaughtUp ? { onCaughtUp } : {}),
    });
    return undefined;
  }
  const { kubectlLogs } = await import('./kubectl-logs.js');
  return kubectlLogs({
    tenant: request.tenant,
    app: request.app,
    localRunner: place.cluster.localRunner,
    ...(request.follow ? { follow: true } : {}),
    ...(request.since ? { since: request.since } : {}),
    ...(request.tail !== undefined ? { tail: request.tail } : {}),
    ...(container ? { container } : {}),
    ...(signal ? { signal } : {}),
    ...(onCaughtUp ? { onCaughtUp } : {}),
  }, request.containerPrefix ? (lines) => write(lines.map(shortPrefix)) : write);
}

/** Prints the lines on stdout; for a cluster, resolves to kubectl's exit code. */
export async function showLogs(options: LogsOptions): Promise<number | undefined> {
  if (options.container && !(LOG_CONTAINERS as readonly string[]).includes(options.container)) {
    throw new CliError(`--container must be ${LOG_CONTAINERS.join(' or ')}, not '${options.container}'.`, { exitCode: ExitCode.usage });
  }
  const container = options.container as LogContainer | undefined;
  const { readRunnerState } = await import('./local-state.js');
  // A bad --since is refused before anything is read, wherever the lines are.
  if (options.since) (await import('./local-logs.js')).parseSince(options.since);
  const [first, second] = options.ref.split('/');
  const tenant = second !== undefined ? first : options.tenant;
  const app = second ?? first!;
  const print = (lines: string[]) => { process.stdout.write(lines.map((line) => line + '\n').join('')); };
  const request = { app, ...(options.since ? { since: options.since } : {}), ...(container ? { container } : {}), ...(options.follow ? { follow: true } : {}) };

  const runner = await readRunnerState();
  const local = runner ? Object.values(runner.apps).filter((a) => a.app === app && (!tenant || a.tenant === tenant)) : [];
  if (local.length > 1) throw new CliError(`App '${app}' runs for several tenants: ${local.map((a) => a.tenant).join(', ')}.`, { exitCode: ExitCode.usage, hint: `Name one: ${local.map((a) => `${a.tenant}/${app}`).join(' or ')}` });
  if (local.length === 1) {
    const { existsSync } = await import('node:fs');
    if (!existsSync(local[0]!.logFile)) return undefined;
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
    return appLogs({ logFile: local[0]!.logFile }, { ...request, tenant: local[0]!.tenant, ...(options.timestamps ? { timestamps: true } : {}), signal: controller.signal }, print);
  }

  let resolvedTenant = tenant;
  if (!resolvedTenant) {
    const { gitopsRepoFor, cloneRepo } = await import('../gitops/repo.js');
    const { resolveApp } = await import('../gitops/apps.js');
    const work = await cloneRepo(await gitopsRepoFor(options.gitops, process.cwd()));
    try {
      resolvedTenant = (await resolveApp(work.dir, app)).tenant;
    } finally {
      await work.dispose();
    }
  }
  return appLogs({ cluster: { localRunner: Boolean(runner) } }, { ...request, tenant: resolvedTenant }, print);
}
