// Releases and rollback on a real GitOps repo (a bare remote): each deploy is a numbered release,
// and rollback re-deploys one release's folder as a new release.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deleteApp } from '../../../src/gitops/ops.js';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, fileAt, gitIn, tempDir, treeOf, writeConnector } from '../../helpers/gitops.js';

const folder = 'tenants/trading/apps/vwap';
const codeAt = (repo: string) => fileAt(repo, `${folder}/code/app.py`);

describe('releases and rollback of an app', () => {
  let env: NodeJS.ProcessEnv;
  let repo: string;
  let connector: string;
  const sources: string[] = [];
  const code: string[] = [];

  beforeAll(async () => {
    repo = join(await tempDir('rel-remote'), 'gitops.git');
    env = { ...cliEnv(await tempDir('rel-home')), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '', GIT_AUTHOR_NAME: 'Ada Lovelace', GIT_AUTHOR_EMAIL: 'ada@example.com' };
    await ensureLocalRepo(repo);
    expect((await runCli(['tenant', 'add', 'trading', '--topics', 'ticks'], { env })).code).toBe(0);
    connector = join(await tempDir('rel-conn'), 'vwap');
    // Two deploys from a connector repo, so each release names its source commit.
    for (const factor of [1, 2]) {
      await writeConnector(connector, { name: 'vwap', tenant: 'trading', topics: ['ticks'], factor });
      if (factor === 1) gitIn(connector, ['init', '-q', '-b', 'main']);
      gitIn(connector, ['add', '-A']);
      gitIn(connector, ['commit', '-q', '-m', `factor ${factor}`]);
      sources.push(gitIn(connector, ['rev-parse', 'HEAD']).trim());
      const run = await runCli(['deploy', connector], { env });
      expect(run.code, run.stderr).toBe(0);
      code.push(codeAt(repo));
    }
    expect(code[0]).not.toBe(code[1]);
  });

  it('releases lists each deploy with its number, time, author and source commit (--json and a table)', async () => {
    const run = await runCli(['releases', 'vwap', '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const listed = JSON.parse(run.stdout);
    expect(listed).toMatchObject({ tenant: 'trading', app: 'vwap' });
    expect(listed.releases).toEqual([
      expect.objectContaining({ number: 1, action: 'deploy', by: 'Ada Lovelace <ada@example.com>', sourceCommit: sources[0] }),
      expect.objectContaining({ number: 2, action: 'deploy', by: 'Ada Lovelace <ada@example.com>', sourceCommit: sources[1] }),
    ]);
    expect(Number.isNaN(Date.parse(listed.releases[0].at))).toBe(false);

    const table = await runCli(['releases', 'trading/vwap'], { env });
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^RELEASE\s+WHEN\s+WHO\s+SOURCE\s+CHANGE\s+GITOPS COMMIT$/);
    expect(lines[2]).toMatch(new RegExp(`^v2\\s.*Ada Lovelace.*${sources[1]!.slice(0, 12)}\\s+deploy`));
  });

  it('rollback after stop and start re-deploys the previous release and leaves the app running, twice in a row', async () => {
    expect((await runCli(['stop', 'vwap'], { env })).code).toBe(0);
    expect((await runCli(['start', 'vwap'], { env })).code).toBe(0);

    const first = await runCli(['rollback', 'vwap', '--tenant', 'trading', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ action: 'rollback', release: 1, changed: true });
    expect(codeAt(repo)).toBe(code[0]);
    expect(fileAt(repo, `${folder}/replicas.yaml`)).toMatch(/replicas: 1/);

    // Again: the release before the latest (3, the rollback) is 2; no git error.
    const second = await runCli(['rollback', 'vwap', '--tenant', 'trading'], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('Rolled back trading/vwap to release 2');
    expect(codeAt(repo)).toBe(code[1]);

    const releases = JSON.parse((await runCli(['releases', 'vwap', '--json'], { env })).stdout).releases;
    expect(releases.map((r: any) => [r.number, r.action, r.rollbackTo ?? null, r.sourceCommit])).toEqual([
      [1, 'deploy', null, sources[0]], [2, 'deploy', null, sources[1]], [3, 'rollback', 1, sources[0]], [4, 'rollback', 2, sources[1]],
    ]);
  });

  it('a stopped app stays stopped through a rollback', async () => {
    expect((await runCli(['stop', 'vwap'], { env })).code).toBe(0);
    const run = await runCli(['rollback', 'vwap', '1'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(codeAt(repo)).toBe(code[0]);
    expect(fileAt(repo, `${folder}/replicas.yaml`)).toMatch(/replicas: 0/);
    expect((await runCli(['start', 'vwap'], { env })).code).toBe(0);
  });

  it('after a delete, releases still lists the app and rollback by name alone brings back its latest release', async () => {
    // The library call `aerogrid delete` makes (the command's confirmation is not the subject here).
    await deleteApp(repo, 'trading/vwap', undefined);
    expect(treeOf(repo, folder)).toEqual([]);

    const listed = await runCli(['releases', 'vwap', '--json'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).releases).toHaveLength(5);

    const back = await runCli(['rollback', 'vwap', '--json'], { env });
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ tenant: 'trading', app: 'vwap', release: 5 });
    expect(codeAt(repo)).toBe(code[0]);
    expect(fileAt(repo, `${folder}/replicas.yaml`)).toMatch(/replicas: 1/);
  });

  it('a release that does not exist is refused with the range and a fix line', async () => {
    const run = await runCli(['rollback', 'vwap', '42'], { env });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("trading/vwap has no release '42' (its releases: 1 to 6)");
    expect(run.stderr).toContain('fix: List them: aerogrid releases trading/vwap');
  });
});
