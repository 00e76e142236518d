// Onboarding tenants: writes platform/tenants/<tenant>/ (and the tenant base, where the repo
// predates it) and lists the tenants of a GitOps repo.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { checkFolder } from '../render/check.js';
import { checkTenantClaim, parseTenantRecord, renderPlatformKustomization, renderTenant, TENANT_FILE, type TenantOptions, type TenantRecord } from '../render/tenant.js';
import type { Files } from '../render/app.js';
import { PLATFORM_KUSTOMIZATION, SYSTEM_DIR, TENANT_BASE_DIR, platformTenantDir } from '../repo-layout/folders.js';
import { checkTenant } from '../repo-layout/names.js';
import { cloneRepo, commitChange, ensureBase, pushWithRetry, type WorkingCopy } from './repo.js';
import { explicitRepoUrl, isRepoUrl } from './repo-url.js';
import { readPlatform } from './platform-record.js';

export async function writeFiles(root: string, files: Files): Promise<void> {
  for (const [path, text] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

export async function listTenantsIn(root: string): Promise<TenantRecord[]> {
  const dir = join(root, 'platform', 'tenants');
  if (!existsSync(dir)) return [];
  const records: TenantRecord[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const file = join(dir, name, TENANT_FILE);
    if (existsSync(file)) records.push(await parseTenantRecord(await readFile(file, 'utf8')));
  }
  return records;
}

/** The tenants of a GitOps repo (`aerogrid tenant list`), read from a fresh clone. */
export async function listTenants(repo: string): Promise<TenantRecord[]> {
  const work = await cloneRepo(repo);
  try {
    return await listTenantsIn(work.dir);
  } finally {
    await work.dispose();
  }
}

export async function readTenant(root: string, tenant: string): Promise<TenantRecord | undefined> {
  const file = join(root, platformTenantDir(tenant), TENANT_FILE);
  return existsSync(file) ? parseTenantRecord(await readFile(file, 'utf8')) : undefined;
}

export interface AddTenantResult {
  tenant: string;
  commit: string | undefined;
  changed: boolean;
  files: string[];
  /** The GitOps repo as the tenant's Argo CD objects name it. */
  repoUrl: string;
  /** Set when repoUrl was made from a path of this machine (no --repo-url, no platform init). */
  repoUrlNote?: string;
}

export async function addTenant(repo: string, options: Omit<TenantOptions, 'repoUrl'> & { repoUrl?: string }): Promise<AddTenantResult> {
  const tenant = checkTenant(options.tenant);
  if (options.topics.length === 0) {
    throw new CliError(`Tenant ${tenant} needs at least one topic it may read.`, { exitCode: ExitCode.usage, hint: `Pass --topics, e.g. aerogrid tenant add ${tenant} --topics orders,prices (or 'orders.*' style prefixes: --topics 'orders.*').` });
  }
  if (options.oidc) await checkOidc(options.oidc);
  const work = await cloneRepo(repo);
  try {
    const { repoUrl, note } = await tenantRepoUrl(work.dir, repo, options.repoUrl);
    const files = renderTenant({ ...options, tenant, repoUrl });
    const dir = platformTenantDir(tenant);
    await ensureBase(work, TENANT_BASE_DIR);
    await rm(join(work.dir, dir), { recursive: true, force: true });
    await writeFiles(work.dir, files);
    const tenants = [...new Set([...(await listTenantsIn(work.dir)).map((t) => t.tenant), tenant])];
    await writeFile(join(work.dir, PLATFORM_KUSTOMIZATION), renderPlatformKustomization(tenants, { system: existsSync(join(work.dir, SYSTEM_DIR)) }));
    await checkFolder(join(work.dir, dir));
    await checkFolder(join(work.dir, 'platform'));
    const commit = await commitTenant(work, tenant, [TENANT_BASE_DIR, dir, PLATFORM_KUSTOMIZATION]);
    return { tenant, commit, changed: commit !== undefined, files: [...files.keys()], repoUrl, ...(note ? { repoUrlNote: note } : {}) };
  } finally {
    await work.dispose();
  }
}

/**
 * The repo URL the tenant's AppProject and ApplicationSet name: --repo-url, else the platform's
 * (platform init), else the GitOps repo when it is a URL. A path of this machine becomes a
 * file:// URL with a note saying so: Argo CD reads it only when it runs on this machine.
 */
async function tenantRepoUrl(checkout: string, repo: string, flag: string | undefined): Promise<{ repoUrl: string; note?: string }> {
  if (flag !== undefined) return { repoUrl: explicitRepoUrl(flag) };
  const platform = await readPlatform(checkout);
  if (platform) return { repoUrl: platform.repoUrl };
  if (isRepoUrl(repo)) return { repoUrl: repo };
  const repoUrl = explicitRepoUrl(repo);
  return {
    repoUrl,
    note: `the GitOps repo is a path on this machine, so the tenant's Argo CD objects name it as ${repoUrl}, which only an Argo CD on this machine can read. fix: for a cluster, run aerogrid platform init --repo-url <the URL Argo CD clones> once, or pass --repo-url.`,
  };
}

/**
 * The tenant's OIDC settings as its sidecars will check them (the sidecar's own rule: an https://
 * issuer, http:// only on a loopback address), and a tenant claim the mesh policy can hold: refused
 * here, before anything is committed, rather than by pods that crash-loop.
 */
async function checkOidc(oidc: NonNullable<TenantOptions['oidc']>): Promise<void> {
  if (oidc.tenantClaim !== undefined) checkTenantClaim(oidc.tenantClaim);
  const { authOptionsFrom, AuthConfigError } = await import('@aerogrid/sidecar/auth');
  try {
    authOptionsFrom({ oidcIssuer: oidc.issuer, oidcAudience: oidc.audience, ...(oidc.jwksUri !== undefined ? { jwksUri: oidc.jwksUri } : {}) }, {});
  } catch (error) {
    if (!(error instanceof AuthConfigError)) throw error;
    throw new CliError(`${error.message}.`, {
      exitCode: ExitCode.usage,
      hint: 'Give the issuer as its tokens name it, over https (e.g. --oidc-issuer https://acme.eu.auth0.com/); plain http:// only for an issuer on this machine (127.0.0.1 or localhost).',
    });
  }
}

async function commitTenant(work: WorkingCopy, tenant: string, paths: string[]): Promise<string | undefined> {
  const commit = await commitChange(work, {
    paths,
    subject: `Onboard tenant ${tenant}`,
    trailers: { 'AeroGrid-Tenant': tenant, 'AeroGrid-Action': 'tenant-add' },
  });
  if (!commit) return undefined;
  return (await pushWithRetry(work, { what: `tenant ${tenant}`, conflictMessage: (other) => `Tenant ${tenant} was changed by someone else at the same time (${other}).` })).commit;
}
