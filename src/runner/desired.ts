// The desired state of a GitOps repo checkout for the local runner: per app, its folder's tree
// (the version identity: any change to code, spec or replicas changes it) and its replicas.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAppSpec } from '../connector/deployable.js';
import { listApps } from '../gitops/apps.js';
import { git } from '../gitops/git.js';
import { listTenantsIn } from '../gitops/tenants.js';
import { appDir, platformTenantDir } from '../repo-layout/folders.js';
import { readContainerLimits, resourcesOverLimits, type ResourceLimits } from '../repo-layout/limits.js';
import { DEFAULTS } from '../app-spec/types.js';
import { topicAllowed } from '@aerogrid/protocol/names';
import { parseReplicas, REPLICAS_FILE } from '../render/app.js';
import { retentionMs } from '@aerogrid/protocol/environment';

export interface DesiredLocalApp {
  key: string;
  tenant: string;
  app: string;
  /** git tree id of the app's folder at the reconciled commit. */
  tree: string;
  /** The last commit that changed the folder (what `aerogrid status` calls the desired commit). */
  commit: string;
  replicas: number;
  entrypoint: string;
  /** The spec's dead-letter policy and topic (absent when the folder cannot run). */
  deadLetter?: { policy: 'dlq' | 'stop'; topic: string; retentionMs?: number };
  /** The spec's grids (empty when the folder cannot run): what the directory lists before the app runs. */
  grids: Array<{ name: string; columns: string[] }>;
  /** spec.access.groups: who of the tenant may read the grids (empty: everyone of the tenant). */
  viewerGroups: string[];
  /** The tenant's topic allowance (its tenant.yaml): all its sidecar lets the runtime declare. */
  allowedTopics: string[];
  /** spec.resources: the runtime's sandbox limits. */
  resources: ResourceLimits;
  /** Folder of the checkout holding the code (code/) and aerogrid.yaml. */
  dir: string;
  /** Why the folder cannot run, when it cannot. */
  problem?: string;
}

/**
 * The apps of a checkout, each with what stops it from running here: like Argo CD's AppProjects in
 * the cluster, only apps of onboarded tenants (platform/tenants/<tenant>/tenant.yaml) run, within the
 * tenant's topics and the LimitRange, whoever pushed the folder.
 */
export async function desiredLocalApps(checkout: string): Promise<DesiredLocalApp[]> {
  const apps: DesiredLocalApp[] = [];
  const tenants = new Map((await listTenantsIn(checkout)).map((t) => [t.tenant, t]));
  const limits = await readContainerLimits(checkout);
  for (const ref of await listApps(checkout)) {
    const folder = appDir(ref.tenant, ref.app);
    const dir = join(checkout, folder);
    const [tree, commit, replicasText] = await Promise.all([
      git(checkout, ['rev-parse', `HEAD:${folder}`]).then((s) => s.trim()),
      git(checkout, ['log', '-1', '--format=%H', '--', folder]).then((s) => s.trim()),
      readFile(join(dir, REPLICAS_FILE), 'utf8').catch(() => ''),
    ]);
    const tenant = tenants.get(ref.tenant);
    const base = {
      key: `${ref.tenant}/${ref.app}`, ...ref, tree, commit, replicas: parseReplicas(replicasText) ?? 1, dir, grids: [], viewerGroups: [],
      allowedTopics: tenant?.topics ?? [], resources: { cpu: DEFAULTS.cpu, memory: DEFAULTS.memory },
    };
    try {
      if (!tenant) throw new Error(`${folder} is refused: tenant '${ref.tenant}' is not onboarded (no ${platformTenantDir(ref.tenant)}/tenant.yaml); an admin onboards it with \`aerogrid tenant add ${ref.tenant} --topics ...\``);
      const spec = await parseAppSpec(await readFile(join(dir, 'aerogrid.yaml'), 'utf8'), dir);
      if (spec.name !== ref.app || spec.tenant !== ref.tenant) throw new Error(`aerogrid.yaml names ${spec.tenant}/${spec.name}, not ${ref.tenant}/${ref.app}`);
      const denied = spec.topics.filter((t) => !topicAllowed(t, tenant.topics));
      if (denied.length) throw new Error(`${folder} is refused: tenant '${ref.tenant}' may not read ${denied.map((t) => `'${t}'`).join(', ')} (it may read: ${tenant.topics.join(', ')})`);
      const over = limits ? resourcesOverLimits(spec.resources, limits) : [];
      if (over.length) throw new Error(`${folder} is refused: ${over.join('; ')} (the tenant's LimitRange allows cpu ${limits!.cpu}, memory ${limits!.memory})`);
      apps.push({
        ...base,
        entrypoint: spec.entrypoint,
        deadLetter: { policy: spec.deadLetter.policy, topic: spec.deadLetter.topic, retentionMs: retentionMs(spec.deadLetter.retention) ?? undefined },
        grids: spec.grids.map((g) => ({ name: g.name, columns: [...(g.columns ?? [])] })),
        viewerGroups: [...spec.access.groups],
        resources: { ...spec.resources },
      });
    } catch (error) {
      apps.push({ ...base, entrypoint: 'app.py', problem: (error as Error).message });
    }
  }
  return apps;
}
