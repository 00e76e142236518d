// What the Kubernetes API says of an app's Deployment that Argo CD's health does not: that the
// cluster refuses its pods (the tenant's quota used up, a LimitRange, Pod Security admission).
// The Deployment controller copies a ReplicaSet's FailedCreate into the Deployment's ReplicaFailure
// condition; Argo CD keeps reporting Progressing until the 600 s progress deadline.
import { kubeGet, type KubeTarget } from './kube.js';

/** The selector of every app's Deployment, as the connector base labels it. */
export const APP_DEPLOYMENTS = 'app.kubernetes.io/part-of=aerogrid,aerogrid.dev/app';

/** Why the cluster refuses the Deployment's pods, or undefined. */
export function refusedPods(deployment: any): string | undefined {
  const failure = (deployment?.status?.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure' && c.status === 'True');
  return failure ? String(failure.message ?? failure.reason ?? 'ReplicaFailure') : undefined;
}

/** refusedPods of the app's Deployment in the tenant's namespace (undefined when it cannot be read). */
export async function appPodsRefused(target: KubeTarget, tenant: string, app: string): Promise<string | undefined> {
  const selector = `${APP_DEPLOYMENTS}=${app}`;
  const list = await kubeGet<any>(target, `/apis/apps/v1/namespaces/${encodeURIComponent(tenant)}/deployments?labelSelector=${encodeURIComponent(selector)}`).catch(() => undefined);
  for (const d of list?.items ?? []) {
    const refused = refusedPods(d);
    if (refused) return refused;
  }
  return undefined;
}
