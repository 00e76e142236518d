// A deployed app as the page edits it: deploy its files (the same commit `aerogrid deploy` makes),
// read its code back from its GitOps folder, list its releases, and restore a deleted app from its
// last release (rollback's re-deploy of a release's folder).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { deploy } from '../gitops/deploy.js';
import { git } from '../gitops/git.js';
import { listApps } from '../gitops/apps.js';
import { appReleases, listReleases, rollbackApp, type Release } from '../gitops/releases.js';
import { cloneRepo } from '../gitops/repo.js';
import { CODE_DIR } from '../render/app.js';
import { appDir } from '../repo-layout/folders.js';
import { checkApp, checkTenant } from '../repo-layout/names.js';
import { ApiError } from './errors.js';
import { withConnectorFolder, type ConnectorFiles } from './files.js';
import { SPEC_FILE } from './limits.js';

export interface DeployAnswer { tenant: string; app: string; commit: string; changed: boolean; release: number | null }

/** Deploys the files as `aerogrid deploy` would from a folder holding them, with `trailers` (who asked). */
export async function deployFiles(repo: string, files: ConnectorFiles, trailers: Record<string, string>): Promise<DeployAnswer> {
  const { result } = await withConnectorFolder(files, async (dir) => {
    try {
      return await deploy({ dir, gitops: repo, trailers });
    } catch (error) {
      // The CLI's message names the folder it deployed from: the server's, not the user's.
      if (error instanceof CliError) {
        const hint = error.hint?.split(dir).join('.');
        throw new CliError(error.message.split(` in ${dir}`).join('').split(`${dir}/`).join('').split(dir).join('.'), { exitCode: error.exitCode, ...(hint ? { hint } : {}) });
      }
      throw error;
    }
  });
  const { releases } = await appReleases(repo, `${result.tenant}/${result.app}`);
  const release = releases.find((r) => r.commit === result.commit) ?? releases.at(-1);
  return { tenant: result.tenant, app: result.app, commit: result.commit, changed: result.changed, release: release?.number ?? null };
}

/** One clone of the GitOps repo, the app's names checked before any path is made of them. */
async function inClone<T>(repo: string, tenant: string, app: string, use: (root: string, folder: string) => Promise<T>): Promise<T> {
  checkTenant(tenant);
  checkApp(app);
  const work = await cloneRepo(repo);
  try {
    return await use(work.dir, appDir(tenant, app));
  } finally {
    await work.dispose();
  }
}

const missing = (tenant: string, app: string) => new ApiError(404, 'not_found', `no app '${tenant}/${app}'`);

export interface SourceAnswer { tenant: string; app: string; revision: string; release: number | null; deployed: boolean; files: Record<string, string> }

/**
 * The app's aerogrid.yaml and code as its GitOps folder holds them: today's (deployed apps), or
 * release `wanted`'s (any app with releases, deleted ones too).
 */
export function appSource(repo: string, tenant: string, app: string, wanted?: string): Promise<SourceAnswer> {
  return inClone(repo, tenant, app, async (root, folder) => {
    const deployed = existsSync(join(root, folder, 'kustomization.yaml'));
    const releases = await listReleases(root, { tenant, app });
    if (!deployed && releases.length === 0) throw missing(tenant, app);
    let commit: string;
    let release: Release | undefined;
    if (wanted !== undefined) {
      release = releases.find((r) => String(r.number) === wanted.replace(/^v/i, ''));
      if (!release) throw new ApiError(404, 'not_found', `${tenant}/${app} has no release '${wanted}' (its releases: 1 to ${releases.length})`);
      commit = release.commit;
    } else if (deployed) {
      commit = (await git(root, ['rev-parse', 'HEAD'])).trim();
      release = releases.at(-1);
    } else {
      throw new ApiError(404, 'not_found', `${tenant}/${app} is deleted; its last release is ${releases.at(-1)!.number}: ask for it (?release=${releases.at(-1)!.number}) or restore the app`);
    }
    const names = (await git(root, ['ls-tree', '--name-only', commit, '--', `${folder}/${CODE_DIR}/`])).split('\n').filter(Boolean);
    const files: Record<string, string> = { [SPEC_FILE]: await git(root, ['show', `${commit}:${folder}/${SPEC_FILE}`]) };
    for (const path of names) files[path.slice(`${folder}/${CODE_DIR}/`.length)] = await git(root, ['show', `${commit}:${path}`]);
    return { tenant, app, revision: commit, release: release?.number ?? null, deployed, files };
  });
}

/** The contract's ReleasesResponse: newest first; a deleted app's too. */
export async function releasesOf(repo: string, tenant: string, app: string): Promise<{ tenant: string; app: string; deleted: boolean; releases: Release[] }> {
  return inClone(repo, tenant, app, async (root, folder) => {
    const releases = await listReleases(root, { tenant, app });
    const deployed = existsSync(join(root, folder, 'kustomization.yaml'));
    if (!deployed && releases.length === 0) throw missing(tenant, app);
    return { tenant, app, deleted: !deployed, releases: releases.reverse() };
  });
}

/** A deleted app back as its last release had it: a rollback to that release, committed and pushed. */
export async function restoreApp(repo: string, tenant: string, app: string, trailers: Record<string, string>): Promise<{ tenant: string; app: string; commit: string; release: number }> {
  const last = await inClone(repo, tenant, app, async (root) => {
    const releases = await listReleases(root, { tenant, app });
    if ((await listApps(root)).some((a) => a.tenant === tenant && a.app === app)) {
      throw new ApiError(409, 'conflict', `${tenant}/${app} is deployed, so there is nothing to restore; roll it back to a release instead (POST /v1/apps/${tenant}/${app}/rollback?release=N)`);
    }
    if (releases.length === 0) throw missing(tenant, app);
    return releases.at(-1)!;
  });
  const result = await rollbackApp(repo, `${tenant}/${app}`, undefined, String(last.number), trailers);
  return { tenant, app, commit: result.commit, release: result.release };
}
