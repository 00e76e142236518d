// `aerogrid platform init`: seeds a GitOps repo (an empty one too: no main branch yet) with the
// skeleton (bases, platform/, tenants/) and the platform's own files (platform/platform.yaml,
// platform/system/, bootstrap/), checks them as every render is checked, commits and pushes.
// Run again, it rewrites the platform's files (a new host, a new repo URL) and keeps the tenants.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { checkFolder } from '../render/check.js';
import { renderPlatformKustomization } from '../render/tenant.js';
import { BASE_DIR, BOOTSTRAP_DIR, PLATFORM_FILE, PLATFORM_KUSTOMIZATION, SYSTEM_DIR, TENANT_BASE_DIR } from '../repo-layout/folders.js';
import { aerogridHome } from '../paths.js';
import { git, GitError } from '../gitops/git.js';
import { BRANCH, cloneRepo, commitChange, ensureBase, pushWithRetry, SKELETON, type WorkingCopy } from '../gitops/repo.js';
import { listTenantsIn, writeFiles } from '../gitops/tenants.js';
import { renderPlatform, type PlatformOptions } from './render.js';

export interface InitResult {
  commit: string | undefined;
  changed: boolean;
  /** The repo had no main branch: it was seeded with the skeleton. */
  seeded: boolean;
  files: string[];
  host: string;
  repoUrl: string;
}

/** Whether the repo has a main branch (an empty bare repo has none). */
async function hasMain(repo: string): Promise<boolean> {
  try {
    return (await git(process.cwd(), ['ls-remote', '--heads', '--', repo, BRANCH])).trim().length > 0;
  } catch (error) {
    const detail = error instanceof GitError ? error.stderr.trim() : String(error);
    throw new CliError(`Cannot reach the GitOps repo ${repo}: ${detail}`, {
      exitCode: ExitCode.environment,
      hint: 'Create it first (e.g. git init --bare gitops.git, or an empty repo on your git server) and check --gitops.',
    });
  }
}

/** A working copy of an empty repo, holding the skeleton, pushed as main's first commit. */
async function seed(repo: string): Promise<WorkingCopy> {
  const root = join(aerogridHome(), 'work');
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, 'seed-'));
  await git(dir, ['init', '--quiet', '--initial-branch', BRANCH]);
  await git(dir, ['remote', 'add', 'origin', '--', repo]);
  await cp(SKELETON, dir, { recursive: true });
  return { dir, repo, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export async function initPlatform(repo: string, options: PlatformOptions): Promise<InitResult> {
  const files = renderPlatform(options);
  const seeded = !(await hasMain(repo));
  const work = seeded ? await seed(repo) : await cloneRepo(repo);
  try {
    for (const base of [BASE_DIR, TENANT_BASE_DIR]) await ensureBase(work, base);
    await rm(join(work.dir, SYSTEM_DIR), { recursive: true, force: true });
    await writeFiles(work.dir, files);
    const tenants = (await listTenantsIn(work.dir)).map((t) => t.tenant);
    await writeFile(join(work.dir, PLATFORM_KUSTOMIZATION), renderPlatformKustomization(tenants, { system: true }));
    await checkFolder(join(work.dir, SYSTEM_DIR));
    await checkFolder(join(work.dir, BOOTSTRAP_DIR));
    await checkFolder(join(work.dir, 'platform'));
    const paths = seeded ? ['.'] : [PLATFORM_FILE, SYSTEM_DIR, BOOTSTRAP_DIR, PLATFORM_KUSTOMIZATION, 'bases'];
    const commit = await commitChange(work, {
      paths,
      subject: seeded ? `Seed the GitOps repo for the platform at ${options.host}` : `Platform settings: host ${options.host}`,
      body: seeded ? 'The skeleton (connector and tenant bases v1, platform/, tenants/), the platform\'s components and the Argo CD bootstrap.' : undefined,
      trailers: { 'AeroGrid-Action': 'platform-init', 'AeroGrid-Platform-Host': options.host },
    });
    const pushed = commit ? await pushWithRetry(work, { what: 'the platform', conflictMessage: (other) => `The platform's files were changed by someone else at the same time (${other}).` }) : undefined;
    return { commit: pushed?.commit, changed: Boolean(pushed), seeded, files: [...files.keys()], host: options.host, repoUrl: options.repoUrl };
  } finally {
    await work.dispose();
  }
}
