import type { Command } from 'commander';
import { info, printJson } from '../output.js';
import { flags } from '../cli/flags.js';

export function register(program: Command): void {
  const platform = program
    .command('platform')
    .description('set up the platform in a GitOps repo: the Argo CD bootstrap, the Gateway, the directory (admins)')
    .addHelpText('after', `
Once per GitOps repo, before the first tenant add: the files a cluster needs besides the tenants'
(see docs/gitops.md). Argo CD then keeps the cluster in step with the repo.

Examples:
  $ aerogrid platform init --host aerogrid.example.com --gitops git@github.com:acme/gitops.git
  $ aerogrid platform init --help                        what it writes`);

  platform
    .command('init')
    .description('seed a GitOps repo (an empty one too) with the skeleton and the platform\'s files; commit and push them')
    .requiredOption('--host <host>', 'the platform host Excel users reach, e.g. aerogrid.example.com (apps at https://<host>/apps/<tenant>/<app>/)')
    .addOption(flags.gitops())
    .option('--repo-url <url>', 'the GitOps repo as Argo CD clones it (default: --gitops when it is a URL; a path must be given here, e.g. file:///srv/gitops.git)')
    .option('--gateway-class <name>', 'the GatewayClass of the cluster\'s Gateway API implementation', 'istio')
    .option('--argocd-namespace <ns>', 'the namespace Argo CD runs in', 'argocd')
    .addOption(flags.json())
    .addHelpText('after', `
Writes, all admin-owned:
  platform/platform.yaml   the host and repo URL (read by tenant add and serve)
  platform/system/         namespace aerogrid-system: the Gateway on --host (HTTPS, certificate in the
                           Secret aerogrid-tls), the policy keeping tenants' routes under /apps/<tenant>/,
                           the directory and console (aerogrid serve --run argocd) at https://<host>/
  bootstrap/               the Argo CD bootstrap: apply it once with kubectl apply -k bootstrap/
Run it again to change the host or the repo URL; tenants and apps stay as they are.

Examples:
  $ aerogrid platform init --host aerogrid.example.com --gitops git@github.com:acme/gitops.git
  $ aerogrid platform init --host aerogrid.example.com --gitops /srv/gitops.git --repo-url https://git.acme.com/gitops.git`)
    .action(async (opts: { host: string; gitops?: string; repoUrl?: string; gatewayClass: string; argocdNamespace: string; json?: boolean }) => {
      const { checkHost } = await import('../platform/host.js');
      const { explicitRepoUrl, repoUrlFor } = await import('../gitops/repo-url.js');
      const { resolveGitopsRepo } = await import('../gitops/repo.js');
      const { initPlatform } = await import('../platform/init.js');
      const host = checkHost(opts.host);
      // A path given as --gitops is where this machine pushes; Argo CD needs the URL it clones.
      const repoUrl = opts.repoUrl !== undefined ? explicitRepoUrl(opts.repoUrl) : opts.gitops ? repoUrlFor(opts.gitops, 'the platform') : undefined;
      const repo = await resolveGitopsRepo(opts.gitops);
      const result = await initPlatform(repo, { host, repoUrl: repoUrl ?? repoUrlFor(repo, 'the platform'), gatewayClass: opts.gatewayClass, argocdNamespace: opts.argocdNamespace });
      if (opts.json) return printJson({ ...result, repo });
      info(result.changed
        ? `Platform ${result.host} written to ${repo}${result.seeded ? ' (seeded: the repo was empty)' : ''} (commit ${result.commit!.slice(0, 12)}); Argo CD clones ${result.repoUrl}.`
        : `The platform is already set up like this in ${repo}; nothing to commit.`);
      info(`Next: apply the Argo CD bootstrap once from a clone of the repo (kubectl apply -k bootstrap/), then onboard tenants: aerogrid tenant add <tenant> --topics <topics>${opts.gitops ? ` --gitops ${opts.gitops}` : ''}`);
    });
}
