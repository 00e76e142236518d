// The words shell completion asks the CLI for at completion time, which no script can know ahead:
// the apps and tenants of the GitOps repo, the templates. Any failure completes nothing.
import type { CompletionSource } from './scripts.js';

export async function completionValues(source: CompletionSource, options: { gitops?: string; cwd: string }): Promise<string[]> {
  if (source === 'templates') return (await import('../connector/templates.js')).templateNames();
  const { cloneRepo, gitopsRepoFor } = await import('../gitops/repo.js');
  const work = await cloneRepo(await gitopsRepoFor(options.gitops, options.cwd));
  try {
    if (source === 'tenants') return (await (await import('../gitops/tenants.js')).listTenantsIn(work.dir)).map((t) => t.tenant);
    const refs = await (await import('../gitops/apps.js')).listApps(work.dir);
    // APP for a name one tenant uses, TENANT/APP always (a name two tenants use needs it).
    const names = refs.map((r) => r.app).filter((name, _, all) => all.indexOf(name) === all.lastIndexOf(name));
    return [...new Set([...names, ...refs.map((r) => `${r.tenant}/${r.app}`)])];
  } finally {
    await work.dispose();
  }
}
