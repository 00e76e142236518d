// Reading the apps of a GitOps repo checkout: which exist, and their desired state.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { parseReplicas, REPLICAS_FILE } from '../render/app.js';
import { git } from './git.js';
import { appDir } from '../repo-layout/folders.js';
import { checkApp, checkTenant, closestName } from '../repo-layout/names.js';

export interface AppRef { tenant: string; app: string }

export interface DesiredApp extends AppRef {
  replicas: number;
  /** The last commit that changed the app's folder. */
  commit: string;
  committedAt: string;
  subject: string;
  sourceCommit?: string;
}

export async function listApps(root: string): Promise<AppRef[]> {
  const refs: AppRef[] = [];
  const tenantsDir = join(root, 'tenants');
  if (!existsSync(tenantsDir)) return refs;
  for (const tenant of (await readdir(tenantsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const appsDir = join(tenantsDir, tenant, 'apps');
    if (!existsSync(appsDir)) continue;
    for (const app of (await readdir(appsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
      if (existsSync(join(appsDir, app, 'kustomization.yaml'))) refs.push({ tenant, app });
    }
  }
  return refs;
}

/**
 * `app` or `tenant/app` (or `app` with --tenant) to one deployed app. An app name that two tenants
 * use needs its tenant.
 */
export async function resolveApp(root: string, ref: string, tenantFlag?: string, options: { mustExist?: boolean } = {}): Promise<AppRef> {
  const [first, second, ...rest] = ref.split('/');
  if (rest.length > 0 || first === undefined) throw new CliError(`'${ref}' is not an app: use APP or TENANT/APP.`, { exitCode: ExitCode.usage });
  const tenant = second !== undefined ? checkTenant(first) : tenantFlag ? checkTenant(tenantFlag) : undefined;
  const app = checkApp(second ?? first);
  const apps = await listApps(root);
  const matches = apps.filter((a) => a.app === app && (!tenant || a.tenant === tenant));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new CliError(`App '${app}' exists for several tenants: ${matches.map((m) => m.tenant).join(', ')}.`, { exitCode: ExitCode.usage, hint: `Name one: ${matches.map((m) => `${m.tenant}/${app}`).join(' or ')}` });
  }
  if (options.mustExist === false && tenant) return { tenant, app };
  const suggestion = closestName(app, apps.map((a) => a.app));
  throw new CliError(`App '${tenant ? `${tenant}/` : ''}${app}' is not deployed in the GitOps repo.`, {
    exitCode: ExitCode.notFound,
    hint: suggestion ? `Did you mean '${suggestion}'? (\`aerogrid status\` lists the apps)` : apps.length ? `Deployed apps: ${apps.map((a) => `${a.tenant}/${a.app}`).join(', ')}` : 'Nothing is deployed yet: run `aerogrid deploy` in a connector folder.',
  });
}

export function trailer(message: string, key: string): string | undefined {
  return new RegExp(`^${key}: (.+)$`, 'm').exec(message)?.[1]?.trim();
}

export async function desiredApp(root: string, ref: AppRef): Promise<DesiredApp> {
  const dir = appDir(ref.tenant, ref.app);
  const replicasText = await readFile(join(root, dir, REPLICAS_FILE), 'utf8').catch(() => '');
  const log = await git(root, ['log', '-1', '--format=%H%x00%cI%x00%s%x00%B', '--', dir]);
  const [commit = '', committedAt = '', subject = '', body = ''] = log.split('\0');
  const sourceCommit = trailer(body, 'AeroGrid-Source-Commit');
  return { ...ref, replicas: parseReplicas(replicasText) ?? 1, commit, committedAt, subject, ...(sourceCommit ? { sourceCommit } : {}) };
}
