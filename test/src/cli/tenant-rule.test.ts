// init, validate and deploy apply one tenant rule (@aerogrid/protocol/names deployedTenantProblem):
// what init writes, validate accepts and deploy takes; what deploy refuses, the other two refuse.
// Real processes, a real bare GitOps repo.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { ExitCode } from '../../../src/errors.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, tempDir } from '../../helpers/gitops.js';

describe('one tenant rule for init, validate and deploy', () => {
  let home: string;
  let repo: string;
  let base: string;
  beforeAll(async () => {
    home = await tempDir('tenant-rule-home');
    base = await tempDir('tenant-rule-conn');
    repo = join(await tempDir('tenant-rule-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
  });

  it('init --yes writes a tenant that validate accepts and deploy takes', async () => {
    const init = await runCli(['init', 'quick', '--yes', '--no-git', '--json'], { cwd: base, env: cliEnv(home) });
    expect(init.code, init.stderr).toBe(0);
    const { tenant } = JSON.parse(init.stdout) as { tenant: string };
    const dir = join(base, 'quick');
    const valid = await runCli(['validate', dir, '--json'], { env: cliEnv(home) });
    expect(JSON.parse(valid.stdout).valid, valid.stdout).toBe(true);
    const add = await runCli(['tenant', 'add', tenant, '--topics', 'orders', '--gitops', repo], { env: cliEnv(home) });
    expect(add.code, add.stderr).toBe(0);
    const deploy = await runCli(['deploy', dir, '--gitops', repo, '--json'], { env: cliEnv(home) });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(JSON.parse(deploy.stdout)).toMatchObject({ tenant, app: 'quick', changed: true });
  });

  it('a reserved tenant is refused by init, validate and deploy alike, each with a fix', async () => {
    const init = await runCli(['init', 'reserved', '--tenant', 'default', '--yes', '--no-git'], { cwd: base, env: cliEnv(home) });
    expect(init.code).toBe(ExitCode.invalid);
    expect(init.stderr).toMatch(/--tenant 'default' is reserved for the platform/);
    expect(init.stderr).toMatch(/fix: --tenant team-default/);

    const made = await runCli(['init', 'reserved', '--tenant', 'sales', '--yes', '--no-git'], { cwd: base, env: cliEnv(home) });
    expect(made.code, made.stderr).toBe(0);
    const dir = join(base, 'reserved');
    const spec = join(dir, 'aerogrid.yaml');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('tenant: sales', 'tenant: default').replaceAll('aerogrid.sales.', 'aerogrid.default.'));

    const validate = await runCli(['validate', dir], { env: cliEnv(home) });
    expect(validate.code).toBe(ExitCode.invalid);
    expect(validate.stdout + validate.stderr).toMatch(/aerogrid\.yaml:\d+:\d+.*metadata\.tenant "default" is reserved for the platform/);
    expect(validate.stdout + validate.stderr).toMatch(/tenant: team-default/);

    const deploy = await runCli(['deploy', dir, '--gitops', repo], { env: cliEnv(home) });
    expect(deploy.code).toBe(ExitCode.invalid);
    expect(deploy.stderr).toMatch(/metadata\.tenant "default" is reserved for the platform/);
    expect(deploy.stderr).toMatch(/fix: /);
  });
});
