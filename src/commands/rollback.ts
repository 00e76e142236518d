import type { Command } from 'commander';
import { info, printJson } from '../output.js';
import { flags } from '../cli/flags.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .argument('<app>', 'the app: APP, or TENANT/APP when several tenants have one by that name')
    .argument('[release]', 'the release to go back to, by number (see `aerogrid releases`); default: the one before the latest')
    .description('re-deploy an earlier release of an app (a new release; also brings back a deleted app)')
    .addOption(flags.tenant())
    .addOption(flags.gitops({ spec: true }))
    .addOption(flags.json())
    .addHelpText('after', `
A rollback commits the release's app folder (its code and spec) to the GitOps repo as a new
release. It changes the code, not the running state: a stopped app stays stopped. For an app that
was deleted, the default is its latest release.

Examples:
  $ aerogrid releases ordersapp                  its releases, newest first
  $ aerogrid rollback ordersapp                  back to the release before the latest
  $ aerogrid rollback sales/ordersapp 3          back to release 3

Exit codes: 0 done (or already at that release), 1 push failed or conflicted, 2 usage,
4 app or release not found, 5 the GitOps repo not reachable.`)
    .action(async (app: string, release: string | undefined, opts: { tenant?: string; gitops?: string; json?: boolean }) => {
      const { gitopsRepoFor } = await import('../gitops/repo.js');
      const { rollbackApp } = await import('../gitops/releases.js');
      const repo = await gitopsRepoFor(opts.gitops, process.cwd());
      const result = await rollbackApp(repo, app, opts.tenant, release);
      if (opts.json) printJson({ ...result, repo });
      else if (!result.changed) info(`${result.tenant}/${result.app}: already at release ${result.release}'s content; nothing to change.`);
      else info(`Rolled back ${result.tenant}/${result.app} to release ${result.release}: commit ${result.commit.slice(0, 12)} pushed to ${repo}.`);
    });
}
