import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { info, printJson, table } from '../output.js';
import { flags, oidcFlagsWithEnv, type OidcFlags } from '../cli/flags.js';

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

export function register(program: Command): void {
  const tenant = program
    .command('tenant')
    .description('onboard tenants (teams or customers) into the GitOps repo (admins)')
    .addHelpText('after', `
A tenant is a Kubernetes namespace with its guard-rails (Pod Security "restricted", quota, limits,
default-deny network policy, JWT authentication with the tenant claim checked) and an Argo CD AppProject and ApplicationSet that
deploy every folder under tenants/<tenant>/apps/. These files live in platform/tenants/<tenant>/,
which tenants cannot change. Apps may only read the topics listed here.

The GitOps repo is --gitops, else $AEROGRID_GITOPS, else a local repo in $AEROGRID_HOME.

Examples:
  $ aerogrid tenant add sales --topics orders,prices
  $ aerogrid tenant add sales --topics 'orders.*' --kafka kafka.kafka.svc:9092 \\
      --oidc-issuer https://acme.eu.auth0.com/ --oidc-audience https://aerogrid.acme.com \\
      --tenant-claim https://aerogrid.dev/tenant --gitops git@github.com:acme/gitops.git
  $ aerogrid tenant list --json`);

  tenant
    .command('add')
    .argument('<tenant>', 'the tenant name: a DNS-1123 label (becomes its namespace)')
    .description('write (or update) a tenant\'s platform and Argo CD files, commit and push them')
    .requiredOption('--topics <list>', 'topics its apps may read: names, or prefixes ending in * (comma-separated; repeatable)', list)
    .addOption(flags.gitops())
    .option('--kafka <bootstrap>', 'Kafka as the pods reach it (env AEROGRID_BROKER)', process.env.AEROGRID_BROKER ?? '127.0.0.1:19092')
    .addOption(flags.oidcIssuer())
    .addOption(flags.oidcAudience())
    .addOption(flags.jwksUri())
    .addOption(flags.tenantClaim())
    .option('--repo-url <url>', 'the GitOps repo as Argo CD clones it (default: the platform\'s, from platform init; else --gitops when it is a URL)')
    .addOption(flags.json())
    .action(async (name: string, flagValues: { topics: string[]; gitops?: string; kafka: string; repoUrl?: string; json?: boolean } & OidcFlags) => {
      const opts = { ...flagValues, ...oidcFlagsWithEnv(flagValues) };
      if (Boolean(opts.oidcIssuer) !== Boolean(opts.oidcAudience)) {
        throw new CliError(`--oidc-issuer and --oidc-audience go together; got only ${opts.oidcIssuer ? '--oidc-issuer' : '--oidc-audience'}.`, {
          exitCode: ExitCode.usage,
          hint: 'Pass both: the issuer URL (e.g. https://acme.eu.auth0.com/) and the audience its access tokens carry (e.g. your API identifier).',
        });
      }
      const { resolveGitopsRepo } = await import('../gitops/repo.js');
      const { addTenant } = await import('../gitops/tenants.js');
      const { parseBrokerList } = await import('../local-kafka/resolve.js');
      const repo = await resolveGitopsRepo(opts.gitops);
      const result = await addTenant(repo, {
        tenant: name,
        topics: opts.topics,
        kafka: parseBrokerList(opts.kafka).join(','),
        ...(opts.repoUrl ? { repoUrl: opts.repoUrl } : {}),
        ...(opts.oidcIssuer && opts.oidcAudience
          ? { oidc: { issuer: opts.oidcIssuer, audience: opts.oidcAudience, tenantClaim: opts.tenantClaim, ...(opts.jwksUri ? { jwksUri: opts.jwksUri } : {}) } }
          : {}),
      });
      if (result.repoUrlNote) info(`note: ${result.repoUrlNote}`);
      if (opts.json) printJson({ ...result, repo });
      else info(result.changed ? `Tenant ${result.tenant} written to ${repo} (commit ${result.commit!.slice(0, 12)}).` : `Tenant ${result.tenant} is already set up like this in ${repo}; nothing to commit.`);
      if (!opts.oidcIssuer && !opts.json) info('note: no --oidc-issuer given; in a cluster the tenant\'s sidecars refuse to serve beyond loopback and every viewer is rejected until one is set (run tenant add again with --oidc-issuer and --oidc-audience). Apps on this machine (aerogrid serve --run local) are not affected.');
    });

  tenant
    .command('list')
    .description('list the tenants of the GitOps repo and the topics each may read')
    .addOption(flags.gitops())
    .addOption(flags.json('the tenants'))
    .action(async (opts: { gitops?: string; json?: boolean }) => {
      const { resolveGitopsRepo } = await import('../gitops/repo.js');
      const { listTenants } = await import('../gitops/tenants.js');
      const tenants = await listTenants(await resolveGitopsRepo(opts.gitops));
      if (opts.json) printJson(tenants);
      else if (tenants.length === 0) info('No tenants yet. Add one with `aerogrid tenant add <tenant> --topics <topics>`.');
      else for (const line of table(['TENANT', 'TOPICS', 'KAFKA'], tenants.map((t) => [t.tenant, t.topics.join(','), t.kafka]))) process.stdout.write(`${line}\n`);
    });
}
