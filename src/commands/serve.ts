import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli/errors.js';
import { info } from '../cli/output.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the apps of a GitOps repo on this machine, following every commit')
    .option('--gitops <repo>', 'the GitOps repo (URL or path; env AEROGRID_GITOPS; default: the local repo)')
    .requiredOption('--run <where>', 'where apps run: local (processes on this machine; a cluster runs them through Argo CD)')
    .option('--broker <host:port>', 'Kafka for the apps (env AEROGRID_BROKER; default: the local broker, started if needed)')
    .option('--poll <ms>', 'how often to look for new commits', '500')
    .addHelpText('after', `
The embedded runtime for one machine: one sidecar + Python runtime per running app, each on its
own loopback port. A deploy starts or updates the app, stop and delete stop it, start and rollback
do what their commit says. \`aerogrid status\`, \`aerogrid logs\` and \`aerogrid deploy --wait\` read
what it runs from $AEROGRID_HOME/serve/. Ctrl-C stops every app it started.

Examples:
  $ aerogrid serve --run local                          the local GitOps repo, the local Kafka
  $ aerogrid serve --run local --gitops ~/gitops.git --broker 127.0.0.1:9092`)
    .action(async (opts: { gitops?: string; run: string; broker?: string; poll: string }) => {
      if (opts.run !== 'local') {
        throw new CliError(`--run ${opts.run} is not supported.`, { exitCode: ExitCode.usage, hint: 'Use --run local on one machine; in a Kubernetes cluster Argo CD runs the apps (see docs/gitops.md).' });
      }
      const poll = Number(opts.poll);
      if (!Number.isInteger(poll) || poll < 50 || poll > 60_000) throw new CliError(`--poll must be a whole number of milliseconds from 50 to 60000, got '${opts.poll}'.`, { exitCode: ExitCode.usage });
      const { resolveGitopsRepo } = await import('../gitops/repo.js');
      const { resolveBroker } = await import('../kafka/resolve.js');
      const { startLocalRunner } = await import('../runner/local-runner.js');
      const { runUntilInterrupted } = await import('../local/interrupt.js');
      const repo = await resolveGitopsRepo(opts.gitops);
      const broker = await resolveBroker(opts.broker, (m) => info(m));
      const runner = await startLocalRunner({ repo, broker, pollMs: poll, log: info });
      info(`Serving ${repo} on this machine (Kafka ${broker}); reconciled ${runner.reconciled()?.slice(0, 12)}. Ctrl-C to stop.`);
      await runUntilInterrupted(runner);
    });
}
