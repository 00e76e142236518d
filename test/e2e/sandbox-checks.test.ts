// What validate and deploy refuse before anything runs (issue 15 items 3 and 11): resources beyond
// the tenant's LimitRange, and a topic whose name only the running code knows. Real CLI, real git.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo, cloneRepo, commitChange, pushWithRetry } from '../../src/gitops/repo.js';
import { runCli } from '../helpers/cli.js';
import { appSource, cliEnv, gitIn, tempDir, treeOf } from '../helpers/gitops.js';

const tenant = 'limits';

function specWith(name: string, resources: string): string {
  return `apiVersion: aerogrid.dev/v1
kind: App
metadata: {name: ${name}, tenant: ${tenant}}
spec:
  topics: [orders]
  grids: [{name: totals, columns: [total]}]
  resources: ${resources}
`;
}

async function connector(name: string, spec: string, source = appSource(name, 'orders')): Promise<string> {
  const dir = join(await tempDir('checks'), name);
  await (await import('node:fs/promises')).mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'aerogrid.yaml'), spec);
  await writeFile(join(dir, 'app.py'), source);
  return dir;
}

describe('validate and deploy against the tenant\'s limits and topics', () => {
  let home: string;
  let repo: string;
  beforeAll(async () => {
    home = await tempDir('checks-home');
    repo = join(await tempDir('checks-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
    const add = await runCli(['tenant', 'add', tenant, '--topics', 'orders', '--gitops', repo], { env: cliEnv(home) });
    expect(add.code, add.stderr).toBe(0);
  }, 180_000);

  it('refuses cpu 1000 and memory 100Ti at validate and at deploy, naming the LimitRange\'s 2 CPU and 2Gi', async () => {
    const dir = await connector('greedy', specWith('greedy', '{cpu: "1000", memory: 100Ti}'));
    const validate = await runCli(['validate', dir], { env: cliEnv(home) });
    expect(validate.code, validate.stderr).toBe(3);
    expect(validate.stderr).toMatch(/cpu 1000 is more than the 2 allowed; memory 100Ti is more than the 2Gi allowed/);
    expect(validate.stderr).toMatch(/fix: .*cpu: 2, memory: 2Gi/);

    const before = gitIn(repo, ['rev-parse', 'main']).trim();
    const deploy = await runCli(['deploy', dir, '--gitops', repo], { env: cliEnv(home) });
    expect(deploy.code, deploy.stderr).toBe(3);
    expect(deploy.stderr).toMatch(/cpu 1000 is more than the 2 allowed; memory 100Ti is more than the 2Gi allowed/);
    expect(deploy.stderr).toMatch(/LimitRange, bases\/tenant\/v1\/limit-range\.yaml/);
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(before);
  }, 180_000);

  it('deploy judges by the GitOps repo\'s own LimitRange: one an admin raised to 4 CPU lets cpu 3 through', async () => {
    const dir = await connector('bigger', specWith('bigger', '{cpu: "3", memory: 1Gi}'));
    const refused = await runCli(['deploy', dir, '--gitops', repo], { env: cliEnv(home) });
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/cpu 3 is more than the 2 allowed/);

    const work = await cloneRepo(repo);
    try {
      const file = join(work.dir, 'bases/tenant/v1/limit-range.yaml');
      const { readFile } = await import('node:fs/promises');
      await writeFile(file, (await readFile(file, 'utf8')).replace('max: {cpu: "2", memory: 2Gi}', 'max: {cpu: "4", memory: 4Gi}'));
      await commitChange(work, { paths: ['bases/tenant/v1/limit-range.yaml'], subject: 'Raise the container limit', trailers: {} });
      await pushWithRetry(work, { what: 'the limit', conflictMessage: () => 'conflict' });
    } finally {
      await work.dispose();
    }
    const deployed = await runCli(['deploy', dir, '--gitops', repo], { env: cliEnv(home) });
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(treeOf(repo, `tenants/${tenant}/apps/bigger`)).toContain(`tenants/${tenant}/apps/bigger/aerogrid.yaml`);
  }, 180_000);

  it('deploy refuses a topic whose name is computed at run time; validate only warns', async () => {
    const source = appSource('computed', 'orders').replace("app.topic('orders'", "app.topic(''.join(['ord', 'ers'])");
    const dir = await connector('computed', specWith('computed', '{cpu: 250m, memory: 256Mi}'), source);
    const validate = await runCli(['validate', dir], { env: cliEnv(home) });
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stderr).toMatch(/warning: this topic's name is not a literal string/);

    const before = gitIn(repo, ['rev-parse', 'main']).trim();
    const deploy = await runCli(['deploy', dir, '--gitops', repo], { env: cliEnv(home) });
    expect(deploy.code, deploy.stderr).toBe(3);
    expect(deploy.stderr).toMatch(/this topic's name is not a literal string .*deploy refuses it/);
    expect(deploy.stderr).toMatch(/fix: write the name literally/);
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(before);
  }, 180_000);
});
