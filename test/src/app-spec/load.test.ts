// The spec library on its own: name rules and their suggestions, loadSpec for commands that run a
// connector, template rendering, the published schema and its ahead-of-time compiled validator.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../../../src/errors.js';
import { pythonCommand } from '../../../src/connector/python.js';
import { render, yamlScalar } from '../../../src/connector/templates.js';
import { generatedValidatorFile, generateValidatorSource } from '../../../src/app-spec/generate-validator.js';
import { checkSpecText, loadSpec, schemaPath } from '../../../src/app-spec/load.js';
import { dns1123Problem, gridProblem, toDns1123, topicProblem } from '@aerogrid/protocol/names';
import { entrypointProblem } from '../../../src/app-spec/names.js';
import { tempDir } from '../../helpers/files.js';

let base: string;
beforeAll(() => { base = tempDir(); });
afterAll(() => rmSync(base, { recursive: true, force: true }));

const MINIMAL = `apiVersion: aerogrid.dev/v1
kind: App
metadata:
  name: shop
  tenant: sales
spec:
  topics: [orders]
  grids:
    - name: product_sum
`;

describe('names', () => {
  it.each([
    ['orders-app', undefined, undefined],
    ['Orders_App', /uppercase/, 'orders-app'],
    ['orders_app', /'_'/, 'orders-app'],
    ['-orders', /starts with '-'/, 'orders'],
    ['orders-', /ends with '-'/, 'orders'],
    ['a'.repeat(64), /64 characters/, 'a'.repeat(63)],
    ['../etc', /looks like a path/, 'etc'],
    ['café', /'é'/, 'cafe'],
    ['', /is empty/, undefined],
  ])('DNS-1123 %j', (value, reason, suggestion) => {
    const p = dns1123Problem(value);
    if (!reason) { expect(p).toBeUndefined(); return; }
    expect(p?.reason).toMatch(reason);
    expect(p?.suggestion).toBe(suggestion);
    if (suggestion) expect(dns1123Problem(suggestion)).toBeUndefined();
  });

  it('suggestions are always valid labels', () => {
    for (const v of ['A__B', '---x---', 'Ünïcödé Name', 'x'.repeat(100), '9lives']) {
      const s = toDns1123(v);
      expect(dns1123Problem(s), `${v} -> ${s}`).toBeUndefined();
    }
  });

  it('topics, grids and entrypoints', () => {
    expect(topicProblem('orders.v1_eu-west')).toBeUndefined();
    expect(topicProblem('..')?.reason).toMatch(/Kafka does not allow/);
    expect(topicProblem('a b')?.suggestion).toBe('a-b');
    expect(gridProblem('product_sum')).toBeUndefined();
    expect(gridProblem('1st')?.reason).toMatch(/start with a letter/);
    expect(entrypointProblem('src/app.py')).toBeUndefined();
    expect(entrypointProblem('src/../../x.py')?.reason).toMatch(/climbs out/);
    expect(entrypointProblem('C:\\app.py')?.reason).toMatch(/absolute/);
    expect(entrypointProblem('~/app.py')?.reason).toMatch(/'~'/);
    expect(entrypointProblem('src\\app.py')?.suggestion).toBe('src/app.py');
  });
});

