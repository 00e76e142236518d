import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { info } from '../output.js';
import { addOidcFlags, flags } from '../cli/flags.js';
import type { ServeLocallyOptions } from '../directory/serve.js';

type ServeOptions = Omit<ServeLocallyOptions, 'pollMs' | 'log' | 'allowOrigins'> & { run?: string; poll: string; allowOrigin?: string[] };

export function register(program: Command): void {
  const command = program
    .command('serve')
    .description('run the apps of a GitOps repo on this machine, following every commit; serve the directory and web console')
    .addOption(flags.gitops())
    .option('--run <where>', 'where apps run: local (processes on this machine; a cluster runs them through Argo CD); required')
    .addOption(flags.broker())
    .option('--poll <ms>', 'how often to look for new commits', '500')
    .addOption(flags.port('the directory and web console'))
    .option('--host <host>', 'interface to listen on; anything but loopback needs auth', '127.0.0.1')
    .addOption(flags.allowOrigin());
  addOidcFlags(command);
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
the role developer may stop, start and delete. Without auth it listens on loopback only, and of
web pages only those served from this machine, or from an origin named with --allow-origin (an
Excel add-in hosted elsewhere, e.g. https://addins.example.com), may read.

Examples:
  $ aerogrid serve --run local                          the local GitOps repo, the local Kafka
  $ aerogrid serve --run local --gitops ~/gitops.git --broker 127.0.0.1:9092
  $ aerogrid serve --run local --allow-origin https://addins.example.com   a hosted add-in, auth off
  $ aerogrid serve --run local --host 0.0.0.0 --oidc-issuer https://acme.eu.auth0.com/ --oidc-audience https://aerogrid.acme.com`)
    .action(async (opts: ServeOptions) => {
      if (opts.run === undefined) {
        throw new CliError('serve needs --run: where the apps of the GitOps repo run.', { exitCode: ExitCode.usage, hint: 'aerogrid serve --run local (each app as processes on this machine; in a Kubernetes cluster Argo CD runs them instead, see docs/gitops.md)' });
      }
      if (opts.run !== 'local') {
        throw new CliError(`--run ${opts.run} is not supported.`, { exitCode: ExitCode.usage, hint: 'Use --run local on one machine; in a Kubernetes cluster Argo CD runs the apps (see docs/gitops.md).' });
      }
      const poll = Number(opts.poll);
      if (!Number.isInteger(poll) || poll < 50 || poll > 60_000) throw new CliError(`--poll must be a whole number of milliseconds from 50 to 60000, got '${opts.poll}'.`, { exitCode: ExitCode.usage });
      const { allowedOriginsFromFlags } = await import('../cli/flags.js');
      const { allowOrigin, ...rest } = opts;
      const allowOrigins = await allowedOriginsFromFlags(allowOrigin);
      const { ensurePortFree } = await import('../cli/ports.js');
      await ensurePortFree(opts.port, opts.host, 'the directory and web console');
      const { serveLocally } = await import('../directory/serve.js');
      await serveLocally({ ...rest, allowOrigins, pollMs: poll, log: info });
    });
}
