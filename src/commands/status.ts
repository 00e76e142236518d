import type { Command } from 'commander';
import { info, printJson, table } from '../output.js';
import { flags } from '../cli/flags.js';

export function register(program: Command): void {
  program
    .command('status')
    .argument('[app]', 'one app (APP or TENANT/APP); default: every app')
    .description('show each app\'s desired state (GitOps repo) and live state (Argo CD, or the local runner)')
    .addOption(flags.tenant('only this tenant\'s apps'))
    .addOption(flags.gitops({ spec: true }))
    .option('--history', 'also list each app\'s changes (its commits; `aerogrid releases` numbers the deploys)')
    .addOption(flags.json('the statuses'))
    .addHelpText('after', `
Live state comes from Argo CD's API when AEROGRID_ARGOCD_URL and AEROGRID_ARGOCD_TOKEN are set,
else from \`aerogrid serve --run local\` on this machine and its sidecars' /readyz probes.
States: live, starting, outdated (an older version runs), stopped, failed, missing, unknown.

Examples:
  $ aerogrid status
  $ aerogrid status sales/ordersapp --history
  $ aerogrid status --json | jq '.[] | select(.live.state != "live")'`)
    .action(async (app: string | undefined, opts: { tenant?: string; gitops?: string; history?: boolean; json?: boolean }) => {
      const { gitopsRepoFor } = await import('../gitops/repo.js');
      const { appStatuses } = await import('../live/status.js');
      const statuses = await appStatuses(await gitopsRepoFor(opts.gitops, process.cwd()), { ...(app ? { app } : {}), ...(opts.tenant ? { tenant: opts.tenant } : {}), history: opts.history });
      if (opts.json) {
        printJson(app ? statuses[0] : statuses);
        return;
      }
      if (statuses.length === 0) {
        info('No apps deployed yet. Deploy one with `aerogrid deploy` in a connector folder.');
        return;
      }
      const rows = statuses.map((s) => [`${s.tenant}/${s.app}`, s.desired, s.live.state, s.commit.slice(0, 12), s.live.url ?? '', s.live.message && s.live.state !== 'live' ? s.live.message : '']);
      const [header, ...lines] = table(['APP', 'DESIRED', 'LIVE', 'COMMIT', 'URL', 'MESSAGE'], rows);
      process.stdout.write(`${header}\n`);
      statuses.forEach((s, i) => {
        process.stdout.write(`${lines[i]}\n`);
        for (const h of s.history ?? []) process.stdout.write(`    ${h.commit.slice(0, 12)}  ${h.committedAt}  ${h.subject}\n`);
      });
    });
}
