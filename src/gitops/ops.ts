// stop, start, delete and rollback: each is one commit to the app's folder, pushed like a deploy.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CliError, ExitCode } from '../errors.js';
import { replicasPatch, REPLICAS_FILE } from '../render/app.js';
import { checkFolder } from '../render/check.js';
import { resolveApp, type AppRef } from './apps.js';
import { git, gitCommitEnv, GitError } from './git.js';
import { appDir } from '../repo-layout/folders.js';
import { cloneRepo, commitChange, pushWithRetry, type WorkingCopy } from './repo.js';

export interface OpResult extends AppRef {
  action: 'stop' | 'start' | 'delete' | 'rollback';
  commit: string;
  changed: boolean;
  reverted?: string;
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

/**
 * rollback: `git revert` of one change to the app (default: its latest), so history keeps both.
 * A revision that touched anything outside the app's folder is refused.
 */
export async function rollbackApp(repo: string, ref: string, tenant: string | undefined, revision?: string): Promise<OpResult> {
  const work = await cloneRepo(repo);
  try {
    // The app may be deleted already (rolling back the delete brings it back): accept TENANT/APP.
    const app = await resolveApp(work.dir, ref, tenant, { mustExist: false });
    const dir = appDir(app.tenant, app.app);
    let target: string;
    if (revision) {
      target = (await git(work.dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`]).catch(() => '')).trim();
      if (!target) throw new CliError(`Revision '${revision}' is not a commit of the GitOps repo.`, { exitCode: ExitCode.notFound, hint: `List the app's changes: aerogrid status ${app.tenant}/${app.app} --history` });
    } else {
      target = (await git(work.dir, ['log', '-1', '--format=%H', '--', dir])).trim();
      if (!target) throw new CliError(`${app.tenant}/${app.app} has no changes to roll back.`, { exitCode: ExitCode.notFound });
    }
    const touched = (await git(work.dir, ['diff-tree', '--no-commit-id', '--name-only', '-r', '--root', target, '--'])).split('\n').filter(Boolean);
    if (!touched.some((p) => p.startsWith(`${dir}/`))) {
      throw new CliError(`Commit ${target.slice(0, 12)} did not change ${app.tenant}/${app.app}.`, { exitCode: ExitCode.invalid, hint: `Pick one of the app's own changes: aerogrid status ${app.tenant}/${app.app} --history` });
    }
    const outside = touched.filter((p) => !p.startsWith(`${dir}/`));
    if (outside.length > 0) {
      throw new CliError(`Commit ${target.slice(0, 12)} also changed files outside ${dir} (${outside.slice(0, 3).join(', ')}); reverting it would change other apps.`, { exitCode: ExitCode.invalid, hint: 'Roll back a commit made by aerogrid deploy, stop or start for this app.' });
    }
    const subject = (await git(work.dir, ['log', '-1', '--format=%s', target, '--'])).trim();
    try {
      await git(work.dir, ['revert', '--no-commit', '--end-of-options', target], { env: await gitCommitEnv(work.dir) });
    } catch (error) {
      await git(work.dir, ['revert', '--abort']).catch(() => undefined);
      if (!(error instanceof GitError)) throw error;
      throw new CliError(`Cannot roll back ${target.slice(0, 12)} (${subject}): later changes to ${app.tenant}/${app.app} touch the same files.`, {
        exitCode: ExitCode.failure,
        hint: `Roll back the later changes first (aerogrid rollback ${app.tenant}/${app.app}, once per change), or deploy the version you want.`,
      });
    }
    if (existsSync(join(work.dir, dir, 'kustomization.yaml'))) await checkFolder(join(work.dir, dir), { namespace: app.tenant });
    const result = await land(work, app, 'rollback', `Roll back ${app.tenant}/${app.app}: revert "${subject}"`, { 'AeroGrid-Reverts': target });
    return { ...result, reverted: target };
  } finally {
    await work.dispose();
  }
}
