// Which GitOps repo a command uses: --gitops, else the connector's spec.gitops (a path relative to
// the connector folder), else $AEROGRID_GITOPS, else the local default. Real bare repos, the CLI
// as a user runs it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { appYaml, cliEnv, fileAt, tempDir, treeOf, writeConnector } from '../../helpers/gitops.js';

const tenant = 'sales';

describe('the GitOps repo a command uses', () => {
  let home: string;
  let parent: string;
  let specRepo: string;
  let envRepo: string;
  let flagRepo: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await tempDir('choice-home');
    parent = await tempDir('choice');
    specRepo = join(parent, 'spec-gitops.git');
    envRepo = join(parent, 'env-gitops.git');
    flagRepo = join(parent, 'flag-gitops.git');
    for (const repo of [specRepo, envRepo, flagRepo]) {
      await ensureLocalRepo(repo);
      const add = await runCli(['tenant', 'add', tenant, '--topics', 'orders', '--gitops', repo], { env: cliEnv(home) });
      expect(add.code, add.stderr).toBe(0);
    }
    env = { ...cliEnv(home), AEROGRID_GITOPS: envRepo };
  });

  const deployedIn = (repo: string, app: string) => treeOf(repo, `tenants/${tenant}/apps/${app}`).length > 0;

  it('deploy and stop use spec.gitops over $AEROGRID_GITOPS; --gitops wins over both', async () => {
    const dir = await writeConnector(join(parent, 'connectors', 'picky'), { name: 'picky', tenant, topics: ['orders'] });
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name: 'picky', tenant, topics: ['orders'] }) + '  gitops: ../../spec-gitops.git\n');

    // Run from elsewhere: the spec's relative path starts at the connector folder, not the working directory.
    const run = await runCli(['deploy', dir, '--json'], { env, cwd: home });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).repo).toBe(specRepo);
    expect(deployedIn(specRepo, 'picky')).toBe(true);
    expect(deployedIn(envRepo, 'picky')).toBe(false);

    // In the connector folder, stop finds the same repo.
    const stop = await runCli(['stop', 'picky', '--json'], { env, cwd: dir });
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ repo: specRepo, changed: true });
    expect(fileAt(specRepo, `tenants/${tenant}/apps/picky/replicas.yaml`)).toMatch(/replicas: 0/);

    const flagged = await runCli(['deploy', dir, '--gitops', flagRepo, '--json'], { env, cwd: home });
    expect(flagged.code, flagged.stderr).toBe(0);
    expect(JSON.parse(flagged.stdout).repo).toBe(flagRepo);
    expect(deployedIn(flagRepo, 'picky')).toBe(true);
    expect(deployedIn(envRepo, 'picky')).toBe(false);
  });

  it('without spec.gitops, $AEROGRID_GITOPS', async () => {
    const dir = await writeConnector(join(parent, 'connectors', 'plain'), { name: 'plain', tenant, topics: ['orders'] });
    const run = await runCli(['deploy', dir, '--json'], { env, cwd: home });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).repo).toBe(envRepo);
    expect(deployedIn(envRepo, 'plain')).toBe(true);
    expect(deployedIn(specRepo, 'plain')).toBe(false);
  });

  it('refuses a spec.gitops URL that carries a token, and a broken aerogrid.yaml where stop would read it', async () => {
    const dir = await writeConnector(join(parent, 'connectors', 'leaky'), { name: 'leaky', tenant, topics: ['orders'] });
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name: 'leaky', tenant, topics: ['orders'] }) + '  gitops: https://bot:ghp_secret@github.com/acme/gitops.git\n');
    const run = await runCli(['deploy', dir], { env, cwd: home });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/spec\.gitops holds a password or token in its URL/);
    expect(run.stderr).toContain('gitops: https://github.com/acme/gitops.git');
    expect(treeOf(envRepo).some((p) => p.includes('/leaky/'))).toBe(false);

    // stop in that folder does not fall back to another repo: it names the problem.
    const stop = await runCli(['stop', 'plain'], { env, cwd: dir });
    expect(stop.code).toBe(3);
    expect(stop.stderr).toMatch(/aerogrid\.yaml is not valid/);
    expect(fileAt(envRepo, `tenants/${tenant}/apps/plain/replicas.yaml`)).toMatch(/replicas: 1/);
  });
  it('a repo starting with - from --gitops or $AEROGRID_GITOPS reaches git as a repo, never as an option', async () => {
    // A folder named -x, given relative: a path, resolved like any other.
    await ensureLocalRepo(join(parent, '-x'));
    const local = await runCli(['tenant', 'list', '--gitops', './-x', '--json'], { env: cliEnv(home), cwd: parent });
    expect(local.code, local.stderr).toBe(0);
    expect(JSON.parse(local.stdout)).toEqual([]);

    // A remote-looking value starting with '-' goes to git after '--': git reads it as a repo (and refuses its host).
    const remote = await runCli(['tenant', 'list'], { env: { ...cliEnv(home), AEROGRID_GITOPS: '-x@example.invalid:gitops.git' }, cwd: parent });
    expect(remote.code).not.toBe(0);
    expect(remote.stderr).toContain('Cannot read the GitOps repo -x@example.invalid:gitops.git');
    expect(remote.stderr).not.toMatch(/unknown (switch|option)/);
  });
});
