// The directory in a cluster (`aerogrid serve --run argocd`): the apps of the GitOps repo (a clone
// kept at main) beside their live state from the Kubernetes API, read-only: each app's Argo CD
// Application (sync, health) and Deployment (availability). The URLs it hands out are the apps'
// routes under the platform host, never a cluster-internal address. A Deployment is Available
// only when its pods pass the sidecar's /readyz readiness probe, so "ready" is the sidecar's own
// answer as the kubelet reads it through the pod.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DirectoryApp } from '@aerogrid/protocol/directory-messages';
import { aerogridHome } from '../paths.js';
import { git } from '../gitops/git.js';
import { BRANCH } from '../gitops/repo.js';
import { desiredLocalApps, type DesiredLocalApp } from '../runner/desired.js';
import { applicationStatus, type ArgoAppStatus } from '../live/argocd.js';
import { kubeGet, type KubeTarget } from '../live/kube.js';
import { APP_DEPLOYMENTS, refusedPods } from '../live/deployment.js';
import { appPublicUrls } from '../render/route.js';
import { appEntry, wantedState, type LiveEntry } from './app.js';
import type { LiveLocalApp } from '../runner/local-runner.js';

export interface ClusterLive {
  application?: ArgoAppStatus;
  deployment?: { replicas: number; available: number; updated: number; current: boolean; refused?: string };
}

export interface ClusterApp extends LiveLocalApp { cluster: ClusterLive }

export interface ClusterSourceOptions {
  repo: string;
  kube: KubeTarget;
  argocdNamespace: string;
  pollMs: number;
  log?: (line: string) => void;
}

export interface ClusterSource {
  apps(): ClusterApp[];
  onChange(listener: () => void): () => void;
  /** The GitOps commit last read. */
  reconciled(): string | undefined;
  close(): Promise<void>;
}

const key = (tenant: string, app: string) => `${tenant}/${app}`;

export async function startClusterSource(options: ClusterSourceOptions): Promise<ClusterSource> {
  const checkout = join(aerogridHome(), 'serve-cluster', 'checkout');
  await rm(checkout, { recursive: true, force: true });
  await mkdir(dirname(checkout), { recursive: true });
  await git(dirname(checkout), ['clone', '--quiet', '--branch', BRANCH, '--single-branch', '--no-tags', '--', options.repo, checkout]);
  let desired: DesiredLocalApp[] = [];
  let live = new Map<string, ClusterLive>();
  let head: string | undefined;
  let json = '';
  let closed = false;
  let lastError = '';
  const listeners = new Set<() => void>();

  const readDesired = async () => {
    await git(checkout, ['fetch', '--quiet', 'origin', BRANCH]);
    const tip = (await git(checkout, ['rev-parse', `origin/${BRANCH}`])).trim();
    if (tip !== head) {
      await git(checkout, ['reset', '--quiet', '--hard', tip]);
      desired = await desiredLocalApps(checkout);
      head = tip;
    }
  };

  const readLive = async () => {
    const [applications, deployments] = await Promise.all([
      kubeGet<any>(options.kube, `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(options.argocdNamespace)}/applications?labelSelector=${encodeURIComponent('aerogrid.dev/tenant')}`),
      kubeGet<any>(options.kube, `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(APP_DEPLOYMENTS)}`),
    ]);
    const next = new Map<string, ClusterLive>();
    const entry = (k: string) => next.get(k) ?? (next.set(k, {}), next.get(k)!);
    for (const a of applications?.items ?? []) {
      const labels = a.metadata?.labels ?? {};
      if (labels['aerogrid.dev/tenant'] && labels['aerogrid.dev/app']) entry(key(labels['aerogrid.dev/tenant'], labels['aerogrid.dev/app'])).application = applicationStatus(a);
    }
    for (const d of deployments?.items ?? []) {
      const labels = d.metadata?.labels ?? {};
      const tenant = labels['aerogrid.dev/tenant'] ?? d.metadata?.namespace;
      const s = d.status ?? {};
      const refused = refusedPods(d);
      entry(key(tenant, labels['aerogrid.dev/app'])).deployment = {
        replicas: d.spec?.replicas ?? 1,
        available: s.availableReplicas ?? 0,
        updated: s.updatedReplicas ?? 0,
        current: (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0),
        ...(refused ? { refused } : {}),
      };
    }
    live = next;
  };

  const tick = async () => {
    try {
      await readDesired();
      await readLive();
      if (lastError) options.log?.('[directory] the GitOps repo and the Kubernetes API answer again');
      lastError = '';
    } catch (error) {
      const message = (error as Error).message;
      if (message !== lastError) options.log?.(`[directory] cannot read the apps' state: ${message}`);
      lastError = message;
      return;
    }
    const now = JSON.stringify([head, desired.map((d) => [d.key, d.tree]), [...live]]);
    if (now === json) return;
    json = now;
    for (const listener of listeners) listener();
  };

  await tick();
  let running = false;
  const timer = setInterval(() => {
    if (running || closed) return;
    running = true;
    void tick().finally(() => { running = false; });
  }, options.pollMs);

  return {
    apps: () => desired.map((d) => ({ desired: d, cluster: live.get(d.key) ?? {} })),
    onChange: (listener) => { listeners.add(listener); return () => listeners.delete(listener); },
    reconciled: () => head,
    close: async () => {
      closed = true;
      clearInterval(timer);
      listeners.clear();
      options.kube.agent.destroy();
      await rm(checkout, { recursive: true, force: true });
    },
  };
}

/** One app as the directory shows it in a cluster: Argo CD's and the Deployment's view, the public route. */
export function clusterDirectoryApp(item: ClusterApp, platformHost: string): DirectoryApp {
  const { desired } = item;
  const { application: a, deployment: d } = item.cluster;
  const wanted = wantedState(desired);
  const off = { url: null, ws: null, ready: false, stale_since: null };
  const now: LiveEntry =
    desired.problem ? { ...off, status: 'failing', message: desired.problem }
    : !a ? { ...off, status: wanted === 'running' ? 'starting' : 'stopped', message: 'Argo CD has no application for it yet' }
    : a.health === 'Degraded' || (a.sync !== 'Synced' && a.message && /fail|error|forbidden|denied|violates/i.test(a.message))
      ? { ...off, status: 'failing', message: a.message ?? `Argo CD reports ${a.health}` }
    : wanted === 'stopped' ? { ...off, status: 'stopped', message: d && d.available > 0 ? 'stopping' : null }
    : d && d.current && d.available >= 1 && d.updated >= d.replicas && a.sync === 'Synced'
      ? { ...appPublicUrls(platformHost, desired.tenant, desired.app), status: 'running', message: d.refused ? `the cluster refuses some of its pods: ${d.refused}` : null, ready: true, stale_since: null }
    : d?.refused ? { ...off, status: 'failing', message: `the cluster refuses its pods: ${d.refused}` }
    : { ...off, status: 'starting', message: `sync ${a.sync}, health ${a.health}${d ? `, ${d.available}/${d.replicas} available` : ', no Deployment yet'}` };
  return appEntry(desired, now);
}
