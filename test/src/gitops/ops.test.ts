// stop, start, delete and status as commits (rollback: releases.test.ts) to a real GitOps repo (a bare remote).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, fileAt, gitIn, tempDir, treeOf, writeConnector } from '../../helpers/gitops.js';

const folder = 'tenants/ops/apps/opsapp';
const changedIn = (repo: string, rev = 'main') => gitIn(repo, ['diff-tree', '--no-commit-id', '--name-only', '-r', rev]).split('\n').filter(Boolean);

describe('stop, start, delete, status', () => {
  let home: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await tempDir('ops-home');
    repo = join(await tempDir('ops-remote'), 'gitops.git');
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    expect((await runCli(['tenant', 'add', 'ops', '--topics', 'ticks'], { env })).code).toBe(0);
    const dir = await writeConnector(join(await tempDir('ops-conn'), 'opsapp'), { name: 'opsapp', tenant: 'ops', topics: ['ticks'] });
    const run = await runCli(['deploy', dir], { env });
    expect(run.code, run.stderr).toBe(0);
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
