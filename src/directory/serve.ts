// The directory as `aerogrid serve` runs it: the apps of the local runner, their sidecars probed,
// and stop/start/delete/rollback committed to the GitOps repo exactly as the CLI commands do; and
// serveLocally, the whole of `aerogrid serve --run local` (runner and directory, until Ctrl-C).
import type { AuthOptions } from '@aerogrid/sidecar/auth';
import { consoleConfig } from '../console/hosting.js';
import { serveAuth } from './serve-auth.js';
import { createAccess, type Principal } from './access.js';
import { requestedBy } from '../console-api/access.js';
import { startDirectoryServer, type AppAction } from './server.js';
import type { AddinHosting } from './addin-hosting.js';
import type { LogPlace } from '../live/logs.js';
import { startDirectory, type AppSource, type DirectoryOptions } from './state.js';

export interface ServeDirectoryOptions {
  runner: AppSource;
  /** The GitOps repo the actions commit to. */
  repo: string;
  /** The Kafka the apps read (a console try may sample a topic from it). */
  broker?: string;
  host: string;
  port: number;
  auth?: AuthOptions;
  /** With auth off: origins besides loopback whose pages may read (a hosted add-in). */
  allowOrigins?: string[];
  log?: (line: string) => void;
  /** How an app of the source shows (the cluster's view: --run argocd). */
  toApp?: DirectoryOptions['toApp'];
  addin?: AddinHosting;
  /** The OIDC client the console signs users in as (with auth on). */
  oidcClientId?: string;
}

export async function serveDirectory(options: ServeDirectoryOptions): Promise<{ url: string; close(): Promise<void> }> {
  const directory = startDirectory(options.runner, { log: options.log, ...(options.toApp ? { toApp: options.toApp } : {}) });
  const access = createAccess(options.auth);
  const act = async (action: AppAction, tenant: string, name: string, principal: Principal | null, release?: string) => {
    const ops = await import('../gitops/ops.js');
    const ref = `${tenant}/${name}`;
    const by = requestedBy(principal);
    if (action === 'rollback') return (await import('../gitops/releases.js')).rollbackApp(options.repo, ref, undefined, release, by);
    return action === 'delete' ? ops.deleteApp(options.repo, ref, undefined, by) : ops.setReplicas(options.repo, ref, undefined, action === 'stop' ? 0 : 1, by);
  };
  try {
    const { logFileOf } = await import('../live/local-state.js');
    // An app's lines: its runner's log file where this machine runs it, else the cluster's (kubectl).
    const logs = (tenant: string, app: string): LogPlace | undefined => {
      const item = options.runner.apps().find((i) => i.desired.tenant === tenant && i.desired.app === app);
      if (!item) return undefined;
      if (item.state?.logFile) return { logFile: item.state.logFile };
      return 'cluster' in item ? { cluster: { localRunner: false } } : { logFile: logFileOf(tenant, app) };
    };
    const consoleApi = (await import('../console-api/routes.js')).createConsoleApi({ repo: options.repo, logs, ...(options.broker ? { broker: options.broker } : {}) });
    const server = await startDirectoryServer({ host: options.host, port: options.port, directory, access, act, consoleApi, allowOrigins: options.allowOrigins, log: options.log, console: consoleConfig(options.auth, options.oidcClientId), ...(options.addin ? { addin: options.addin } : {}) });
    return {
      url: server.url,
      close: async () => {
        await server.close();
        directory.close();
        access.close();
      },
    };
  } catch (error) {
    directory.close();
    access.close();
    throw error;
  }
}

export interface ServeLocallyOptions {
  gitops?: string;
  broker?: string;
  pollMs: number;
  port: number;
  host: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  jwksUri?: string;
  tenantClaim?: string;
  oidcClientId?: string;
  allowOrigins?: string[];
  log: (line: string) => void;
}

/**
 * `aerogrid serve --run local`: the local runner reconciling the GitOps repo to processes on this
 * machine, and the directory and console in front of it, until Ctrl-C.
 */
export async function serveLocally(options: ServeLocallyOptions): Promise<void> {
  const { auth, notice: authNotice } = await serveAuth(options);
  const { resolveGitopsRepo } = await import('../gitops/repo.js');
  const { resolveBroker } = await import('../local-kafka/resolve.js');
  const { startLocalRunner } = await import('../runner/local-runner.js');
  const { runUntilInterrupted } = await import('../runner/interrupt.js');
  const repo = await resolveGitopsRepo(options.gitops);
  const broker = await resolveBroker(options.broker, (m) => options.log(m));
  const runner = await startLocalRunner({ repo, broker, pollMs: options.pollMs, log: options.log, host: options.host, auth });
  let directory: Awaited<ReturnType<typeof serveDirectory>>;
  try {
    directory = await serveDirectory({ runner, repo, broker, host: options.host, port: options.port, auth, allowOrigins: options.allowOrigins, log: options.log, oidcClientId: options.oidcClientId });
  } catch (error) {
    await runner.stop();
    throw error;
  }
  options.log(authNotice);
  options.log(`Directory and console: ${directory.url}/`);
  options.log(`Serving ${repo} on this machine (Kafka ${broker}); reconciled ${runner.reconciled()?.slice(0, 12)}. Ctrl-C to stop.`);
  await runUntilInterrupted(runner, () => directory.close());
}
