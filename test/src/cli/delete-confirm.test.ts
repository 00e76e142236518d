// `aerogrid delete` never runs at once: at a terminal it asks for the app's name; without one (a
// script, CI) it needs --confirm <app> and never asks. Real git repos; a real pseudo-terminal.
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { ExitCode } from '../../../src/errors.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, tempDir, treeOf, writeConnector } from '../../helpers/gitops.js';
import { atTerminal } from '../../helpers/terminal.js';

const folder = 'tenants/sales/apps/doomed';

describe('delete asks for the app\'s name', () => {
  let env: Record<string, string>;
  let repo: string;
  beforeEach(async () => {
    const home = await tempDir('confirm-home');
    repo = join(await tempDir('confirm-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' } as Record<string, string>;
    expect((await runCli(['tenant', 'add', 'sales', '--topics', 'orders'], { env })).code).toBe(0);
    const dir = await writeConnector(join(await tempDir('confirm-conn'), 'doomed'), { name: 'doomed', tenant: 'sales', topics: ['orders'] });
    const d = await runCli(['deploy', dir], { env });
    expect(d.code, d.stderr).toBe(0);
  });

  it('without a terminal it needs --confirm, deletes nothing, and says the command to run', async () => {
    const r = await runCli(['delete', 'doomed'], { env: { ...env, CI: '' } });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/delete needs the app's name again, and there is no terminal to ask on; nothing was changed/);
    expect(r.stderr).toContain('fix: aerogrid delete doomed --confirm doomed');
    expect(treeOf(repo, folder)).not.toEqual([]);

    const wrong = await runCli(['delete', 'doomed', '--confirm', 'other'], { env });
    expect(wrong.code).toBe(ExitCode.usage);
    expect(treeOf(repo, folder)).not.toEqual([]);

    const ok = await runCli(['delete', 'sales/doomed', '--confirm', 'doomed'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(treeOf(repo, folder)).toEqual([]);
  });

  it('at a terminal under CI it does not ask either', () => {
    const r = atTerminal(['delete', 'doomed'], [], { env: { ...env, CI: 'true' } });
    expect(r.exitCode, r.text).toBe(ExitCode.usage);
    expect(r.text).toContain('CI is set');
    expect(r.text).not.toMatch(/Type its name/);
    expect(treeOf(repo, folder)).not.toEqual([]);
  });

  it('at a terminal it asks; a wrong name deletes nothing, the right one deletes', () => {
    const wrong = atTerminal(['delete', 'doomed'], [{ expect: 'Type its name \\(doomed\\)', send: 'doomd\r' }], { env: { ...env, CI: '' } });
    expect(wrong.exitCode, wrong.text).toBe(ExitCode.usage);
    expect(wrong.text).toContain("'doomd' is not 'doomed'; nothing was changed");
    expect(treeOf(repo, folder)).not.toEqual([]);

    const right = atTerminal(['delete', 'doomed'], [{ expect: 'Type its name \\(doomed\\)', send: 'doomed\r' }], { env: { ...env, CI: '' } });
    expect(right.exitCode, right.text).toBe(0);
    expect(right.text).toMatch(/Deleted sales\/doomed/);
    expect(treeOf(repo, folder)).toEqual([]);
  });
});
