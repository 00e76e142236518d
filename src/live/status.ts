// `aerogrid status`: the desired state from the GitOps repo beside the live state, from Argo CD's
// API when configured, else from the local runner (its state file and the sidecars' probes), else
// from the cluster of the kubeconfig.
import { argocdApiSource, kubeArgoSource } from './argocd.js';
import { desiredApp, listApps, resolveApp, type DesiredApp } from '../gitops/apps.js';
import { git, isAncestor } from '../gitops/git.js';
import { appDir } from '../repo-layout/folders.js';
import { cloneRepo } from '../gitops/repo.js';
import { probeReady, readRunnerState } from './local-state.js';

export interface LiveState {
  /** argocd: Argo CD's API; kubernetes: its Applications through the Kubernetes API (kubeconfig). */
  source: 'argocd' | 'kubernetes' | 'local' | 'none';
  /** live: running the desired version and ready; stopped: not running, as desired. */
  /** `standby`: another instance of the app is its writer (docs/protocol.md §1). */
  state: 'live' | 'stopped' | 'starting' | 'standby' | 'outdated' | 'failed' | 'missing' | 'unknown';
  url?: string;
  runningCommit?: string;
  message?: string;
  sync?: string;
  health?: string;
}

export interface AppStatus extends DesiredApp {
  desired: 'running' | 'stopped';
  live: LiveState;
  history?: Array<{ commit: string; committedAt: string; subject: string }>;
}

export async function appStatuses(repo: string, options: { app?: string; tenant?: string; history?: boolean } = {}): Promise<AppStatus[]> {
  const work = await cloneRepo(repo);
  try {
    const refs = options.app ? [await resolveApp(work.dir, options.app, options.tenant)] : (await listApps(work.dir)).filter((r) => !options.tenant || r.tenant === options.tenant);
    // Argo CD's API when configured, else the local runner serving this repo, else the cluster of
    // the kubeconfig (Argo CD's Application objects).
    const api = argocdApiSource();
    const runner = api ? undefined : await readRunnerState();
    const argo = api ?? (runner && runner.repo === repo ? undefined : await kubeArgoSource());
    const statuses: AppStatus[] = [];
    for (const ref of refs) {
      const desired = await desiredApp(work.dir, ref);
      const wanted = desired.replicas > 0 ? 'running' : 'stopped';
      let live: LiveState;
      if (argo) {
        const s = await argo.appStatus(ref.tenant, ref.app);
        // Argo CD reports the repo's revision it synced; it holds this app's version when that
        // revision contains the app's last change (other apps' later commits do not matter).
        const current = !s?.revision || (await isAncestor(work.dir, desired.commit, s.revision));
        live = !s
          ? { source: argo.kind, state: 'missing', message: `Argo CD has no application ${ref.tenant}-${ref.app} (yet)` }
          : { source: argo.kind, state: s.sync === 'Synced' && !current ? 'outdated' : s.health === 'Healthy' && s.sync === 'Synced' ? (wanted === 'stopped' ? 'stopped' : 'live') : s.health === 'Degraded' || s.refused ? 'failed' : 'starting', sync: s.sync, health: s.health, ...(s.revision ? { runningCommit: s.revision } : {}), ...(s.refused ?? s.message ? { message: s.refused ?? s.message } : {}) };
      } else if (runner && runner.repo === repo) {
        const local = runner.apps[`${ref.tenant}/${ref.app}`];
        if (!local) live = { source: 'local', state: wanted === 'stopped' ? 'stopped' : 'starting', message: 'the local runner has not picked this version up yet' };
        else if (local.phase === 'stopped') live = { source: 'local', state: wanted === 'stopped' && local.commit === desired.commit ? 'stopped' : 'outdated', runningCommit: local.commit };
        else if (local.phase === 'failed') live = { source: 'local', state: 'failed', runningCommit: local.commit, ...(local.message ? { message: local.message } : {}) };
        else {
          const probe = local.url ? await probeReady(local.url) : { ready: false, message: 'starting' };
          live = {
            source: 'local',
            state: local.commit !== desired.commit ? 'outdated' : probe.ready ? 'live' : probe.state === 'standby' ? 'standby' : 'starting',
            runningCommit: local.commit,
            ...(local.url ? { url: local.url } : {}),
            ...(probe.message ? { message: probe.message } : {}),
          };
        }
      } else {
        live = { source: 'none', state: 'unknown', message: 'no Argo CD configured (AEROGRID_ARGOCD_URL), no kubeconfig (KUBECONFIG) and no local runner for this repo (aerogrid serve --run local)' };
      }
      const status: AppStatus = { ...desired, desired: wanted, live };
      if (options.history) {
        const log = await git(work.dir, ['log', '--format=%H%x00%cI%x00%s', '--', appDir(ref.tenant, ref.app)]);
        status.history = log.split('\n').filter(Boolean).map((line) => { const [commit = '', committedAt = '', subject = ''] = line.split('\0'); return { commit, committedAt, subject }; });
      }
      statuses.push(status);
    }
    return statuses;
  } finally {
    await work.dispose();
  }
}
