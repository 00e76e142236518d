import type { Command } from 'commander';
import { printJson } from '../output.js';
import { flags } from '../cli/flags.js';

export function register(program: Command): void {
  program
    .command('releases')
    .argument('<app>', 'the app: APP, or TENANT/APP when several tenants have one by that name')
    .description('list an app\'s releases (each deploy and rollback): number, when, who, source commit')
    .addOption(flags.tenant())
    .addOption(flags.gitops({ spec: true }))
    .addOption(flags.json('the releases, oldest first'))
    .addHelpText('after', `
Read from the GitOps repo's history, so a deleted app still lists its releases.

Examples:
  $ aerogrid releases ordersapp
  $ aerogrid rollback ordersapp 2     re-deploy release 2`)
    .action(async (app: string, opts: { tenant?: string; gitops?: string; json?: boolean }) => {
      const { gitopsRepoFor } = await import('../gitops/repo.js');
      const { appReleases } = await import('../gitops/releases.js');
      const result = await appReleases(await gitopsRepoFor(opts.gitops, process.cwd()), app, opts.tenant);
      if (opts.json) {
        printJson(result);
        return;
      }
      const rows = [...result.releases].reverse().map((r) => [
        `v${r.number}`, r.at, r.by, r.sourceCommit?.slice(0, 12).concat(r.sourceCommit.endsWith('-dirty') ? '-dirty' : '') ?? '-',
        r.action === 'rollback' ? `rollback to v${r.rollbackTo}` : 'deploy', r.commit.slice(0, 12),
      ]);
      const table = [['RELEASE', 'WHEN', 'WHO', 'SOURCE', 'CHANGE', 'GITOPS COMMIT'], ...rows];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      process.stdout.write(`${result.tenant}/${result.app}: ${result.releases.length} release${result.releases.length === 1 ? '' : 's'}\n`);
      for (const row of table) process.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`);
    });
}
