// `aerogrid platform init` as an admin runs it, on real git repositories: an empty bare repo is
// seeded, the Argo CD bootstrap names the repo's URL and the Gateway the platform host, a path
// where Argo CD needs a URL is refused with a fix line, and `tenant add` follows the platform's URL.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, fileAt, gitIn, tempDir, treeOf } from '../../helpers/gitops.js';

function bareRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', dir]);
  return dir;
}

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS());

describe('aerogrid platform init', () => {
  let home: string;
  beforeAll(async () => { home = await tempDir('platform-home'); });

  it('seeds an empty bare repo (no main yet) with the skeleton, the platform and the Argo CD bootstrap naming its URL and host', async () => {
    const repo = bareRepo(join(await tempDir('platform-empty'), 'gitops.git'));
    const init = await runCli(['platform', 'init', '--host', 'aerogrid.example.com', '--gitops', repo, '--repo-url', 'https://git.example.com/acme/gitops.git', '--json'], { env: cliEnv(home) });
    expect(init.code, init.stderr).toBe(0);
    const result = JSON.parse(init.stdout);
    expect(result).toMatchObject({ changed: true, seeded: true, host: 'aerogrid.example.com', repoUrl: 'https://git.example.com/acme/gitops.git' });
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(result.commit);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain('AeroGrid-Action: platform-init');
    const tree = treeOf(repo);
    expect(tree).toEqual(expect.arrayContaining([
      'bases/connector/v1/deployment.yaml', 'bases/tenant/v1/namespace.yaml', 'tenants/README.md',
      'platform/platform.yaml', 'platform/system/gateway.yaml', 'platform/system/directory.yaml', 'platform/system/tenant-routes.yaml',
      'bootstrap/kustomization.yaml', 'bootstrap/root-app.yaml', 'bootstrap/platform-project.yaml',
    ]));
    const [root] = docs(fileAt(repo, 'bootstrap/root-app.yaml'));
    expect(root.spec.source).toEqual({ repoURL: 'https://git.example.com/acme/gitops.git', targetRevision: 'main', path: 'platform' });
    const [project] = docs(fileAt(repo, 'bootstrap/platform-project.yaml'));
    expect(project.spec.sourceRepos).toEqual(['https://git.example.com/acme/gitops.git']);
    const [gateway] = docs(fileAt(repo, 'platform/system/gateway.yaml'));
    expect(gateway.spec.listeners[0]).toMatchObject({ hostname: 'aerogrid.example.com', port: 443, protocol: 'HTTPS' });
    // The root app syncs the platform's components with the tenants.
    expect(parse(fileAt(repo, 'platform/kustomization.yaml')).resources).toEqual(['system']);
    const directory = docs(fileAt(repo, 'platform/system/directory.yaml'));
    const deployment = directory.find((d) => d.kind === 'Deployment');
    expect(deployment.metadata.namespace).toBe('aerogrid-system');
    expect(deployment.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['serve', '--run', 'argocd', '--platform-host', 'aerogrid.example.com']));
    // Read-only RBAC on exactly what the directory reads.
    const verbs = directory.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role').flatMap((r) => r.rules.flatMap((rule: any) => rule.verbs));
    expect(new Set(verbs)).toEqual(new Set(['get', 'list', 'watch']));
    const [namespace] = docs(fileAt(repo, 'platform/system/namespace.yaml'));
    expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');

    // Run again with the same settings: nothing to commit; with a new host, only the platform's files change.
    const again = await runCli(['platform', 'init', '--host', 'aerogrid.example.com', '--gitops', repo, '--repo-url', 'https://git.example.com/acme/gitops.git', '--json'], { env: cliEnv(home) });
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, seeded: false });
    const moved = await runCli(['platform', 'init', '--host', 'grid.example.org', '--gitops', repo, '--repo-url', 'https://git.example.com/acme/gitops.git', '--json'], { env: cliEnv(home) });
    expect(moved.code, moved.stderr).toBe(0);
    expect(gitIn(repo, ['diff', '--name-only', 'main~1', 'main']).split('\n').filter(Boolean).sort()).toEqual(['platform/platform.yaml', 'platform/system/directory.yaml', 'platform/system/gateway.yaml']);
  });

  it('refuses a filesystem path where Argo CD needs a URL, with a fix line, unless --repo-url says it is one', async () => {
    const repo = bareRepo(join(await tempDir('platform-path'), 'gitops.git'));
    const refused = await runCli(['platform', 'init', '--host', 'aerogrid.example.com', '--gitops', repo], { env: cliEnv(home) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`The GitOps repo ${repo} is a path on this machine, but Argo CD clones the platform by URL.`);
    expect(refused.stderr).toMatch(/--repo-url file:\/\//);
    expect(gitIn(repo, ['for-each-ref']).trim()).toBe(''); // nothing was pushed

    const told = await runCli(['platform', 'init', '--host', 'aerogrid.example.com', '--gitops', repo, '--repo-url', repo, '--json'], { env: cliEnv(home) });
    expect(told.code, told.stderr).toBe(0);
    expect(JSON.parse(told.stdout).repoUrl).toBe(`file://${repo}`);
    expect(docs(fileAt(repo, 'bootstrap/root-app.yaml'))[0].spec.source.repoURL).toBe(`file://${repo}`);
  });

  it('refuses a host that is not a DNS name, naming what is wrong', async () => {
    const repo = bareRepo(join(await tempDir('platform-host'), 'gitops.git'));
    for (const [host, why] of [['https://aerogrid.example.com', 'scheme'], ['aerogrid.example.com:8443', 'port'], ['aerogrid.example.com/x', 'path'], ['localhost', 'DNS name with a dot']]) {
      const run = await runCli(['platform', 'init', '--host', host!, '--gitops', repo, '--repo-url', 'https://git.example.com/g.git'], { env: cliEnv(home) });
      expect(run.code, host).toBe(2);
      expect(run.stderr).toContain(why!);
    }
  });

  it('makes tenant add name the platform\'s repo URL, and say so when it has only a path', async () => {
    const empty = bareRepo(join(await tempDir('platform-tenant-empty'), 'gitops.git'));
    const refused = await runCli(['tenant', 'add', 'sales', '--topics', 'orders', '--gitops', empty], { env: cliEnv(home) });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain(`The GitOps repo ${empty} is empty`);
    expect(refused.stderr).toContain(`fix: An admin seeds it once: aerogrid platform init --host <platform host> --gitops ${empty}`);

    const repo = join(await tempDir('platform-tenant'), 'gitops.git');
    await ensureLocalRepo(repo);
    // No platform init yet: the path becomes a file:// URL, and the admin is told.
    const before = await runCli(['tenant', 'add', 'sales', '--topics', 'orders', '--gitops', repo], { env: cliEnv(home) });
    expect(before.code, before.stderr).toBe(0);
    expect(before.stderr).toContain(`note: the GitOps repo is a path on this machine, so the tenant's Argo CD objects name it as file://${repo}`);
    expect(before.stderr).toContain('fix: ');
    expect(docs(fileAt(repo, 'platform/tenants/sales/app-project.yaml'))[0].spec.sourceRepos).toEqual([`file://${repo}`]);

    expect((await runCli(['platform', 'init', '--host', 'aerogrid.example.com', '--gitops', repo, '--repo-url', 'https://git.example.com/acme/gitops.git'], { env: cliEnv(home) })).code).toBe(0);
    // platform init keeps the tenant in platform/kustomization.yaml.
    expect(parse(fileAt(repo, 'platform/kustomization.yaml')).resources).toEqual(['system', 'tenants/sales']);
    const after = await runCli(['tenant', 'add', 'risk', '--topics', 'trades', '--gitops', repo], { env: cliEnv(home) });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toContain('note: the GitOps repo is a path');
    const appset = docs(fileAt(repo, 'platform/tenants/risk/application-set.yaml'))[0];
    expect(appset.spec.generators[0].git.repoURL).toBe('https://git.example.com/acme/gitops.git');
    expect(appset.spec.template.spec.source.repoURL).toBe('https://git.example.com/acme/gitops.git');
    expect(parse(fileAt(repo, 'platform/kustomization.yaml')).resources).toEqual(['system', 'tenants/risk', 'tenants/sales']);
  });
});
