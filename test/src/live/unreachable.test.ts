// What deploy --wait and logs say when nothing runs the apps: no local runner, no Argo CD, and a
// kubectl that reaches no cluster (there is none here).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, gitIn, tempDir, writeConnector } from '../../helpers/gitops.js';

describe('with neither a local runner nor a cluster', () => {
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let repo: string;
  beforeAll(async () => {
    const home = await tempDir('unreach-home');
    repo = join(await tempDir('unreach-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '', KUBECONFIG: join(home, 'no-kubeconfig') };
    expect((await runCli(['tenant', 'add', 'lonely', '--topics', 'ticks'], { env })).code).toBe(0);
    dir = await writeConnector(join(await tempDir('unreach-conn'), 'lonelyapp'), { name: 'lonelyapp', tenant: 'lonely', topics: ['ticks'] });
  });

  it('deploy --wait commits, then fails saying nothing runs the repo and how to fix it', async () => {
    const run = await runCli(['deploy', dir, '--wait', '--timeout', '30'], { env });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('nothing runs the GitOps repo');
    expect(run.stderr).toContain('aerogrid serve --run local');
    expect(gitIn(repo, ['log', '-1', '--format=%s', 'main']).trim()).toBe('Deploy lonely/lonelyapp');
  });

  it('logs fails naming both places it looked', async () => {
    const run = await runCli(['logs', 'lonelyapp'], { env });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('No logs for lonely/lonelyapp: no local runner runs on this machine, and the cluster is not reachable');
    expect(run.stderr).toContain('fix:');
  });
});
