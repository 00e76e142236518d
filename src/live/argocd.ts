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
