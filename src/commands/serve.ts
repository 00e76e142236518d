import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { info } from '../output.js';
import { addOidcFlags, flags } from '../cli/flags.js';
import type { ServeLocallyOptions } from '../directory/serve.js';

type ServeOptions = Omit<ServeLocallyOptions, 'pollMs' | 'log' | 'allowOrigins'> & { run?: string; poll: string; allowOrigin?: string[]; platformHost?: string; argocdNamespace?: string };

export function register(program: Command): void {
  const command = program
    .command('serve')
    .description('run the apps of a GitOps repo on this machine, following every commit; serve the directory and web console')
    .addOption(flags.gitops())
    .option('--run <where>', 'where apps run: local (processes on this machine) or argocd (a cluster, through Argo CD: serve the directory only); required')
    .addOption(flags.broker())
    .option('--poll <ms>', 'how often to look for new commits', '500')
    .addOption(flags.port('the directory and web console'))
    .option('--host <host>', 'interface to listen on; anything but loopback needs auth', '127.0.0.1')
    .addOption(flags.allowOrigin())
    .option('--platform-host <host>', 'with --run argocd: the platform host the apps\' routes are under (default: platform init\'s)')
    .option('--argocd-namespace <ns>', 'with --run argocd: where Argo CD\'s Applications are (env AEROGRID_ARGOCD_NAMESPACE; default argocd)');
  addOidcFlags(command);
  command.addOption(flags.oidcClientId());
  command
    .addHelpText('after', `
The embedded runtime for one machine: one sidecar + Python runtime per running app, each on its
own port. A deploy starts or updates the app, stop and delete stop it, start and rollback do what
their commit says. \`aerogrid status\`, \`aerogrid logs\` and \`aerogrid deploy --wait\` read what it
runs from $AEROGRID_HOME/serve/. Ctrl-C stops every app it started. Each runtime runs in a
sandbox (bubblewrap, a cgroup with spec.resources; AEROGRID_SANDBOX=off runs them without).

It also serves, on --host:--port, the directory the Excel add-in asks for the apps
(GET /v1/apps, the watch /v1/apps/watch) and the web console at /. With --oidc-issuer and
--oidc-audience every request needs an access token: its tenant claim scopes what it sees,
the role developer may stop, start and delete; the console signs users in at that issuer as
the client --oidc-client-id (authorization code with PKCE, the console's URL as redirect URI).
Without auth it listens on loopback only, and of web pages only those served from this
machine, or from an origin named with --allow-origin (an Excel add-in hosted elsewhere, e.g.
https://addins.example.com), may read.

Examples:
  $ aerogrid serve --run local                          the local GitOps repo, the local Kafka
  $ aerogrid serve --run local --gitops ~/gitops.git --broker 127.0.0.1:9092
  $ aerogrid serve --run local --allow-origin https://addins.example.com   a hosted add-in, auth off
  $ aerogrid serve --run local --host 0.0.0.0 --oidc-issuer https://acme.eu.auth0.com/ --oidc-audience https://aerogrid.acme.com --oidc-client-id aerogrid-console
  $ aerogrid serve --run argocd --gitops git@github.com:acme/gitops.git     the directory of a cluster (KUBECONFIG)

With --run argocd nothing runs here: Argo CD runs the apps. The directory reads each app's Argo CD
Application and Deployment from the Kubernetes API (the kubeconfig, or the pod's service account
in the cluster) and hands out the apps' routes, https://<platform host>/apps/<tenant>/<app>/.`)
    .action(async (opts: ServeOptions) => {
      if (opts.run === undefined) {
        throw new CliError('serve needs --run: where the apps of the GitOps repo run.', { exitCode: ExitCode.usage, hint: 'aerogrid serve --run local (each app as processes on this machine), or --run argocd for the directory of a cluster where Argo CD runs them (see docs/gitops.md)' });
      }
      if (opts.run !== 'local' && opts.run !== 'argocd') {
        throw new CliError(`--run ${opts.run} is not supported.`, { exitCode: ExitCode.usage, hint: 'Use --run local on one machine, or --run argocd for the directory of a cluster where Argo CD runs the apps (see docs/gitops.md).' });
      }
      const poll = Number(opts.poll);
      if (!Number.isInteger(poll) || poll < 50 || poll > 60_000) throw new CliError(`--poll must be a whole number of milliseconds from 50 to 60000, got '${opts.poll}'.`, { exitCode: ExitCode.usage });
      const { ensurePortFree } = await import('../cli/ports.js');
      await ensurePortFree(opts.port, opts.host, 'the directory and web console');
      const { allowedOriginsFromFlags } = await import('../cli/flags.js');
      const { allowOrigin, platformHost, argocdNamespace, ...rest } = opts;
      rest.oidcClientId ??= process.env.AEROGRID_OIDC_CLIENT_ID;
      const allowOrigins = await allowedOriginsFromFlags(allowOrigin);
      if (opts.run === 'argocd') {
        const { serveInCluster } = await import('../directory/serve-cluster.js');
        const { broker: _broker, ...clusterOptions } = rest;
        await serveInCluster({ ...clusterOptions, pollMs: Math.max(poll, 1000), log: info, ...(platformHost ? { platformHost } : {}), ...(argocdNamespace ? { argocdNamespace } : {}) });
        return;
      }
      const { serveLocally } = await import('../directory/serve.js');
      await serveLocally({ ...rest, allowOrigins, pollMs: poll, log: info });
    });
}
