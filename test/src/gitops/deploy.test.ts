// `aerogrid deploy` against real git repositories: a bare remote in a temp folder, a connector
// folder that is itself a git repo, and the CLI as a user runs it.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo, cloneRepo, commitChange, pushWithRetry } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, fileAt, gitIn, tempDir, treeOf, writeConnector } from '../../helpers/gitops.js';

const tenant = 'sales';

describe('aerogrid deploy', () => {
  let home: string;
  let repo: string;
  beforeAll(async () => {
    home = await tempDir('deploy-home');
    repo = join(await tempDir('deploy-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
    const add = await runCli(['tenant', 'add', tenant, '--topics', 'orders,ticks.*', '--gitops', repo], { env: cliEnv(home) });
    expect(add.code, add.stderr).toBe(0);
  });

  it('commits only the app\'s folder, with trailers naming the app and the connector\'s commit', async () => {
    const dir = await writeConnector(join(await tempDir('conn'), 'ordersapp'), { name: 'ordersapp', tenant, topics: ['orders'] });
    gitIn(dir, ['init', '-q', '-b', 'main']);
    gitIn(dir, ['add', '-A']);
    gitIn(dir, ['commit', '-q', '-m', 'first']);
    const source = gitIn(dir, ['rev-parse', 'HEAD']).trim();
    const before = gitIn(repo, ['rev-parse', 'main']).trim();

    const run = await runCli(['deploy', dir, '--gitops', repo, '--json'], { env: cliEnv(home) });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ tenant, app: 'ordersapp', changed: true, sourceCommit: source });
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(result.commit);
    expect(gitIn(repo, ['rev-parse', 'main~1']).trim()).toBe(before);
    const message = gitIn(repo, ['log', '-1', '--format=%B', 'main']);
    expect(message).toContain('AeroGrid-App: sales/ordersapp');
    expect(message).toContain(`AeroGrid-Source-Commit: ${source}`);
    const touched = gitIn(repo, ['diff-tree', '--no-commit-id', '--name-only', '-r', 'main']).split('\n').filter(Boolean);
    expect(touched.every((p) => p.startsWith('tenants/sales/apps/ordersapp/'))).toBe(true);
    expect(treeOf(repo, 'tenants/sales/apps/ordersapp').sort()).toEqual([
      'tenants/sales/apps/ordersapp/access.yaml', 'tenants/sales/apps/ordersapp/aerogrid.yaml', 'tenants/sales/apps/ordersapp/code/app.py',
      'tenants/sales/apps/ordersapp/kustomization.yaml', 'tenants/sales/apps/ordersapp/replicas.yaml', 'tenants/sales/apps/ordersapp/resources.yaml',
      'tenants/sales/apps/ordersapp/route.yaml',
    ]);

    // Same code again: nothing to commit.
    const again = await runCli(['deploy', dir, '--gitops', repo, '--json'], { env: cliEnv(home) });
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, commit: result.commit });
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(result.commit);

    // --dry-run shows the change and commits nothing.
    await writeFile(join(dir, 'app.py'), (await import('node:fs')).readFileSync(join(dir, 'app.py'), 'utf8').replace('tick.value * 1', 'tick.value * 2'));
    const dry = await runCli(['deploy', dir, '--gitops', repo, '--dry-run'], { env: cliEnv(home) });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('-        totals[tick.name] = {\'total\': totals[tick.name][\'total\'] + tick.value * 1}');
    expect(dry.stdout).toContain('+        totals[tick.name] = {\'total\': totals[tick.name][\'total\'] + tick.value * 2}');
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(result.commit);

    // And for real: the new code is in the folder, and its source commit is marked dirty.
    const second = await runCli(['deploy', dir, '--gitops', repo, '--json'], { env: cliEnv(home) });
    expect(JSON.parse(second.stdout).changed).toBe(true);
    expect(fileAt(repo, 'tenants/sales/apps/ordersapp/code/app.py')).toContain('tick.value * 2');
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain(`AeroGrid-Source-Commit: ${source}-dirty`);
  });

  it('refuses a tenant that is not onboarded, a connector that does not validate, and a topic the tenant may not read', async () => {
    const stranger = await writeConnector(join(await tempDir('conn'), 'x'), { name: 'strangerapp', tenant: 'nobody', topics: ['orders'] });
    const noTenant = await runCli(['deploy', stranger, '--gitops', repo], { env: cliEnv(home) });
    expect(noTenant.code).toBe(4);
    expect(noTenant.stderr).toContain("Tenant 'nobody' is not set up");
    expect(noTenant.stderr).toContain('aerogrid tenant add nobody --topics orders');

    const broken = await writeConnector(join(await tempDir('conn'), 'z'), { name: 'brokenapp', tenant, topics: ['orders'] });
    await writeFile(join(broken, 'app.py'), 'import aerogrid\n\napp = aerogrid.App(\'brokenapp\', broker=BROKER_URI\n');
    const invalid = await runCli(['deploy', broken, '--gitops', repo], { env: cliEnv(home) });
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toMatch(/is not valid; nothing was deployed:\n\s+\S*app\.py:\d+:\d+: /);
    expect(treeOf(repo, 'tenants/sales/apps/brokenapp')).toEqual([]);

    const greedy = await writeConnector(join(await tempDir('conn'), 'y'), { name: 'greedy', tenant, topics: ['payroll'] });
    const denied = await runCli(['deploy', greedy, '--gitops', repo], { env: cliEnv(home) });
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain("may not read 'payroll'");
    expect(treeOf(repo, 'tenants/sales/apps/greedy')).toEqual([]);
  });

  it('refuses a 30 MB aerogrid.yaml and code over the ConfigMap cap with the cap named, and commits nothing', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']).trim();
    const bigSpec = await writeConnector(join(await tempDir('conn'), 'bigspec'), { name: 'bigspec', tenant, topics: ['orders'] });
    await writeFile(join(bigSpec, 'aerogrid.yaml'), `${readFileSync(join(bigSpec, 'aerogrid.yaml'), 'utf8')}# ${'x'.repeat(30 * 1024 * 1024)}\n`);
    const spec = await runCli(['deploy', bigSpec, '--gitops', repo], { env: cliEnv(home) });
    expect(spec.code).toBe(3);
    expect(spec.stderr).toMatch(/at most 256 KiB/);

    const bigCode = await writeConnector(join(await tempDir('conn'), 'bigcode'), { name: 'bigcode', tenant, topics: ['orders'] });
    await writeFile(join(bigCode, 'data.py'), `DATA = "${'x'.repeat(2 * 1024 * 1024)}"\n`);
    const code = await runCli(['deploy', bigCode, '--gitops', repo], { env: cliEnv(home) });
    expect(code.code).toBe(3);
    expect(code.stderr).toMatch(/at most 768 KiB/);
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(before);
  });

  it('refuses a dead-letter topic that another app of the tenant writes its dead letters to, or is named after, naming the app and the rule', async () => {
    // (A dead-letter topic must lie in aerogrid.<tenant>., which no tenant may be granted to read:
    // the "a topic another app reads" rule cannot be reached through tenant add any more.)
    const ops = 'ops';
    const add = await runCli(['tenant', 'add', ops, '--topics', 'orders', '--gitops', repo], { env: cliEnv(home) });
    expect(add.code, add.stderr).toBe(0);
    const withDeadLetter = async (dir: string, topic: string) => {
      const file = join(dir, 'aerogrid.yaml');
      await writeFile(file, (await import('node:fs')).readFileSync(file, 'utf8').replace('  topics:', `  deadLetter: {topic: ${topic}}\n  topics:`));
      return dir;
    };
    const victim = await withDeadLetter(await writeConnector(join(await tempDir('conn'), 'victim'), { name: 'victim', tenant: ops, topics: ['orders'] }), 'aerogrid.ops.victim-rejects');
    const ok = await runCli(['deploy', victim, '--gitops', repo], { env: cliEnv(home) });
    expect(ok.code, ok.stderr).toBe(0);
    for (const [topic, message] of [
      ['aerogrid.ops.victim-rejects', "is the dead-letter topic of app 'victim': a dead-letter topic may not be another app's dead-letter topic"],
      ['aerogrid.ops.victim', "is the consumer group of app 'victim': a dead-letter topic may not be another app's consumer group"],
    ] as const) {
      const attacker = await withDeadLetter(await writeConnector(join(await tempDir('conn'), 'attacker'), { name: 'attacker', tenant: ops, topics: ['orders'] }), topic);
      const refused = await runCli(['deploy', attacker, '--gitops', repo], { env: cliEnv(home) });
      expect(refused.code, topic).toBe(3);
      expect(refused.stderr, topic).toContain(`spec.deadLetter.topic '${topic}' ${message}`);
      expect(treeOf(repo, 'tenants/ops/apps/attacker'), topic).toEqual([]);
    }
    // Its own dead-letter topic again is fine: a redeploy of the victim goes through.
    expect((await runCli(['deploy', victim, '--gitops', repo], { env: cliEnv(home) })).code).toBe(0);
  });

  it('lands all of 8 deploys of different apps started at once', async () => {
    const before = Number(gitIn(repo, ['rev-list', '--count', 'main']).trim());
    const root = await tempDir('conn8');
    const names = Array.from({ length: 8 }, (_, i) => `burst${i}`);
    const dirs = await Promise.all(names.map((name) => writeConnector(join(root, name), { name, tenant, topics: ['ticks.burst'] })));
    const runs = await Promise.all(dirs.map((dir) => runCli(['deploy', dir, '--gitops', repo, '--json'], { env: cliEnv(home) })));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(Number(gitIn(repo, ['rev-list', '--count', 'main']).trim())).toBe(before + 8);
    for (const name of names) expect(treeOf(repo, `tenants/sales/apps/${name}`)).toContain(`tenants/sales/apps/${name}/code/app.py`);
    const commits = runs.map((r) => JSON.parse(r.stdout).commit);
    const history = gitIn(repo, ['rev-list', 'main']).split('\n');
    for (const commit of commits) expect(history).toContain(commit);
  }, 180_000);

  it('stops with a clear message when the same app\'s files changed at the same time', async () => {
    const [a, b] = await Promise.all([cloneRepo(repo), cloneRepo(repo)]);
    try {
      for (const [work, n] of [[a, 1], [b, 2]] as const) {
        await writeFile(join(work.dir, 'tenants/sales/apps/ordersapp/code/app.py'), `print(${n})\n`);
        await commitChange(work, { paths: ['tenants/sales/apps/ordersapp'], subject: `edit ${n}`, trailers: { 'AeroGrid-App': 'sales/ordersapp' } });
      }
      await pushWithRetry(a, { what: 'a', conflictMessage: () => 'unexpected' });
      const error = await pushWithRetry(b, { what: 'the deploy', conflictMessage: (other) => `Another change to sales/ordersapp landed (${other}).` }).catch((e) => e);
      expect(error.message).toMatch(/^Another change to sales\/ordersapp landed \([0-9a-f]+ .*edit 1\)\.$/);
      expect(error.hint).toContain('Nothing was pushed');
      expect(fileAt(repo, 'tenants/sales/apps/ordersapp/code/app.py')).toBe('print(1)\n');
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });
});
