// `deploy --wait`: until the deployed commit is live, from Argo CD's API when configured, else
// from the local runner, else from the cluster of the kubeconfig. Fails with the last status seen, so the user knows where it got stuck.
import { CliError, ExitCode } from '../errors.js';
import { probeReady, readRunnerState } from './local-state.js';
import { argocdApiSource, kubeArgoSource, type ArgoSource } from './argocd.js';
import { git, isAncestor } from '../gitops/git.js';
import { cloneRepo, BRANCH, type WorkingCopy } from '../gitops/repo.js';

export interface WaitOptions {
  repo: string;
  tenant: string;
  app: string;
  commit: string;
  timeoutMs: number;
  onProgress?: (message: string) => void;
}

export interface Live { source: 'argocd' | 'kubernetes' | 'local'; url?: string; waitedMs: number }

/** How long to wait for a local runner to show up before saying none runs. */
const NO_RUNNER_GRACE_MS = 3000;

export async function waitUntilLive(options: WaitOptions): Promise<Live> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const key = `${options.tenant}/${options.app}`;
  // Argo CD's API when configured; else the local runner, or, when none serves this repo, the
  // cluster of the kubeconfig (Argo CD's Application objects).
  let argo: ArgoSource | undefined = argocdApiSource();
  const runnerAtStart = argo ? undefined : await readRunnerState();
  if (!argo && !(runnerAtStart && runnerAtStart.repo === options.repo)) argo = await kubeArgoSource();
  let last = 'nothing seen yet';
  let said = '';
  const say = (message: string) => { last = message; if (message !== said) { said = message; options.onProgress?.(`${key}: ${message}`); } };
  // Argo CD reports the repo revision it synced, which may be a later commit (another app's)
  // than ours: a clone tells whether it contains ours.
  let history: WorkingCopy | undefined;
  const contains = async (revision: string) => {
    if (revision === options.commit) return true;
    history ??= await cloneRepo(options.repo);
    await git(history.dir, ['fetch', '--quiet', 'origin', BRANCH]).catch(() => undefined);
    return isAncestor(history.dir, options.commit, revision);
  };
  try {
    return await poll();
  } finally {
    await history?.dispose();
  }

  async function poll(): Promise<Live> {
    for (;;) {
      if (argo) {
        const s = await argo.appStatus(options.tenant, options.app);
        if (!s) say('Argo CD has no application for it yet');
        else if (s.revision && !(await contains(s.revision))) say(`Argo CD is at ${s.revision.slice(0, 12)}, not yet at ${options.commit.slice(0, 12)} (${s.sync})`);
        else if (s.sync === 'Synced' && s.health === 'Healthy') return { source: argo.kind, waitedMs: Date.now() - started };
        else if (s.refused) {
          throw new CliError(`${key} was committed (${options.commit.slice(0, 12)}), but the cluster refused pods of ${key}: ${s.refused}`, {
            exitCode: ExitCode.failure,
            hint: /quota/i.test(s.refused)
              ? `The tenant's quota is used up: stop or delete another of its apps (aerogrid status --tenant ${options.tenant}), ask for fewer resources or replicas, or ask an admin for a larger quota. The commit stays; Kubernetes starts the pods once they fit.`
              : `Fix what the message names and deploy again, or roll back: aerogrid rollback ${key}`,
          });
        }
        else say(`sync ${s.sync}, health ${s.health}${s.message ? `: ${s.message}` : ''}`);
      } else {
        const runner = await readRunnerState();
        if (!runner || runner.repo !== options.repo) {
          if (Date.now() - started > NO_RUNNER_GRACE_MS) {
            throw new CliError(`${key} was committed, but nothing runs the GitOps repo ${options.repo} on this machine, and no Argo CD is configured.`, {
              exitCode: ExitCode.environment,
              hint: `Start the local runner (aerogrid serve --run local --gitops ${options.repo}); for a cluster, set KUBECONFIG (or AEROGRID_ARGOCD_URL and AEROGRID_ARGOCD_TOKEN).`,
            });
          }
          say('waiting for the local runner');
        } else {
          const local = runner.apps[key];
          if (!local || local.commit !== options.commit) say(`the local runner has not picked up ${options.commit.slice(0, 12)} yet`);
          else if (local.phase === 'failed') say(`failed: ${local.message ?? 'see aerogrid logs'}`);
          else if (local.phase === 'stopped') say('stopped (replicas 0)');
          else if (local.url) {
            const probe = await probeReady(local.url);
            if (probe.ready) return { source: 'local', url: local.url, waitedMs: Date.now() - started };
            say(`starting${probe.message ? `: ${probe.message}` : ''}`);
          } else say('starting');
        }
      }
      if (Date.now() > deadline) {
        throw new CliError(`${key} was committed (${options.commit.slice(0, 12)}) but is not live after ${Math.round(options.timeoutMs / 1000)} s; last status: ${last}.`, {
          exitCode: ExitCode.failure,
          hint: `See what it prints: aerogrid logs ${key}. The commit stays; fix and deploy again, or roll it back: aerogrid rollback ${key}`,
        });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
