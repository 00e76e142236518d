// `aerogrid logs` for a cluster: kubectl logs of the app's Deployment, both containers prefixed.
import type { LogContainer } from '@aerogrid/protocol/console-api';
import { spawn } from 'node:child_process';
import { CliError, ExitCode } from '../errors.js';
import { checkApp, checkTenant } from '../repo-layout/names.js';

export interface KubectlLogsOptions {
  tenant: string;
  app: string;
  follow?: boolean;
  since?: string;
  /** Only the last N lines of each container (kubectl --tail). */
  tail?: number;
  container?: LogContainer;
  /** Whether a local runner runs (for the error message). */
  localRunner: boolean;
  /** Stops kubectl (a follow ends here); the promise then resolves with 0. */
  signal?: AbortSignal;
  /** Called once kubectl is past its start (first output, or running a while): later failures come as lines. */
  onCaughtUp?: () => void;
}

const UNREACHABLE = /connection refused|was refused|no such host|i\/o timeout|Unable to connect|couldn't get current server|no configuration has been provided|the server has asked for the client to provide credentials|dial tcp/i;
/** kubectl reports an unreachable cluster or a missing Deployment within this; past it, it is streaming. */
const START_GRACE_MS = 2000;

/** kubectl's lines (as `[pod/<pod>/<container>] text`) in batches; resolves to its exit code. */
export function kubectlLogs(options: KubectlLogsOptions, write: (lines: string[]) => void): Promise<number> {
  const args = ['logs', '--namespace', checkTenant(options.tenant), `deployment/${checkApp(options.app)}-connector`, '--prefix', '--request-timeout=10s'];
  args.push(...(options.container ? ['--container', options.container] : ['--all-containers']));
  if (options.follow) args.push('--follow');
  if (options.tail !== undefined) args.push(`--tail=${options.tail}`);
  if (options.since) args.push(/^\d+[smhd]$/.test(options.since) ? `--since=${options.since.endsWith('d') ? `${Number(options.since.slice(0, -1)) * 24}h` : options.since}` : `--since-time=${new Date(options.since).toISOString()}`);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return resolve(0);
    const child = spawn(process.env.AEROGRID_KUBECTL ?? 'kubectl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let rest = '';
    let caughtUp = false;
    const catchUp = () => {
      if (caughtUp) return;
      caughtUp = true;
      clearTimeout(grace);
      options.onCaughtUp?.();
    };
    const grace = setTimeout(catchUp, START_GRACE_MS);
    const stop = () => child.kill();
    options.signal?.addEventListener('abort', stop, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      if (lines.length) write(lines);
      catchUp();
    });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', (error) => {
      clearTimeout(grace);
      options.signal?.removeEventListener('abort', stop);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') reject(neither(options, 'kubectl is not installed'));
      else reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(grace);
      options.signal?.removeEventListener('abort', stop);
      if (rest) write([rest]);
      if (code === 0 || options.signal?.aborted) return resolve(0);
      const message = stderr.trim().split('\n').pop() ?? '';
      if (UNREACHABLE.test(stderr)) return reject(neither(options, `the cluster is not reachable (${message})`));
      if (/NotFound|not found/.test(stderr)) return reject(new CliError(`${options.tenant}/${options.app} has no Deployment in the cluster: ${message}`, { exitCode: ExitCode.notFound, hint: `Check that Argo CD synced it: aerogrid status ${options.tenant}/${options.app}` }));
      reject(new CliError(`kubectl logs failed: ${message}`, { exitCode: ExitCode.failure }));
    });
  });
}

function neither(options: KubectlLogsOptions, why: string): CliError {
  return new CliError(`No logs for ${options.tenant}/${options.app}: ${options.localRunner ? 'the local runner does not run it' : 'no local runner runs on this machine'}, and ${why}.`, {
    exitCode: ExitCode.environment,
    hint: 'On one machine, run the apps with `aerogrid serve --run local`; for a cluster, point kubectl at it (KUBECONFIG or kubectl config use-context).',
  });
}
