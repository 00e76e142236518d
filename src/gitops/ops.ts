// stop, start and delete: each is one commit to the app's folder, pushed like a deploy (rollback:
// releases.ts).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { replicasPatch, REPLICAS_FILE } from '../render/app.js';
import { checkFolder } from '../render/check.js';
import { resolveApp, type AppRef } from './apps.js';
import { git } from './git.js';
import { appDir } from '../repo-layout/folders.js';
import { cloneRepo, commitChange, pushWithRetry, type WorkingCopy } from './repo.js';

export interface OpResult extends AppRef {
  action: 'stop' | 'start' | 'delete' | 'rollback';
  commit: string;
  changed: boolean;
}

async function withApp<T>(repo: string, ref: string, tenant: string | undefined, fn: (work: WorkingCopy, app: AppRef) => Promise<T>): Promise<T> {
  const work = await cloneRepo(repo);
  try {
    return await fn(work, await resolveApp(work.dir, ref, tenant));
  } finally {
    await work.dispose();
  }
}

async function land(work: WorkingCopy, app: AppRef, action: OpResult['action'], subject: string, extra: Record<string, string> = {}): Promise<OpResult> {
  const commit = await commitChange(work, {
    paths: [appDir(app.tenant, app.app)],
    subject,
    trailers: { 'AeroGrid-App': `${app.tenant}/${app.app}`, 'AeroGrid-Action': action, ...extra },
  });
  if (!commit) return { ...app, action, commit: (await git(work.dir, ['rev-parse', 'HEAD'])).trim(), changed: false };
  const pushed = await pushWithRetry(work, {
    what: `the ${action} of ${app.tenant}/${app.app}`,
    conflictMessage: (other) => `Another change to ${app.tenant}/${app.app} landed at the same time (${other}).`,
  });
  return { ...app, action, commit: pushed.commit, changed: true };
}

/**
 * stop (0) and start (1): a one-line change to the app's replicas patch; start goes back to the
 * spec's replicas (2: a writer and a standby). `trailers`: more for the commit (who asked).
 */
export function setReplicas(repo: string, ref: string, tenant: string | undefined, replicas: number, trailers: Record<string, string> = {}): Promise<OpResult> {
  const action = replicas === 0 ? 'stop' : 'start';
  return withApp(repo, ref, tenant, async (work, app) => {
    const dir = appDir(app.tenant, app.app);
    const wanted = replicas === 0 ? 0 : Math.max(replicas, await specReplicas(join(work.dir, dir, 'aerogrid.yaml')));
    await writeFile(join(work.dir, dir, REPLICAS_FILE), replicasPatch(wanted));
    await checkFolder(join(work.dir, dir), { namespace: app.tenant });
    return land(work, app, action, `${action === 'stop' ? 'Stop' : 'Start'} ${app.tenant}/${app.app}`, trailers);
  });
}

/** `spec.replicas` of the app folder's copy of its aerogrid.yaml (1 when absent or unreadable). */
async function specReplicas(file: string): Promise<number> {
  try {
    const n = (parseYaml(await readFile(file, 'utf8')) as { spec?: { replicas?: unknown } } | null)?.spec?.replicas;
    return n === 2 ? 2 : 1;
  } catch {
    return 1;
  }
}

/** delete: the folder goes; Argo CD (or the local runner) prunes what it ran. */
export function deleteApp(repo: string, ref: string, tenant: string | undefined, trailers: Record<string, string> = {}): Promise<OpResult> {
  return withApp(repo, ref, tenant, async (work, app) => {
    await rm(join(work.dir, appDir(app.tenant, app.app)), { recursive: true, force: true });
    return land(work, app, 'delete', `Delete ${app.tenant}/${app.app}`, trailers);
  });
}
