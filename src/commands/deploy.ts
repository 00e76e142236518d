import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { info, printJson } from '../output.js';
import { flags } from '../cli/flags.js';

interface DeployFlags {
  gitops?: string;
  dryRun?: boolean;
  pr?: boolean;
  githubRepo?: string;
  tokenStdin?: boolean;
  wait?: boolean;
  timeout: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('deploy')
    .argument('[dir]', 'the connector folder (holding aerogrid.yaml and app.py)', '.')
    .description('validate and render a connector, then commit it to the GitOps repo (Argo CD or `aerogrid serve` runs it)')
    .addOption(flags.gitops({ spec: true }))
    .option('--dry-run', 'show the change to the app\'s folder as a diff; commit nothing')
    .option('--pr', 'open a GitHub pull request instead of pushing to main (token: $GITHUB_TOKEN or --token-stdin)')
    .option('--github-repo <owner/name>', 'the GitOps repo on GitHub, for --pr (default: from its URL)')
    .option('--token-stdin', 'read the GitHub token from standard input')
    .option('--wait', 'wait until the app is live (Argo CD when configured, the local runner otherwise)')
    .option('--timeout <seconds>', 'how long --wait waits', '120')
    .addOption(flags.json())
    .addHelpText('after', `
Only the app's folder, tenants/<tenant>/apps/<app>/, changes: its manifests, its code and its
aerogrid.yaml. The commit names the app and the connector's commit in its trailers. When another
deploy lands first, this one is rebased and pushed again; a change to the same app's files at the
same time stops with a message and pushes nothing.

The tenant must have been onboarded (\`aerogrid tenant add\`) and allow the app's topics.

Examples:
  $ aerogrid deploy                               the connector in this folder, to the local repo
  $ aerogrid deploy ./ordersapp --dry-run         what would change
  $ aerogrid deploy --gitops git@github.com:acme/gitops.git --wait
  $ GITHUB_TOKEN=... aerogrid deploy --pr --gitops https://github.com/acme/gitops.git

Exit codes: 0 deployed (or already deployed), 1 push failed or conflicted (or, with --wait, not
live in time), 3 invalid connector,
4 tenant or files not found, 5 git, kubectl or the GitOps repo not reachable.`)
    .action(async (dir: string, opts: DeployFlags) => {
      const { deploy } = await import('../gitops/deploy.js');
      const started = Date.now();
      const { repo, result } = await deploy({
        dir,
        ...(opts.gitops ? { gitops: opts.gitops } : {}),
        dryRun: opts.dryRun,
        ...(opts.pr ? { pr: { tokenStdin: opts.tokenStdin, ...(opts.githubRepo ? { githubRepo: opts.githubRepo } : {}) } } : {}),
      });
      const pushedMs = Date.now() - started;
      if (opts.dryRun) {
        if (opts.json) printJson(result);
        else if (result.changed) process.stdout.write(result.diff!);
        else info(`${result.tenant}/${result.app} is already deployed like this; a deploy would change nothing.`);
        return;
      }
      let live: { url?: string; waitedMs: number } | undefined;
      if (opts.wait && !result.pullRequest) {
        const timeout = Number(opts.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0) throw new CliError(`--timeout must be a positive number of seconds, got '${opts.timeout}'.`, { exitCode: ExitCode.usage });
        if (!opts.json) info(`Deployed ${result.tenant}/${result.app}: commit ${result.commit.slice(0, 12)} pushed to ${repo} in ${(pushedMs / 1000).toFixed(1)} s; waiting until it is live...`);
        const { waitUntilLive } = await import('../live/wait.js');
        live = await waitUntilLive({ repo, tenant: result.tenant, app: result.app, commit: result.commit, timeoutMs: timeout * 1000, ...(opts.json ? {} : { onProgress: info }) });
      }
      if (opts.json) {
        printJson({ ...result, repo, pushedMs, ...(live ? { live } : {}) });
        return;
      }
      if (result.pullRequest) info(`Pull request #${result.pullRequest.number} opened for ${result.tenant}/${result.app}: ${result.pullRequest.url}\nMerging it deploys the app.`);
      else if (!result.changed) info(`${result.tenant}/${result.app} is already deployed like this (commit ${result.commit.slice(0, 12)}); nothing to commit.`);
      else if (!live) info(`Deployed ${result.tenant}/${result.app}: commit ${result.commit.slice(0, 12)} pushed to ${repo} in ${(pushedMs / 1000).toFixed(1)} s.`);
      if (live) info(`${result.tenant}/${result.app} is live${live.url ? ` at ${live.url}` : ''} (${(live.waitedMs / 1000).toFixed(1)} s after the push).`);
    });
}