describe('loadSpec', () => {
  it('gives the spec with every default filled in', async () => {
    const dir = join(base, 'ok');
    mkdirSync(dir);
    writeFileSync(join(dir, 'aerogrid.yaml'), MINIMAL);
    const loaded = await loadSpec(dir);
    expect(loaded?.spec).toEqual({
      apiVersion: 'aerogrid.dev/v1', kind: 'App', name: 'shop', tenant: 'sales', description: '',
      entrypoint: 'app.py', topics: ['orders'], grids: [{ name: 'product_sum' }], replicas: 1,
      resources: { cpu: '250m', memory: '256Mi' }, access: { groups: [] },
      deadLetter: { topic: 'aerogrid.sales.shop.dlq', policy: 'dlq', retention: '7d' },
    });
  });

  it('is undefined without aerogrid.yaml, and throws exit 3 with every problem when invalid', async () => {
    const dir = join(base, 'bad');
    mkdirSync(dir);
    expect(await loadSpec(dir)).toBeUndefined();
    writeFileSync(join(dir, 'aerogrid.yaml'), MINIMAL.replace('name: shop', 'name: Shop').replace('tenant: sales', 'tenant: sales\n  team: x'));
    const error = await loadSpec(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.invalid);
    expect((error as CliError).message).toMatch(/aerogrid\.yaml:4:9: metadata\.name "Shop" has uppercase letters/);
    expect((error as CliError).message).toMatch(/aerogrid\.yaml:6:3: unknown key 'team' in metadata/);
  });

  it('keeps the dead-letter topic inside the tenant\'s topics, and reads the policy', async () => {
    const withDeadLetter = (block: string) => MINIMAL.replace('  topics:', `  deadLetter: ${block}\n  topics:`);
    const ok = await checkSpecText(withDeadLetter('{topic: aerogrid.sales.shop-rejects, policy: stop}'), 'aerogrid.yaml');
    expect(ok.problems).toEqual([]);
    expect(ok.spec?.deadLetter).toEqual({ topic: 'aerogrid.sales.shop-rejects', policy: 'stop', retention: '7d' });
    for (const [topic, reason] of [
      ['shop.dead-letters', /outside tenant sales's topics: an app's dead-letter topic must start with 'aerogrid\.sales\.'/],
      ['aerogrid.billing.shop.dlq', /outside tenant sales's topics/],
      ['aerogrid.sales-eu.shop.dlq', /outside tenant sales's topics/],
      ['aerogrid.sales.', /outside tenant sales's topics/],
      ['aerogrid.sales.shop.changelog', /is the app's changelog topic/],
    ] as const) {
      const r = await checkSpecText(withDeadLetter(`{topic: ${topic}}`), 'aerogrid.yaml');
      expect(r.spec, topic).toBeUndefined();
      expect(r.problems.map((p) => [p.path, p.message]), topic).toEqual([['spec.deadLetter.topic', expect.stringMatching(reason)]]);
      expect(r.problems[0]!.hint, topic).toMatch(/aerogrid\.sales\.shop\.dlq/);
    }
    const moved = await checkSpecText(withDeadLetter('{topic: shop.dead-letters}'), 'aerogrid.yaml');
    expect(moved.problems[0]!.hint).toContain('`topic: aerogrid.sales.shop.dead-letters`');
    const policy = await checkSpecText(withDeadLetter('{policy: skip}'), 'aerogrid.yaml');
    expect(policy.problems.map((p) => [p.code, p.message])).toEqual([['bad-value', 'spec.deadLetter.policy must be dlq or stop, not "skip"']]);
    expect(policy.problems[0]!.hint).toMatch(/policy: stop/);
  });

  it('refuses a dead-letter topic that is any app\'s changelog, dead letters, consumer group or internal name, naming the rule', async () => {
    const withDeadLetter = (block: string) => MINIMAL.replace('  topics:', `  deadLetter: ${block}\n  topics:`);
    for (const [topic, reason] of [
      ['aerogrid.sales.victim.changelog', /a dead-letter topic may not be an app's changelog/],
      ['aerogrid.sales.victim.dlq', /a dead-letter topic may not be another app's dead-letter topic/],
      ['aerogrid.sales.victim.dev.dlq', /may not be another app's dead-letter topic/],
      ['aerogrid.sales.victim.tx', /a dead-letter topic may not be one of AeroGrid's internal names/],
      ['aerogrid.sales.shop.restore.0', /may not be one of AeroGrid's internal names/],
      ['aerogrid.sales.shop.follow', /may not be one of AeroGrid's internal names/],
      ['aerogrid.sales.shop', /may not be the app's consumer group/],
    ] as const) {
      const r = await checkSpecText(withDeadLetter(`{topic: ${topic}}`), 'aerogrid.yaml');
      expect(r.spec, topic).toBeUndefined();
      expect(r.problems.map((p) => [p.path, p.message]), topic).toEqual([['spec.deadLetter.topic', expect.stringMatching(reason)]]);
      expect(r.problems[0]!.hint, topic).toMatch(/aerogrid\.sales\.shop\.dlq/);
    }
    expect((await checkSpecText(withDeadLetter('{topic: aerogrid.sales.shop.dlq}'), 'aerogrid.yaml')).problems).toEqual([]);
  });

  it('takes the GitOps repo as a URL or a path, never with a password or token in it', async () => {
    const withGitops = (value: string) => MINIMAL.replace('  topics:', `  gitops: ${value}\n  topics:`);
    for (const repo of ['git@github.com:acme/gitops.git', 'https://github.com/acme/gitops.git', '../gitops.git']) {
      const r = await checkSpecText(withGitops(repo), 'aerogrid.yaml');
      expect(r.problems, repo).toEqual([]);
      expect(r.spec?.gitops).toBe(repo);
    }
    const leaky = await checkSpecText(withGitops('https://ci:ghp_abc123@github.com/acme/gitops.git'), 'aerogrid.yaml');
    expect(leaky.spec).toBeUndefined();
    expect(leaky.problems.map((p) => [p.path, p.line, p.column, p.message])).toEqual([['spec.gitops', 7, 11, 'spec.gitops holds a password or token in its URL, and aerogrid.yaml is committed']]);
    expect(leaky.problems[0]!.hint).toContain('`gitops: https://github.com/acme/gitops.git`');
    expect((await checkSpecText(withGitops('""'), 'aerogrid.yaml')).problems.map((p) => p.message)).toEqual(['spec.gitops is empty']);
  });

  it('refuses spec.gitops with any credential in its URL: a token or user as userinfo, a token query parameter', async () => {
    const withGitops = (value: string) => MINIMAL.replace('  topics:', `  gitops: ${JSON.stringify(value)}\n  topics:`);
    for (const repo of [
      'https://ghp_abc123@github.com/acme/gitops.git', 'https://user@github.com/acme/gitops.git',
      'https://github.com/acme/gitops.git?access_token=abc', 'https://gitlab.com/acme/gitops.git?private_token=x&ref=main',
    ]) {
      const r = await checkSpecText(withGitops(repo), 'aerogrid.yaml');
      expect(r.spec, repo).toBeUndefined();
      expect(r.problems.map((p) => p.path), repo).toEqual(['spec.gitops']);
      expect(r.problems[0]!.message, repo).toMatch(/credential|password or token/);
      expect(r.problems[0]!.hint, repo).toContain('gitops: https://');
      expect(r.problems[0]!.hint, repo).toMatch(/credential helper/);
      expect(r.problems[0]!.hint, repo).toContain('AEROGRID_GITOPS');
      expect(r.problems[0]!.hint, repo).not.toMatch(/ghp_abc123|access_token=abc|private_token=x/);
    }
    for (const repo of ['ssh://git@github.com/acme/gitops.git', 'git@github.com:acme/gitops.git', 'https://github.com/acme/gitops.git?ref=main']) {
      expect((await checkSpecText(withGitops(repo), 'aerogrid.yaml')).problems, repo).toEqual([]);
    }
  });

  it('refuses a spec.gitops starting with - (git would read it as an option)', async () => {
    const r = await checkSpecText(MINIMAL.replace('  topics:', '  gitops: "--upload-pack=touch pwned"\n  topics:'), 'aerogrid.yaml');
    expect(r.spec).toBeUndefined();
    expect(r.problems.map((p) => [p.path, p.message])).toEqual([['spec.gitops', 'spec.gitops starts with \'-\', which git would read as an option']]);
    expect(r.problems[0]!.hint).toMatch(/\.\/-/);
  });

  it('refuses an aerogrid.yaml over the 256 KiB cap, naming the cap', async () => {
    const huge = MINIMAL + `# ${'x'.repeat(300 * 1024)}\n`;
    const r = await checkSpecText(huge, 'aerogrid.yaml');
    expect(r.spec).toBeUndefined();
    expect(r.problems.map((p) => p.code)).toEqual(['too-large']);
    expect(r.problems[0]!.message).toMatch(/256 KiB/);
  });

  it('accepts a number for cpu, as Kubernetes does', async () => {
    const r = await checkSpecText(MINIMAL.replace('  topics:', '  resources: {cpu: 0.5}\n  topics:'), 'aerogrid.yaml');
    expect(r.problems).toEqual([]);
    expect(r.spec?.resources.cpu).toBe('0.5');
  });
});

describe('templates', () => {
  it('fills placeholders, quotes for YAML on request, leaves GitHub expressions alone', () => {
    expect(render('n={{name}} y={{name|yaml}} gh=${{ secrets.X }}', { name: '123' }, 'f')).toBe('n=123 y="123" gh=${{ secrets.X }}');
    expect(() => render('{{nmae}}', { name: 'x' }, 'app.py')).toThrow(/app\.py uses \{\{nmae\}\}/);
    expect(yamlScalar('orders')).toBe('orders');
    for (const v of ['true', 'no', '1e3', '0x10', 'null', '007']) expect(yamlScalar(v)).toBe(JSON.stringify(v));
  });
});

describe('the schema', () => {
  it('is valid JSON Schema with a description for every field a user writes', () => {
    const schema = JSON.parse(readFileSync(schemaPath(), 'utf8'));
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const spec = schema.properties.spec.properties;
    for (const key of Object.keys(spec)) expect(spec[key].description, `spec.${key}`).toBeTruthy();
  });

  it('the ahead-of-time validator was generated from the current schema', async () => {
    // If this fails: npx tsc -b && node dist/app-spec/generate-validator.js
    expect(readFileSync(generatedValidatorFile, 'utf8')).toBe(await generateValidatorSource());
  });
});

describe('finding Python', () => {
  // A fake pyenv: <root>/shims/python3 and <root>/versions/<v>/bin/python3, plus a system python3.
  function fakePyenv(name: string) {
    const root = join(base, name);
    const exe = (file: string) => { mkdirSync(join(file, '..'), { recursive: true }); writeFileSync(file, '#!/bin/sh\n'); chmodSync(file, 0o755); };
    exe(join(root, 'shims', 'python3'));
    exe(join(root, 'versions', '3.12.1', 'bin', 'python3'));
    exe(join(root, 'versions', '3.10.4', 'bin', 'python3'));
    exe(join(root, 'system', 'python3'));
    writeFileSync(join(root, 'version'), '3.12.1\n');
    return root;
  }

  function withEnv<T>(env: Record<string, string | undefined>, f: () => T): T {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    for (const [k, v] of Object.entries(env)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    try { return f(); } finally { for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; } }
  }

  it('runs the interpreter a pyenv shim would pick, without the shim', () => {
    const root = fakePyenv('pyenv-a');
    const path = `${join(root, 'shims')}:${join(root, 'system')}`;
    const cwd = join(root, 'project');
    mkdirSync(cwd);
    const run = (env: Record<string, string | undefined>, dir = cwd) => withEnv({ PATH: path, PYENV_ROOT: root, PYENV_VERSION: undefined, AEROGRID_PYTHON: undefined, ...env }, () => pythonCommand(dir));
    expect(run({})).toBe(join(root, 'versions', '3.12.1', 'bin', 'python3'));
    const local = join(cwd, 'local');
    mkdirSync(local);
    writeFileSync(join(local, '.python-version'), '3.10.4\n');
    expect(run({}, local)).toBe(join(root, 'versions', '3.10.4', 'bin', 'python3'));
    const sys = join(cwd, 'sys');
    mkdirSync(sys);
    expect(run({ PYENV_VERSION: 'system' }, sys)).toBe(join(root, 'system', 'python3'));
    const unknown = join(cwd, 'unknown');
    mkdirSync(unknown);
    expect(run({ PYENV_VERSION: '3.12' }, unknown)).toBe(join(root, 'shims', 'python3'));
    expect(run({ AEROGRID_PYTHON: '/opt/py/bin/python3' })).toBe('/opt/py/bin/python3');
  });
});
