// `aerogrid logs`: an app's log lines, from the local runner's log file when it runs the app on
// this machine, else from the cluster (kubectl logs of the app's Deployment).
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

/** Prints the lines on stdout; for a cluster, resolves to kubectl's exit code. */
export async function showLogs(options: LogsOptions): Promise<number | undefined> {
  if (options.container && options.container !== 'sidecar' && options.container !== 'runtime') {
    throw new CliError(`--container must be sidecar or runtime, not '${options.container}'.`, { exitCode: ExitCode.usage });
  }
  const container = options.container as 'sidecar' | 'runtime' | undefined;
  const { readRunnerState } = await import('./local-state.js');
  const { parseSince, printLogFile } = await import('./local-logs.js');
  const since = options.since ? parseSince(options.since) : undefined;
  const [first, second] = options.ref.split('/');
  const tenant = second !== undefined ? first : options.tenant;
  const app = second ?? first!;

  const runner = await readRunnerState();
  const local = runner ? Object.values(runner.apps).filter((a) => a.app === app && (!tenant || a.tenant === tenant)) : [];
  if (local.length > 1) throw new CliError(`App '${app}' runs for several tenants: ${local.map((a) => a.tenant).join(', ')}.`, { exitCode: ExitCode.usage, hint: `Name one: ${local.map((a) => `${a.tenant}/${app}`).join(' or ')}` });
  if (local.length === 1) {
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
    const strip = (line: string) => (options.timestamps ? line : line.slice(line.indexOf(' ') + 1));
    await printLogFile(local[0]!.logFile, { ...(since ? { since } : {}), ...(container ? { container } : {}) }, (line) => process.stdout.write(strip(line) + '\n'), { follow: options.follow, signal: controller.signal });
    return;
  }

  const { kubectlLogs } = await import('./kubectl-logs.js');
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
  return kubectlLogs({ tenant: resolvedTenant, app, follow: options.follow, ...(options.since ? { since: options.since } : {}), ...(container ? { container } : {}), localRunner: Boolean(runner) });
}
