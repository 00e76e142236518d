// Releases: each deploy (and each rollback, which re-deploys an older release) of an app, read from
// the GitOps history; rollback re-deploys one release's folder content as a new commit.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { REPLICAS_FILE } from '../render/app.js';
import { checkFolder } from '../render/check.js';
import { appDir } from '../repo-layout/folders.js';
import { checkApp, checkTenant } from '../repo-layout/names.js';
import { resolveApp, trailer, type AppRef } from './apps.js';
import { git } from './git.js';
import { cloneRepo, commitChange, pushWithRetry } from './repo.js';
import type { OpResult } from './ops.js';

export interface Release {
  /** 1 for the app's first deploy, counting up. */
  number: number;
  /** The GitOps commit that made it. */
  commit: string;
  at: string;
  /** Who asked: the directory's requester when it made the change, else the commit's author. */
  by: string;
  action: 'deploy' | 'rollback';
  /** The connector repo's commit the code came from (a `-dirty` suffix: with uncommitted changes). */
  sourceCommit?: string;
  /** For a rollback: the release whose content it re-deployed. */
  rollbackTo?: number;
  subject: string;
}

const RELEASE_ACTIONS = new Set(['deploy', 'rollback']);

/** The releases of one app, oldest first. A rollback counts only when it re-deployed a release. */
export async function listReleases(root: string, ref: AppRef): Promise<Release[]> {
  const log = await git(root, ['log', '--reverse', '--format=%H%x00%cI%x00%an <%ae>%x00%s%x00%B%x1e', '--', appDir(ref.tenant, ref.app)]);
  const releases: Release[] = [];
  for (const entry of log.split('\x1e')) {
    const [commit = '', at = '', author = '', subject = '', body = ''] = entry.replace(/^\n/, '').split('\0');
    const action = trailer(body, 'AeroGrid-Action');
    if (!commit || !action || !RELEASE_ACTIONS.has(action) || trailer(body, 'AeroGrid-App') !== `${ref.tenant}/${ref.app}`) continue;
    const rollbackTo = trailer(body, 'AeroGrid-Rollback-To');
    if (action === 'rollback' && !rollbackTo) continue; // a revert of a stop or start: no code of its own
    const sourceCommit = trailer(body, 'AeroGrid-Source-Commit');
    releases.push({
      number: releases.length + 1, commit, at, by: trailer(body, 'AeroGrid-Requested-By') ?? author,
      action: action as Release['action'], subject,
      ...(sourceCommit ? { sourceCommit } : {}),
      ...(rollbackTo ? { rollbackTo: Number(rollbackTo) } : {}),
    });
  }
  return releases;
}

/**
 * `app`, `tenant/app` or `app` with --tenant, among the deployed apps and, when none is deployed
 * by that name, among the apps the history knows (a deleted app still has its releases).
 */
export async function resolveAppWithHistory(root: string, ref: string, tenantFlag?: string): Promise<AppRef> {
  try {
    return await resolveApp(root, ref, tenantFlag);
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== ExitCode.notFound) throw error;
    const [first, second] = ref.split('/');
    const tenant = second !== undefined ? checkTenant(first!) : tenantFlag ? checkTenant(tenantFlag) : undefined;
    const app = checkApp(second ?? first!);
    const touched = await git(root, ['log', '--format=', '--name-only', '--', `tenants/${tenant ?? '*'}/apps/${app}/kustomization.yaml`]);
    const tenants = [...new Set(touched.split('\n').filter(Boolean).map((p) => p.split('/')[1]!))].sort();
    if (tenants.length === 1) return { tenant: tenants[0]!, app };
    if (tenants.length > 1) {
      throw new CliError(`App '${app}' was deployed for several tenants: ${tenants.join(', ')}.`, { exitCode: ExitCode.usage, hint: `Name one: ${tenants.map((t) => `${t}/${app}`).join(' or ')}` });
    }
    throw error;
  }
}

