// `aerogrid serve --run argocd`: the directory and console as a platform component in the cluster
// (platform/system/directory.yaml), or anywhere with a kubeconfig. Argo CD runs the apps; this
// reads their state from the Kubernetes API and commits stop/start/delete to the GitOps repo.
import { CliError, ExitCode } from '../errors.js';
import { checkHost } from '../platform/host.js';
import { serveAuth } from './serve-auth.js';
import { clusterDirectoryApp, startClusterSource, type ClusterApp } from './cluster.js';
import { serveDirectory } from './serve.js';
import { hostAddin } from './addin-hosting.js';

export interface ServeInClusterOptions {
  gitops?: string;
  pollMs: number;
  port: number;
  host: string;
  /** The platform host the apps' routes are under; default: the GitOps repo's platform.yaml. */
  platformHost?: string;
  argocdNamespace?: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  oidcClientId?: string;
  jwksUri?: string;
  tenantClaim?: string;
  log: (line: string) => void;
}

export async function serveInCluster(options: ServeInClusterOptions): Promise<void> {
  const { auth, notice: authNotice } = await serveAuth(options);
  const { kubeTarget } = await import('../live/kube.js');
  const kube = kubeTarget();
  if (!kube) {
    throw new CliError('--run argocd reads the apps\' state from the Kubernetes API, but there is no kubeconfig and no service account.', {
      exitCode: ExitCode.environment,
      hint: 'Run it in the cluster (platform/system/directory.yaml), or point KUBECONFIG at the cluster.',
    });
  }
  const { resolveGitopsRepo, cloneRepo } = await import('../gitops/repo.js');
  const { readPlatform } = await import('../gitops/platform-record.js');
  const { argocdNamespace } = await import('../live/argocd.js');
  const repo = await resolveGitopsRepo(options.gitops);
  let platformHost = options.platformHost;
  if (!platformHost) {
    const work = await cloneRepo(repo);
    try {
      platformHost = (await readPlatform(work.dir))?.host;
    } finally {
      await work.dispose();
    }
  }
  if (!platformHost) {
    throw new CliError(`The directory hands out the apps' routes under the platform host, but ${repo} has no platform/platform.yaml and no --platform-host was given.`, {
      exitCode: ExitCode.usage,
      hint: `Run aerogrid platform init --host <host> --gitops ${repo} once, or pass --platform-host aerogrid.example.com`,
    });
  }
  const host = checkHost(platformHost);
  const source = await startClusterSource({ repo, kube, argocdNamespace: options.argocdNamespace ?? argocdNamespace(), pollMs: options.pollMs, log: options.log });
  let directory: Awaited<ReturnType<typeof serveDirectory>>;
  try {
    directory = await serveDirectory({ runner: source, repo, host: options.host, port: options.port, auth, log: options.log, oidcClientId: options.oidcClientId, toApp: (item) => clusterDirectoryApp(item as ClusterApp, host), addin: hostAddin(host) });
  } catch (error) {
    await source.close();
    throw error;
  }
  options.log(authNotice);
  options.log(`Directory and console: ${directory.url}/`);
  options.log(`Serving ${repo} from the cluster at ${kube.server} (Argo CD in ${options.argocdNamespace ?? argocdNamespace()}); apps at https://${host}/apps/<tenant>/<app>/, the add-in at https://${host}/addin/; read ${source.reconciled()?.slice(0, 12)}. Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    const stop = () => { void directory.close().then(() => source.close()).then(resolve); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
