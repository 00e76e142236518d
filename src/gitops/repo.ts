// The GitOps repo as the CLI uses it: a remote (any git URL or path) that every change is pushed
// to from a short-lived clone. The default is a bare repo under $AEROGRID_HOME, created with the
// skeleton on first use, which `aerogrid serve --run local` reconciles to local processes.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { aerogridHome, packageRoot } from '../paths.js';
import { git, gitCommitEnv, GitError } from './git.js';

export const BRANCH = 'main';
/** What a new GitOps repo starts with: the bases, platform/ and tenants/. */
export const SKELETON = join(packageRoot, 'gitops');

/** The default GitOps repo on this machine. */
export function defaultGitopsRepo(): string {
  return join(aerogridHome(), 'gitops.git');
}

/** The `spec.gitops` of a connector's aerogrid.yaml and the folder its relative paths start from. */
export interface SpecGitops { gitops?: string; dir: string }

/**
 * --gitops, else the spec's `spec.gitops` (a path relative to the connector folder), else
 * $AEROGRID_GITOPS, else the local default (created on first use).
 */
export async function resolveGitopsRepo(flag?: string, spec?: SpecGitops): Promise<string> {
  if (flag) return looksLikePath(flag) ? resolve(flag) : flag;
  if (spec?.gitops) return looksLikePath(spec.gitops) ? resolve(spec.dir, expandHome(spec.gitops)) : spec.gitops;
  const env = process.env.AEROGRID_GITOPS;
  if (env) return looksLikePath(env) ? resolve(env) : env;
  const repo = defaultGitopsRepo();
  await ensureLocalRepo(repo);
  return repo;
}

/**
 * The `spec.gitops` of `dir`'s aerogrid.yaml, for resolveGitopsRepo; undefined without the file.
 * An invalid aerogrid.yaml throws (exit 3).
 */
export async function specGitops(dir: string): Promise<SpecGitops | undefined> {
  const { loadSpec } = await import('../app-spec/load.js');
  const loaded = await loadSpec(dir);
  return loaded ? { ...(loaded.spec.gitops ? { gitops: loaded.spec.gitops } : {}), dir: resolve(dir) } : undefined;
}

