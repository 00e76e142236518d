import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { flags } from '../cli/flags.js';

interface LogsFlags { follow?: boolean; since?: string; container?: string; tenant?: string; gitops?: string; timestamps?: boolean }

export function register(program: Command): void {
  program
    .command('logs')
    .argument('<app>', 'the app: APP, or TENANT/APP')
    .description('print an app\'s logs, sidecar and runtime, each line prefixed with its container')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--since <when>', 'only lines from this long ago (10m, 2h, 1d) or since this time (ISO 8601)')
    .option('-c, --container <name>', 'only one container: sidecar or runtime')
    .addOption(flags.tenant())
    .addOption(flags.gitops({ spec: true }))
    .option('--timestamps', 'show each line\'s time (local runner)')
    .addHelpText('after', `
On one machine the logs come from \`aerogrid serve --run local\`; otherwise from the cluster through
kubectl (your current kube context), as kubectl logs --all-containers --prefix.

Examples:
  $ aerogrid logs ordersapp
  $ aerogrid logs sales/ordersapp --follow --container runtime
  $ aerogrid logs ordersapp --since 10m

Exit codes: 0 ok, 2 usage, 4 app not found, 5 neither the local runner nor a cluster reachable.`)
    .action(async (ref: string, opts: LogsFlags) => {
      if (opts.container && opts.container !== 'sidecar' && opts.container !== 'runtime') {
        throw new CliError(`--container must be sidecar or runtime, not '${opts.container}'.`, { exitCode: ExitCode.usage });
      }
      const container = opts.container as 'sidecar' | 'runtime' | undefined;
      const { readRunnerState } = await import('../live/local-state.js');
      const { parseSince, printLogFile } = await import('../live/local-logs.js');
      const since = opts.since ? parseSince(opts.since) : undefined;
      const [first, second] = ref.split('/');
      const tenant = second !== undefined ? first : opts.tenant;
      const app = second ?? first!;

      const runner = await readRunnerState();
      const local = runner ? Object.values(runner.apps).filter((a) => a.app === app && (!tenant || a.tenant === tenant)) : [];
      if (local.length > 1) throw new CliError(`App '${app}' runs for several tenants: ${local.map((a) => a.tenant).join(', ')}.`, { exitCode: ExitCode.usage, hint: `Name one: ${local.map((a) => `${a.tenant}/${app}`).join(' or ')}` });
      if (local.length === 1) {
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        process.once('SIGTERM', () => controller.abort());
        const strip = (line: string) => (opts.timestamps ? line : line.slice(line.indexOf(' ') + 1));
        await printLogFile(local[0]!.logFile, { ...(since ? { since } : {}), ...(container ? { container } : {}) }, (line) => process.stdout.write(strip(line) + '\n'), { follow: opts.follow, signal: controller.signal });
        return;
      }

      const { kubectlLogs } = await import('../live/kubectl-logs.js');
      let resolvedTenant = tenant;
      if (!resolvedTenant) {
        const { gitopsRepoFor, cloneRepo } = await import('../gitops/repo.js');
        const { resolveApp } = await import('../gitops/apps.js');
        const work = await cloneRepo(await gitopsRepoFor(opts.gitops, process.cwd()));
        try {
          resolvedTenant = (await resolveApp(work.dir, app)).tenant;
        } finally {
          await work.dispose();
        }
      }
      process.exitCode = await kubectlLogs({ tenant: resolvedTenant, app, follow: opts.follow, ...(opts.since ? { since: opts.since } : {}), ...(container ? { container } : {}), localRunner: Boolean(runner) });
    });
}
