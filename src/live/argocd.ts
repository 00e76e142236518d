// Live state from Argo CD's API, when one is configured: AEROGRID_ARGOCD_URL and a token in
// AEROGRID_ARGOCD_TOKEN (or ARGOCD_AUTH_TOKEN). Applications are named <tenant>-<app> by the
// tenant's ApplicationSet.
import { CliError, ExitCode } from '../errors.js';

export interface ArgoConfig { url: string; token: string }

export interface ArgoAppStatus {
  sync: string;
  health: string;
  revision?: string;
  message?: string;
  /** Read through the Kubernetes API: why the cluster refuses the app's pods. */
  refused?: string;
}

export function argocdConfig(): ArgoConfig | undefined {
  const url = process.env.AEROGRID_ARGOCD_URL;
  if (!url) return undefined;
  const token = process.env.AEROGRID_ARGOCD_TOKEN || process.env.ARGOCD_AUTH_TOKEN;
  if (!token) {
    throw new CliError('AEROGRID_ARGOCD_URL is set but no Argo CD token is.', { exitCode: ExitCode.environment, hint: 'Set AEROGRID_ARGOCD_TOKEN (an Argo CD API token with read access to the tenant\'s project).' });
  }
  return { url: url.replace(/\/+$/, ''), token };
}

export async function argocdAppStatus(config: ArgoConfig, tenant: string, app: string): Promise<ArgoAppStatus | undefined> {
  let response: Response;
  try {
    response = await fetch(`${config.url}/api/v1/applications/${encodeURIComponent(`${tenant}-${app}`)}`, {
      headers: { authorization: `Bearer ${config.token}` },
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw new CliError(`Argo CD at ${config.url} is not reachable: ${(error as Error).message}`, { exitCode: ExitCode.environment, hint: 'Check AEROGRID_ARGOCD_URL, or unset it to use the local runner.' });
  }
  if (response.status === 404 || response.status === 403) return undefined;
  if (!response.ok) throw new CliError(`Argo CD answered HTTP ${response.status} for ${tenant}-${app}.`, { exitCode: ExitCode.environment, hint: response.status === 401 ? 'The Argo CD token is not valid: set a fresh AEROGRID_ARGOCD_TOKEN.' : 'See Argo CD\'s logs.' });
  const body = (await response.json()) as any;
  return {
    sync: body?.status?.sync?.status ?? 'Unknown',
    health: body?.status?.health?.status ?? 'Unknown',
    ...(body?.status?.sync?.revision ? { revision: body.status.sync.revision } : {}),
    ...(body?.status?.health?.message ? { message: body.status.health.message } : {}),
  };
}

/** Where Argo CD's view of the apps is read: its API, or its Application objects through the Kubernetes API. */
export interface ArgoSource {
  kind: 'argocd' | 'kubernetes';
  appStatus(tenant: string, app: string): Promise<ArgoAppStatus | undefined>;
}

export function argocdApiSource(): ArgoSource | undefined {
  const config = argocdConfig();
  return config ? { kind: 'argocd', appStatus: (tenant, app) => argocdAppStatus(config, tenant, app) } : undefined;
}

/** Argo CD's namespace, where its Applications live: $AEROGRID_ARGOCD_NAMESPACE, default argocd. */
export function argocdNamespace(env: NodeJS.ProcessEnv = process.env): string {
  return env.AEROGRID_ARGOCD_NAMESPACE || 'argocd';
}

/** The Application <tenant>-<app> as the Kubernetes API has it (kubeconfig or service account). */
export async function kubeArgoSource(): Promise<ArgoSource | undefined> {
  const { kubeTarget, kubeGet } = await import('./kube.js');
  const { appPodsRefused } = await import('./deployment.js');
  const target = kubeTarget();
  if (!target) return undefined;
  const namespace = argocdNamespace();
  return {
    kind: 'kubernetes',
    appStatus: async (tenant, app) => {
      const body = await kubeGet<any>(target, `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/applications/${encodeURIComponent(`${tenant}-${app}`)}`);
      if (!body) return undefined;
      const status = applicationStatus(body);
      const refused = status.health === 'Healthy' ? undefined : await appPodsRefused(target, tenant, app);
      return refused ? { ...status, refused } : status;
    },
  };
}

/** An Application object's sync and health, with the reason it is stuck when it is. */
export function applicationStatus(application: any): ArgoAppStatus {
  const status = application?.status ?? {};
  const operation = status.operationState;
  const failed = operation && (operation.phase === 'Failed' || operation.phase === 'Error') ? operation.message : undefined;
  const condition = (status.conditions ?? []).find((c: any) => /Error|Warning/.test(c.type ?? ''))?.message;
  const message = status.health?.message ?? failed ?? condition;
  return {
    sync: status.sync?.status ?? 'Unknown',
    health: status.health?.status ?? 'Unknown',
    ...(status.sync?.revision ? { revision: status.sync.revision } : {}),
    ...(message ? { message } : {}),
  };
}