/** The repo for a command run in (or on) a connector folder: --gitops, the folder's spec, the environment, the default. */
export async function gitopsRepoFor(flag: string | undefined, dir: string): Promise<string> {
  return resolveGitopsRepo(flag, flag ? undefined : await specGitops(dir));
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

function looksLikePath(value: string): boolean {
  return isAbsolute(value) || value.startsWith('.') || (!value.includes('://') && !/^[^/]+@[^:]+:/.test(value));
}

/** Creates a bare repo holding the skeleton (bases, platform, tenants) unless one is there. */
export async function ensureLocalRepo(repo: string): Promise<void> {
  if (existsSync(join(repo, 'HEAD'))) return;
  await mkdir(repo, { recursive: true });
  await git(repo, ['init', '--quiet', '--bare', '--initial-branch', BRANCH, '--', '.']);
  const work = await mkdtemp(join(await workRoot(), 'init-'));
  try {
    await git(work, ['init', '--quiet', '--initial-branch', BRANCH]);
    await cp(SKELETON, work, { recursive: true });
    await git(work, ['add', '-A']);
    await git(work, ['commit', '--quiet', '-m', 'GitOps repo skeleton: connector and tenant bases v1, platform and tenants folders'], { env: await gitCommitEnv(work) });
    await git(work, ['push', '--quiet', '--', repo, `HEAD:refs/heads/${BRANCH}`]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Copies a base (e.g. bases/tenant/v1) from the skeleton into a working copy whose repo was seeded
 * before that base existed. A base already there is left as it is: a changed base ships as a new
 * version.
 */
export async function ensureBase(work: WorkingCopy, base: string): Promise<void> {
  if (!existsSync(join(work.dir, base))) await cp(join(SKELETON, base), join(work.dir, base), { recursive: true });
}

async function workRoot(): Promise<string> {
  const dir = join(aerogridHome(), 'work');
  await mkdir(dir, { recursive: true });
  return dir;
}

export interface WorkingCopy {
  dir: string;
  repo: string;
  dispose(): Promise<void>;
}

/** A fresh clone of the repo's main branch; each command works in its own, so parallel deploys never share a tree. */
export async function cloneRepo(repo: string): Promise<WorkingCopy> {
  const dir = await mkdtemp(join(await workRoot(), 'clone-'));
  try {
    await git(dir, ['clone', '--quiet', '--branch', BRANCH, '--single-branch', '--no-tags', '--', repo, '.']);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const detail = error instanceof GitError ? error.stderr.trim() : String(error);
    if (/Remote branch \S+ not found|empty repository/i.test(detail)) {
      throw new CliError(`The GitOps repo ${repo} is empty (it has no ${BRANCH} branch yet).`, {
        exitCode: ExitCode.environment,
        hint: `An admin seeds it once: aerogrid platform init --host <platform host> --gitops ${repo}`,
      });
    }
    throw new CliError(`Cannot read the GitOps repo ${repo}: ${detail}`, {
      exitCode: ExitCode.environment,
      hint: 'Check --gitops (or spec.gitops in aerogrid.yaml, or $AEROGRID_GITOPS): it must be a git repository with a main branch that this machine can reach.',
    });
  }
  return { dir, repo, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export interface Change {
  /** Folders or files (relative to the repo) the commit may touch; nothing else is staged. */
  paths: string[];
  subject: string;
  body?: string;
  trailers: Record<string, string>;
}

export function commitMessage(change: Change): string {
  const trailers = Object.entries(change.trailers).map(([k, v]) => `${k}: ${v}`).join('\n');
  return `${change.subject}\n\n${change.body ? `${change.body}\n\n` : ''}${trailers}\n`;
}

/** Stages `paths` and commits; returns the commit, or undefined when nothing changed. */
export async function commitChange(work: WorkingCopy, change: Change): Promise<string | undefined> {
  await git(work.dir, ['add', '-A', '--', ...change.paths]);
  const staged = await git(work.dir, ['diff', '--cached', '--name-only']);
  if (!staged.trim()) return undefined;
  await git(work.dir, ['commit', '--quiet', '--no-verify', '-F', '-'], { input: commitMessage(change), env: await gitCommitEnv(work.dir) });
  return (await git(work.dir, ['rev-parse', 'HEAD'])).trim();
}

export class ConflictError extends CliError {}

const MAX_PUSH_ATTEMPTS = 12;

/**
 * Pushes HEAD to main. When main moved (another deploy landed first), rebases onto it and tries
 * again, a bounded number of times. A change to the same files stops with `conflictMessage`.
 */
export async function pushWithRetry(work: WorkingCopy, options: { conflictMessage: (other: string) => string; what: string }): Promise<{ commit: string; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await git(work.dir, ['push', '--quiet', '--no-verify', 'origin', `HEAD:refs/heads/${BRANCH}`]);
      return { commit: (await git(work.dir, ['rev-parse', 'HEAD'])).trim(), attempts: attempt };
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      const moved = /rejected|fetch first|non-fast-forward|cannot lock ref|failed to update ref|stale info|incorrect old value/i.test(error.stderr);
      if (!moved) {
        throw new CliError(`Pushing ${options.what} to the GitOps repo ${work.repo} failed: ${error.stderr.trim()}`, {
          exitCode: ExitCode.environment,
          hint: 'Check that this machine may push to the GitOps repo (credentials, network, branch protection; use --pr where main is protected).',
        });
      }
      if (attempt >= MAX_PUSH_ATTEMPTS) {
        throw new CliError(`The GitOps repo's main branch kept moving; ${options.what} was not pushed after ${attempt} attempts.`, {
          exitCode: ExitCode.failure,
          hint: 'Run the command again; if it keeps happening, something is pushing to the repo in a loop.',
        });
      }
    }
    // Let the racing pushes finish, then replay our commit on top of theirs.
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 80 * attempt));
    await git(work.dir, ['fetch', '--quiet', 'origin', BRANCH]);
    try {
      await git(work.dir, ['rebase', '--quiet', '--end-of-options', `origin/${BRANCH}`], { env: await gitCommitEnv(work.dir) });
    } catch (error) {
      await git(work.dir, ['rebase', '--abort']).catch(() => undefined);
      const other = (await git(work.dir, ['log', '-1', '--format=%h %an: %s', `origin/${BRANCH}`, '--']).catch(() => '')).trim();
      if (error instanceof GitError) throw new ConflictError(options.conflictMessage(other), { exitCode: ExitCode.failure, hint: 'Nothing was pushed. Look at the change that landed (`aerogrid status`), then run the command again.' });
      throw error;
    }
  }
}
