// `aerogrid tenant add|list` as an admin runs them, against real git repositories.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, fileAt, gitIn, tempDir, treeOf } from '../../helpers/gitops.js';

describe('aerogrid tenant', () => {
  let home: string;
  let repo: string;
  beforeAll(async () => {
    home = await tempDir('tenant-home');
    repo = join(await tempDir('tenant-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
  });

  it('add commits the tenant\'s platform and Argo CD files, and list shows every tenant with its topics', async () => {
    const add = await runCli(['tenant', 'add', 'sales', '--topics', 'orders,prices.*', '--gitops', repo, '--kafka', 'kafka.kafka.svc:9092', '--oidc-issuer', 'https://acme.eu.auth0.com/', '--oidc-audience', 'https://aerogrid.acme.com', '--json'], { env: cliEnv(home) });
    expect(add.code, add.stderr).toBe(0);
    const result = JSON.parse(add.stdout);
    expect(result).toMatchObject({ tenant: 'sales', changed: true });
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(result.commit);
    expect(gitIn(repo, ['log', '-1', '--format=%B', 'main'])).toContain('AeroGrid-Tenant: sales');
    expect(treeOf(repo, 'platform/tenants/sales')).toEqual(expect.arrayContaining([
      'platform/tenants/sales/namespace.yaml', 'platform/tenants/sales/app-project.yaml', 'platform/tenants/sales/application-set.yaml',
      'platform/tenants/sales/network-policy.yaml', 'platform/tenants/sales/request-authentication.yaml', 'platform/tenants/sales/authorization-policy.yaml',
    ]));
    expect(fileAt(repo, 'platform/tenants/sales/request-authentication.yaml')).toContain('issuer: "https://acme.eu.auth0.com/"');

    expect((await runCli(['tenant', 'add', 'ops', '--topics', 'metrics', '--gitops', repo], { env: cliEnv(home) })).code).toBe(0);
    expect(fileAt(repo, 'platform/kustomization.yaml')).toMatch(/- tenants\/ops\n\s+- tenants\/sales/);

    const again = await runCli(['tenant', 'add', 'ops', '--topics', 'metrics', '--gitops', repo, '--json'], { env: cliEnv(home) });
    expect(JSON.parse(again.stdout).changed).toBe(false);

    const list = await runCli(['tenant', 'list', '--gitops', repo, '--json'], { env: cliEnv(home) });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ tenant: 'ops', topics: ['metrics'] }),
      expect.objectContaining({ tenant: 'sales', topics: ['orders', 'prices.*'], kafka: 'kafka.kafka.svc:9092' }),
    ]);
  });

  it('refuses a tenant name that would escape its folder, and commits nothing', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']);
    const bad = await runCli(['tenant', 'add', '../platform', '--topics', 'orders', '--gitops', repo], { env: cliEnv(home) });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("Tenant '../platform' is not a valid name");
    expect(bad.stderr).toContain('fix:');
    expect(gitIn(repo, ['rev-parse', 'main'])).toBe(before);
  });

  it('refuses an issuer without an audience (or the reverse) with the fix, and commits nothing', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']);
    const half = await runCli(['tenant', 'add', 'half', '--topics', 'orders', '--gitops', repo, '--oidc-issuer', 'https://acme.eu.auth0.com/'], { env: cliEnv(home) });
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('--oidc-issuer and --oidc-audience go together');
    expect(half.stderr).toContain('fix:');
    expect(gitIn(repo, ['rev-parse', 'main'])).toBe(before);
  });

  it('adds the tenant base to a repo seeded before it existed, with the tenant that needs it', async () => {
    const old = join(await tempDir('tenant-old'), 'gitops.git');
    await ensureLocalRepo(old);
    const work = await tempDir('tenant-old-work');
    gitIn(work, ['clone', '--quiet', old, '.']);
    gitIn(work, ['rm', '-r', '--quiet', 'bases/tenant']);
    gitIn(work, ['commit', '--quiet', '-m', 'a skeleton without the tenant base']);
    gitIn(work, ['push', '--quiet', 'origin', 'HEAD:main']);
    const add = await runCli(['tenant', 'add', 'late', '--topics', 'orders', '--gitops', old, '--json'], { env: cliEnv(home) });
    expect(add.code, add.stderr).toBe(0);
    expect(gitIn(old, ['show', '--name-only', '--format=', 'main']).split('\n')).toEqual(expect.arrayContaining([
      'bases/tenant/v1/kustomization.yaml', 'platform/tenants/late/kustomization.yaml',
    ]));
  });

  it('creates the local GitOps repo on first use when none is given', async () => {
    const fresh = await tempDir('tenant-fresh');
    const add = await runCli(['tenant', 'add', 'solo', '--topics', 'orders'], { env: { ...cliEnv(fresh), AEROGRID_GITOPS: '' } });
    expect(add.code, add.stderr).toBe(0);
    const local = join(fresh, 'gitops.git');
    expect(existsSync(join(local, 'HEAD'))).toBe(true);
    expect(treeOf(local)).toEqual(expect.arrayContaining(['bases/connector/v1/deployment.yaml', 'platform/tenants/solo/namespace.yaml']));
  });
  it('refuses topics under the platform\'s internal prefix aerogrid. (names, and patterns reaching into it), and commits nothing', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']);
    for (const topics of ['aerogrid.*', 'orders,aerogrid.sales.shop.changelog', 'aero*', 'a*', 'aerogrid*']) {
      const run = await runCli(['tenant', 'add', 'grabby', '--topics', topics, '--gitops', repo], { env: cliEnv(home) });
      expect(run.code, topics).toBe(3);
      expect(run.stderr, topics).toMatch(/internal topics.*cannot be granted/);
      expect(run.stderr, topics).toContain('fix:');
    }
    expect(gitIn(repo, ['rev-parse', 'main'])).toBe(before);
  });

  it('refuses an issuer that is not https (http only on loopback, as the sidecar), with the fix, and commits nothing', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']);
    for (const issuer of ['http://idp.example.com/', 'file:///etc/passwd', 'not a url']) {
      const run = await runCli(['tenant', 'add', 'plain', '--topics', 'orders', '--gitops', repo, '--oidc-issuer', issuer, '--oidc-audience', 'api'], { env: cliEnv(home) });
      expect(run.code, issuer).toBe(2);
      expect(run.stderr, issuer).toMatch(/--oidc-issuer .* (must be an https:\/\/ URL|is not a URL)/);
      expect(run.stderr, issuer).toContain('fix:');
    }
    expect(gitIn(repo, ['rev-parse', 'main'])).toBe(before);
    const loopback = await runCli(['tenant', 'add', 'local', '--topics', 'orders', '--gitops', repo, '--oidc-issuer', 'http://127.0.0.1:5556/', '--oidc-audience', 'api'], { env: cliEnv(home) });
    expect(loopback.code, loopback.stderr).toBe(0);
  });

  it('refuses a tenant claim that cannot be written into the mesh policy\'s when.key, with the fix, and commits nothing', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']);
    for (const claim of ['tenant"]', "te'nant", 'a b', 'groups[0]', '']) {
      const run = await runCli(['tenant', 'add', 'claimy', '--topics', 'orders', '--gitops', repo, '--oidc-issuer', 'https://acme.eu.auth0.com/', '--oidc-audience', 'api', '--tenant-claim', claim], { env: cliEnv(home) });
      expect(run.code, claim).toBe(2);
      expect(run.stderr, claim).toMatch(/--tenant-claim/);
      expect(run.stderr, claim).toContain('fix:');
    }
    expect(gitIn(repo, ['rev-parse', 'main'])).toBe(before);
    const url = await runCli(['tenant', 'add', 'claimy', '--topics', 'orders', '--gitops', repo, '--oidc-issuer', 'https://acme.eu.auth0.com/', '--oidc-audience', 'api', '--tenant-claim', 'https://aerogrid.dev/tenant'], { env: cliEnv(home) });
    expect(url.code, url.stderr).toBe(0);
    expect(fileAt(repo, 'platform/tenants/claimy/authorization-policy.yaml')).toContain('"request.auth.claims[https://aerogrid.dev/tenant]"');
  });

  it('refuses a --kafka value that is not host:port[,host:port], with the fix, and commits nothing', async () => {
    const before = gitIn(repo, ['rev-parse', 'main']);
    for (const kafka of ['kafka:9092"', '"kafka":9092', "kafka'x:9092", 'kafka', 'kafka:9092,b{x}:9093']) {
      const run = await runCli(['tenant', 'add', 'kafky', '--topics', 'orders', '--gitops', repo, '--kafka', kafka], { env: cliEnv(home) });
      expect(run.code, kafka).toBe(2);
      expect(run.stderr, kafka).toMatch(/invalid Kafka broker|no Kafka broker/);
      expect(run.stderr, kafka).toContain('fix:');
    }
    expect(gitIn(repo, ['rev-parse', 'main'])).toBe(before);
  });
});