/** A release by number (`3`, `v3`) or by its GitOps commit (full or abbreviated). */
function pickRelease(releases: Release[], wanted: string, key: string): Release {
  const number = /^v?(\d+)$/i.exec(wanted.trim())?.[1];
  const found = number !== undefined
    ? releases.find((r) => r.number === Number(number))
    : /^[0-9a-f]{4,40}$/i.test(wanted) ? releases.find((r) => r.commit.startsWith(wanted.toLowerCase())) : undefined;
  if (found) return found;
  throw new CliError(`${key} has no release '${wanted}' (its releases: 1 to ${releases.length}).`, {
    exitCode: ExitCode.notFound,
    hint: `List them: aerogrid releases ${key}`,
  });
}

export interface RollbackResult extends OpResult {
  /** The release whose content was re-deployed. */
  release: number;
}

/**
 * rollback: a new commit whose app folder is the folder of one release (default: the one before
 * the latest; for a deleted app, the latest). It changes the code, not the running state: a
 * stopped app stays stopped, a running one keeps running.
 */
export async function rollbackApp(repo: string, ref: string, tenant: string | undefined, wanted?: string, trailers: Record<string, string> = {}): Promise<RollbackResult> {
  const work = await cloneRepo(repo);
  try {
    const app = await resolveAppWithHistory(work.dir, ref, tenant);
    const key = `${app.tenant}/${app.app}`;
    const dir = appDir(app.tenant, app.app);
    const releases = await listReleases(work.dir, app);
    const deployed = existsSync(join(work.dir, dir, 'kustomization.yaml'));
    let target: Release | undefined;
    if (wanted) target = pickRelease(releases, wanted, key);
    else target = deployed ? releases.at(-2) : releases.at(-1);
    if (!target) {
      throw new CliError(`${key} has ${releases.length === 0 ? 'no releases' : 'only one release'}: there is nothing to roll back to.`, {
        exitCode: ExitCode.notFound,
        hint: releases.length === 0 ? 'Deploy it first: aerogrid deploy' : `Deploy the version you want with aerogrid deploy; aerogrid releases ${key} lists what there is.`,
      });
    }
    const replicas = deployed ? await readFile(join(work.dir, dir, REPLICAS_FILE), 'utf8').catch(() => undefined) : undefined;
    // The whole folder as the release had it (files added since go too), then today's replicas.
    await git(work.dir, ['rm', '-r', '-q', '--ignore-unmatch', '--', dir]);
    await git(work.dir, ['checkout', target.commit, '--', dir]);
    if (replicas !== undefined) await writeFile(join(work.dir, dir, REPLICAS_FILE), replicas);
    await checkFolder(join(work.dir, dir), { namespace: app.tenant });
    const commit = await commitChange(work, {
      paths: [dir],
      subject: `Roll back ${key} to release ${target.number}`,
      trailers: {
        'AeroGrid-App': key,
        'AeroGrid-Action': 'rollback',
        'AeroGrid-Rollback-To': String(target.number),
        'AeroGrid-Rollback-Commit': target.commit,
        ...(target.sourceCommit ? { 'AeroGrid-Source-Commit': target.sourceCommit } : {}),
        ...trailers,
      },
    });
    if (!commit) return { ...app, action: 'rollback', commit: (await git(work.dir, ['rev-parse', 'HEAD'])).trim(), changed: false, release: target.number };
    const pushed = await pushWithRetry(work, {
      what: `the rollback of ${key}`,
      conflictMessage: (other) => `Another change to ${key} landed at the same time (${other}).`,
    });
    return { ...app, action: 'rollback', commit: pushed.commit, changed: true, release: target.number };
  } finally {
    await work.dispose();
  }
}

/** `aerogrid releases`: the app and its releases, read from a fresh clone. */
export async function appReleases(repo: string, ref: string, tenant?: string): Promise<AppRef & { releases: Release[] }> {
  const work = await cloneRepo(repo);
  try {
    const app = await resolveAppWithHistory(work.dir, ref, tenant);
    return { ...app, releases: await listReleases(work.dir, app) };
  } finally {
    await work.dispose();
  }
}
