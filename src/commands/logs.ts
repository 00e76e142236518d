import { LOG_CONTAINERS } from '@aerogrid/protocol/console-api';
import { Option, type Command } from 'commander';
import { flags } from '../cli/flags.js';
import type { LogsOptions } from '../live/logs.js';

type LogsFlags = Omit<LogsOptions, 'ref'>;

export function register(program: Command): void {
  program
    .command('logs')
    .argument('<app>', 'the app: APP, or TENANT/APP')
    .description('print an app\'s logs, sidecar and runtime, each line prefixed with its container')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--since <when>', 'only lines from this long ago (10m, 2h, 1d) or since this time (ISO 8601)')
    .addOption(new Option('-c, --container <name>', 'only one container: sidecar or runtime').choices(LOG_CONTAINERS))
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
      const { showLogs } = await import('../live/logs.js');
      const code = await showLogs({ ...opts, ref });
      if (code !== undefined) process.exitCode = code;
    });
}
