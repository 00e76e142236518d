// stop, start, rollback, delete and status as commits to a real GitOps repo (a bare remote).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, fileAt, gitIn, tempDir, treeOf, writeConnector } from '../../helpers/gitops.js';

const folder = 'tenants/ops/apps/opsapp';
const changedIn = (repo: string, rev = 'main') => gitIn(repo, ['diff-tree', '--no-commit-id', '--name-only', '-r', rev]).split('\n').filter(Boolean);

describe('stop, start, rollback, delete, status', () => {
  let home: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  let deployed: string;

  beforeAll(async () => {
    home = await tempDir('ops-home');
    repo = join(await tempDir('ops-remote'), 'gitops.git');
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    expect((await runCli(['tenant', 'add', 'ops', '--topics', 'ticks'], { env })).code).toBe(0);
    const dir = await writeConnector(join(await tempDir('ops-conn'), 'opsapp'), { name: 'opsapp', tenant: 'ops', topics: ['ticks'] });
    const run = await runCli(['deploy', dir, '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    deployed = JSON.parse(run.stdout).commit;
  });

  it('stop and start each commit one line of the replicas patch, and status shows the desired state', async () => {
    const stop = await runCli(['stop', 'opsapp', '--json'], { env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ action: 'stop', tenant: 'ops', app: 'opsapp', changed: true });
    expect(changedIn(repo)).toEqual([`${folder}/replicas.yaml`]);
    expect(fileAt(repo, `${folder}/replicas.yaml`)).toMatch(/replicas: 0/);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain('AeroGrid-Action: stop');

    const status = JSON.parse((await runCli(['status', 'opsapp', '--json'], { env })).stdout);
    expect(status).toMatchObject({ tenant: 'ops', app: 'opsapp', desired: 'stopped', replicas: 0, live: { source: 'none', state: 'unknown' } });

    const again = await runCli(['stop', 'ops/opsapp', '--json'], { env });
    expect(JSON.parse(again.stdout).changed).toBe(false);

    expect((await runCli(['start', 'opsapp'], { env })).code).toBe(0);
    expect(fileAt(repo, `${folder}/replicas.yaml`)).toMatch(/replicas: 1/);
    const all = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(all).toEqual([expect.objectContaining({ app: 'opsapp', desired: 'running' })]);
  });

  it('rollback reverts the app\'s latest change; and a given revision; one that is not the app\'s is refused', async () => {
    const startCommit = gitIn(repo, ['rev-parse', 'main']).trim();
    const back = await runCli(['rollback', 'opsapp', '--json'], { env });
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ action: 'rollback', reverted: startCommit });
    expect(fileAt(repo, `${folder}/replicas.yaml`)).toMatch(/replicas: 0/);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain(`AeroGrid-Reverts: ${startCommit}`);

    const history = JSON.parse((await runCli(['status', 'opsapp', '--history', '--json'], { env })).stdout).history;
    expect(history.map((h: any) => h.subject)).toEqual([
      'Roll back ops/opsapp: revert "Start ops/opsapp"', 'Start ops/opsapp', 'Stop ops/opsapp', 'Deploy ops/opsapp',
    ]);

    // A given revision (abbreviated): reverting the stop runs the app again.
    const stopCommit = history[2].commit;
    const given = await runCli(['rollback', 'opsapp', stopCommit.slice(0, 10), '--json'], { env });
    expect(given.code, given.stderr).toBe(0);
    expect(JSON.parse(given.stdout).reverted).toBe(stopCommit);
    expect(fileAt(repo, `${folder}/replicas.yaml`)).toMatch(/replicas: 1/);

    // A revision of something else is refused.
    const tenantCommit = gitIn(repo, ['log', '-1', '--format=%H', '--', 'platform/tenants/ops']).trim();
    const foreign = await runCli(['rollback', 'opsapp', tenantCommit], { env });
    expect(foreign.code).toBe(3);
    expect(foreign.stderr).toContain('did not change ops/opsapp');
    expect(gitIn(repo, ['log', '--format=%H', '--', folder]).split('\n')).toContain(deployed);
  });

  it('rollback of a change that later deploys overwrote stops with a clear message and commits nothing', async () => {
    const dir = await writeConnector(join(await tempDir('ops-conn'), 'layered'), { name: 'layered', tenant: 'ops', topics: ['ticks'], factor: 1 });
    const commits: string[] = [];
    for (const factor of [2, 3]) {
      await writeConnector(dir, { name: 'layered', tenant: 'ops', topics: ['ticks'], factor });
      const run = await runCli(['deploy', dir, '--json'], { env });
      expect(run.code, run.stderr).toBe(0);
      commits.push(JSON.parse(run.stdout).commit);
    }
    const head = gitIn(repo, ['rev-parse', 'main']).trim();
    const run = await runCli(['rollback', 'layered', commits[0]!], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot roll back ${commits[0]!.slice(0, 12)} (Deploy ops/layered): later changes to ops/layered touch the same files`);
    expect(run.stderr).toContain('aerogrid rollback ops/layered');
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(head);
  });

  it('delete removes the folder, and rollback brings it back', async () => {
    const del = await runCli(['delete', 'opsapp', '--json', '--confirm', 'opsapp'], { env });
    expect(del.code, del.stderr).toBe(0);
    expect(treeOf(repo, folder)).toEqual([]);
    expect(changedIn(repo).every((p) => p.startsWith(`${folder}/`))).toBe(true);

    const missing = await runCli(['stop', 'opsap'], { env });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("App 'opsap' is not deployed");

    const back = await runCli(['rollback', 'ops/opsapp'], { env });
    expect(back.code, back.stderr).toBe(0);
    expect(treeOf(repo, folder)).toContain(`${folder}/code/app.py`);
    expect((await runCli(['status', 'opsap'], { env })).stderr).toContain("Did you mean 'opsapp'?");
  });
});

describe('an app with a hot standby', () => {
  it('start brings back a writer and its hot standby for an app deployed with replicas: 2', async () => {
    const home = await tempDir('twin-home');
    const repo = join(await tempDir('twin-remote'), 'gitops.git');
    const env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    expect((await runCli(['tenant', 'add', 'ops', '--topics', 'ticks'], { env })).code).toBe(0);
    const dir = await writeConnector(join(await tempDir('ops-twin'), 'twinapp'), { name: 'twinapp', tenant: 'ops', topics: ['ticks'], replicas: 2 });
    expect((await runCli(['deploy', dir], { env })).code).toBe(0);
    const twin = 'tenants/ops/apps/twinapp';
    expect(fileAt(repo, `${twin}/replicas.yaml`)).toMatch(/replicas: 2/);
    expect((await runCli(['stop', 'twinapp'], { env })).code).toBe(0);
    expect(fileAt(repo, `${twin}/replicas.yaml`)).toMatch(/replicas: 0/);
    expect((await runCli(['start', 'twinapp'], { env })).code).toBe(0);
    expect(fileAt(repo, `${twin}/replicas.yaml`)).toMatch(/replicas: 2/);
    expect((await runCli(['delete', 'twinapp', '--confirm', 'twinapp'], { env })).code).toBe(0);
  });
});
