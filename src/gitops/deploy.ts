// `aerogrid deploy`: validate, render, check, then commit only the app's folder to the GitOps repo
// and push it (or open a pull request). Every step before the push is local and cheap.
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { collectCode, renderApp } from '../render/app.js';
import { checkFolder } from '../render/check.js';
import { preloadSchemas } from '../render/schemas.js';
import { readAppSpec, SPEC_FILE, type AppSpec } from '../connector/deployable.js';
import { git } from './git.js';
import { appDir } from '../repo-layout/folders.js';
import { topicAllowed } from '@aerogrid/protocol/names';
import { openPullRequest, type PullRequestOptions } from './pull-request.js';
import { cloneRepo, commitChange, pushWithRetry, type WorkingCopy } from './repo.js';
import { sourceCommit } from './source.js';
import { readTenant, writeFiles } from './tenants.js';

export interface DeployOptions {
  dir: string;
  repo: string;
  dryRun?: boolean;
  pr?: PullRequestOptions;
}

export interface DeployResult {
  tenant: string;
  app: string;
  /** The GitOps commit that holds this version (new, or the one already there when nothing changed). */
  commit: string;
  changed: boolean;
  dryRun: boolean;
  /** `git diff` of the app's folder (dry runs). */
  diff?: string;
  pullRequest?: { url: string; number: number; branch: string };
  sourceCommit?: string;
  pushAttempts?: number;
}

export async function deploy(options: DeployOptions): Promise<DeployResult> {
  const dir = resolve(options.dir);
  void preloadSchemas();
  // The clone does not depend on the connector: make it while the spec is read and checked.
  const cloning = cloneRepo(options.repo);
  cloning.catch(() => undefined); // handled below; never an unhandled rejection meanwhile
  let spec: AppSpec, specText: string, code: Map<string, string>, source: Awaited<ReturnType<typeof sourceCommit>>;
  try {
    spec = await readAppSpec(dir);
    [specText, code, source] = await Promise.all([readFile(join(dir, SPEC_FILE), 'utf8'), collectCode(dir, spec), sourceCommit(dir)]);
  } catch (error) {
    await cloning.then((w) => w.dispose(), () => undefined);
    throw error;
  }
  const work = await cloning;
  try {
    await checkTenantAllows(work, spec);
    const folder = appDir(spec.tenant, spec.name);
    // Replace the whole folder, so files the connector dropped disappear too.
    await rm(join(work.dir, folder), { recursive: true, force: true });
    await writeFiles(work.dir, renderApp(spec, code, specText));
    await checkFolder(join(work.dir, folder), { namespace: spec.tenant });
    const base = { tenant: spec.tenant, app: spec.name, ...(source.commit ? { sourceCommit: source.commit } : {}) };

    if (options.dryRun) {
      await git(work.dir, ['add', '-A', '--', folder]);
      const diff = await git(work.dir, ['diff', '--cached', '--no-color', '--', folder]);
      return { ...base, commit: (await git(work.dir, ['rev-parse', 'HEAD'])).trim(), changed: diff.length > 0, dryRun: true, diff };
    }

    const trailers: Record<string, string> = { 'AeroGrid-App': `${spec.tenant}/${spec.name}`, 'AeroGrid-Action': 'deploy' };
    if (source.commit) trailers['AeroGrid-Source-Commit'] = source.commit + (source.dirty ? '-dirty' : '');
    const commit = await commitChange(work, {
      paths: [folder],
      subject: `Deploy ${spec.tenant}/${spec.name}${source.commit ? ` at ${source.commit.slice(0, 12)}` : ''}`,
      trailers,
    });
    if (!commit) {
      const current = (await git(work.dir, ['log', '-1', '--format=%H', '--', folder])).trim();
      return { ...base, commit: current, changed: false, dryRun: false };
    }
    if (options.pr) {
      const pullRequest = await openPullRequest(work, { ...options.pr, tenant: spec.tenant, app: spec.name, commit });
      return { ...base, commit, changed: true, dryRun: false, pullRequest };
    }
    const pushed = await pushWithRetry(work, {
      what: `the deploy of ${spec.tenant}/${spec.name}`,
      conflictMessage: (other) => `Another change to ${spec.tenant}/${spec.name} landed while this deploy was being pushed (${other}); its files conflict with this one.`,
    });
    return { ...base, commit: pushed.commit, changed: true, dryRun: false, pushAttempts: pushed.attempts };
  } finally {
    await work.dispose();
  }
}

async function checkTenantAllows(work: WorkingCopy, spec: AppSpec): Promise<void> {
  const tenant = await readTenant(work.dir, spec.tenant);
  if (!tenant) {
    throw new CliError(`Tenant '${spec.tenant}' is not set up in the GitOps repo ${work.repo}.`, {
      exitCode: ExitCode.notFound,
      hint: `An admin onboards it once: aerogrid tenant add ${spec.tenant} --topics ${spec.topics.join(',')}${work.repo ? ` --gitops ${work.repo}` : ''}`,
    });
  }
  const denied = spec.topics.filter((t) => !topicAllowed(t, tenant.topics));
  if (denied.length > 0) {
    throw new CliError(`Tenant '${spec.tenant}' may not read ${denied.map((t) => `'${t}'`).join(', ')} (it may read: ${tenant.topics.join(', ')}).`, {
      exitCode: ExitCode.invalid,
      hint: `Remove the topic from aerogrid.yaml, or ask an admin to allow it: aerogrid tenant add ${spec.tenant} --topics ${[...tenant.topics, ...denied].join(',')}`,
    });
  }
}
