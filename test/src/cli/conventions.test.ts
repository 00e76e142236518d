// What every command promises: help with examples, --version, JSON alone on stdout, documented
// exit codes, shell completion, errors that say what to do; and init's bad input creating nothing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { packageRoot } from '../../../src/paths.js';
import { bin, runCli } from '../../helpers/cli.js';
import { ANSI, snapshot, tempDir } from '../../helpers/files.js';

let base: string;
let connector: string;

beforeAll(async () => {
  base = tempDir();
  connector = join(base, 'shop');
  const r = await runCli(['init', 'shop', '--yes', '--no-git'], { cwd: base });
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Top-level commands as `aerogrid --help` lists them. */
async function listedCommands(): Promise<string[]> {
  const help = await runCli(['--help']);
  const section = help.stdout.split(/^Commands:$/m)[1]!.split(/^\S/m)[0]!;
  return [...section.matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

describe('help and version', () => {
  it('every command\'s --help has examples', async () => {
    const commands = await listedCommands();
    expect(commands).toEqual(expect.arrayContaining(['init', 'validate', 'test', 'completion']));
    for (const command of commands) {
      const r = await runCli([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, `${command} --help`).toMatch(/Examples:\n\s+\$ .*aerogrid /);
    }
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('an unknown command or option is a usage error (exit 2) that points at --help', async () => {
    const r = await runCli(['valdate']);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/unknown command 'valdate'/);
    expect(r.stderr).toMatch(/validate/); // commander's suggestion
    const o = await runCli(['validate', '--jsn']);
    expect(o.code).toBe(ExitCode.usage);
    expect(o.stderr).toContain('--help');
  });
});

describe('--json: only JSON on stdout, everything else on stderr', () => {
  it.each([
    [['validate', '--json'], 0],
    [['test', '--json'], 0],
    [['init', '--list-templates', '--json'], 0],
  ] as const)('aerogrid %j', async (args, code) => {
    const r = await runCli([...args], { cwd: connector });
    expect(r.code, r.stderr).toBe(code);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('test --json sends pytest\'s report to stderr', async () => {
    const r = await runCli(['test', '--json'], { cwd: connector });
    expect(r.stderr).toMatch(/\d+ passed/);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, failed: 0 });
  });

  it('init --json prints what it made', async () => {
    const r = await runCli(['init', 'jsonapp', '--yes', '--no-git', '--json'], { cwd: base });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name: 'jsonapp', template: 'orders-sum', tenant: 'my-team', topic: 'orders', dir: join(base, 'jsonapp') });
    expect(out.files).toContain('app.py');
    expect(out.commit).toBeUndefined();
  });
});

describe('exit codes', () => {
  it('docs/cli.md documents every exit code the CLI uses', () => {
    const doc = readFileSync(join(packageRoot, 'docs', 'cli.md'), 'utf8');
    for (const [name, code] of Object.entries(ExitCode)) {
      expect(doc, `exit code ${code} (${name})`).toMatch(new RegExp(`^\\|\\s*${code}\\s*\\|`, 'm'));
    }
  });

  it('aerogrid test: 4 without tests, 5 without pytest (naming the fix), 5 without Python', async () => {
    const empty = join(base, 'no-tests');
    mkdirSync(empty);
    writeFileSync(join(empty, 'app.py'), 'import aerogrid\n');
    const none = await runCli(['test', empty]);
    expect(none.code).toBe(ExitCode.notFound);
    expect(none.stderr).toMatch(/No tests in .*no-tests/);
    expect(none.stderr).toMatch(/fix: add tests\/test_app\.py/);

    // A Python that cannot import pytest: the same interpreter without its site-packages.
    const noPytest = join(base, 'python-without-pytest');
    writeFileSync(noPytest, `#!/bin/sh\nexec python3 -S "$@"\n`);
    chmodSync(noPytest, 0o755);
    const missing = await runCli(['test', connector], { env: { AEROGRID_PYTHON: noPytest } });
    expect(missing.code).toBe(ExitCode.environment);
    expect(missing.stderr).toContain('pytest is not installed');
    expect(missing.stderr).toMatch(/fix: install it: `pip install pytest` \(or `apt-get install python3-pytest`/);
    expect(missing.stderr).not.toContain('Traceback');

    const noPython = await runCli(['test', connector], { env: { AEROGRID_PYTHON: join(base, 'nope') } });
    expect(noPython.code).toBe(ExitCode.environment);
    expect(noPython.stderr).toMatch(/was not found/);
  });

  it('aerogrid test passes pytest arguments through after --', async () => {
    const r = await runCli(['test', connector, '--json', '--', '-k', 'carry_over']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, passed: 1 });
    const here = await runCli(['test', '--json', '--', '-k', 'carry_over or bad_orders'], { cwd: connector });
    expect(here.code, here.stderr).toBe(0);
    expect(JSON.parse(here.stdout)).toMatchObject({ ok: true, passed: 2 });
  });
});

describe('init never writes on bad input', () => {
  const bad: Array<{ name: string; args: string[]; exit: number; message: RegExp; hint?: RegExp }> = [
    { name: 'a name that is not a DNS-1123 label', args: ['Orders_App', '--yes'], exit: 3, message: /the name 'Orders_App' has uppercase letters/, hint: /name it 'orders-app'/ },
    { name: 'a name that is a path', args: ['../escape', '--yes'], exit: 3, message: /the name '\.\.\/escape' /, hint: /name it 'escape'/ },
    { name: 'a bad tenant and a bad topic, both named', args: ['ok', '--tenant', 'Team A', '--topic', 'or ders', '--yes'], exit: 3, message: /--tenant 'Team A' has uppercase letters.*--topic 'or ders' has a space/, hint: /--tenant team-a.*--topic or-ders/ },
    { name: 'an unknown template', args: ['ok', '--template', 'sum-orders', '--yes'], exit: 3, message: /There is no template 'sum-orders'/, hint: /orders-sum, passthrough, top-n, blank/ },
    { name: 'missing flags without a terminal', args: ['ok'], exit: 2, message: /Missing --template, --tenant and --topic \(no terminal to ask on\); nothing was created/, hint: /or add --yes/ },
    { name: 'no name without a terminal', args: ['--yes'], exit: 2, message: /Missing the app name \(aerogrid init <name>\)/ },
    { name: 'a parent folder that does not exist', args: ['ok', '--yes', '--dir', 'no/such/parent/ok'], exit: 4, message: /The folder no\/such\/parent does not exist/ },
  ];

  it.each(bad)('$name', async (c) => {
    const cwd = join(base, `bad-${bad.indexOf(c)}`);
    mkdirSync(cwd);
    const before = snapshot(cwd);
    const r = await runCli(['init', ...c.args], { cwd, env: { CI: '' } });
    expect(r.code, r.stderr).toBe(c.exit);
    expect(r.stderr).toMatch(c.message);
    if (c.hint) expect(r.stderr).toMatch(new RegExp(`fix: .*${c.hint.source}`));
    expect(r.stdout).toBe('');
    expect(snapshot(cwd)).toEqual(before);
    expect(existsSync(join(base, 'escape'))).toBe(false);
  });

  it('refuses a folder that has files, and leaves them as they were', async () => {
    const cwd = join(base, 'occupied');
    mkdirSync(join(cwd, 'shop'), { recursive: true });
    writeFileSync(join(cwd, 'shop', 'notes.txt'), 'mine\n');
    const before = snapshot(cwd);
    const r = await runCli(['init', 'shop', '--yes'], { cwd });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/shop already exists and is not empty/);
    expect(snapshot(cwd)).toEqual(before);
  });

  it('without git: exit 5, naming the fix, and nothing written', async () => {
    const cwd = join(base, 'no-git-here');
    mkdirSync(cwd);
    const r = await runCli(['init', 'shop', '--yes'], { cwd, env: { PATH: join(base, 'no-such-bin') } });
    expect(r.code).toBe(ExitCode.environment);
    expect(r.stderr).toMatch(/git was not found.*nothing was created/);
    expect(r.stderr).toMatch(/fix: install git .*or pass --no-git/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('on a machine where git knows no user, still makes the first commit, and says so', async () => {
    const home = join(base, 'fresh-home');
    mkdirSync(home);
    const r = await runCli(['init', 'fresh', '--yes'], { cwd: base, env: { HOME: home, GIT_CONFIG_GLOBAL: join(home, 'none'), GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: '', GIT_AUTHOR_EMAIL: '', GIT_COMMITTER_NAME: '', GIT_COMMITTER_EMAIL: '', EMAIL: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('git has no user.name/user.email here');
    const dir = join(base, 'fresh');
    const author = spawnSync('git', ['log', '--format=%an <%ae>'], { cwd: dir, encoding: 'utf8' }).stdout.trim();
    expect(author).toBe('aerogrid init <aerogrid-init@localhost>');
    // The stand-in is not left behind for the user's own commits.
    expect(readFileSync(join(dir, '.git', 'config'), 'utf8')).not.toContain('[user]');
  });

  it('fills an empty folder given with --dir', async () => {
    const target = join(base, 'empty-target');
    mkdirSync(target);
    const r = await runCli(['init', 'filled', '--yes', '--dir', target], { cwd: base });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(target, 'app.py'))).toBe(true);
    expect(existsSync(join(target, '.git'))).toBe(true);
  });
});

describe('completion', () => {
  function complete(shellScript: string, words: string[]): string[] {
    const script = `${shellScript}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _aerogrid_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: base, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash completes commands, subcommands, options, templates and folders', async () => {
    const r = await runCli(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(complete(r.stdout, ['aerogrid', ''])).toEqual(expect.arrayContaining(['init', 'validate', 'test', 'dev', 'kafka', 'completion']));
    expect(complete(r.stdout, ['aerogrid', 'va'])).toEqual(['validate']);
    expect(complete(r.stdout, ['aerogrid', 'kafka', ''])).toEqual(['up', 'down', 'status']);
    expect(complete(r.stdout, ['aerogrid', 'init', '--te'])).toEqual(['--template', '--tenant']);
    expect(complete(r.stdout, ['aerogrid', 'init', '--template', ''])).toEqual(['orders-sum', 'passthrough', 'top-n', 'blank']);
    expect(complete(r.stdout, ['aerogrid', 'init', '--tenant', 'x', '--template', 'p'])).toEqual(['passthrough']);
    expect(complete(r.stdout, ['aerogrid', 'validate', 'sh'])).toEqual(['shop']);
    expect(complete(r.stdout, ['aerogrid', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(r.stdout, ['aerogrid', '--'])).toEqual(expect.arrayContaining(['--version', '--help']));
  });

  const hasZsh = spawnSync('zsh', ['--version']).status === 0;
  const hasFish = spawnSync('fish', ['--version']).status === 0;

  // Never skipped: a machine without the shell fails here with the reason (.ci/run installs both).
  it('zsh loads the script and completes with it', async () => {
    expect(hasZsh, 'zsh is not installed: install it (apt-get install zsh) to test its completion').toBe(true);
    const r = await runCli(['completion', 'zsh']);
    const file = join(base, 'aerogrid.zsh');
    writeFileSync(file, r.stdout);
    const z = spawnSync('zsh', ['-c', `autoload -U compinit && compinit -u; source ${file}; COMP_WORDS=(aerogrid init --template ''); COMP_CWORD=3; _aerogrid_completion; print -rl -- "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    expect(z.status, z.stderr).toBe(0);
    expect(z.stdout.split('\n').filter(Boolean)).toEqual(['orders-sum', 'passthrough', 'top-n', 'blank']);
  });

  it('fish loads the script and completes with it', async () => {
    expect(hasFish, 'fish is not installed: install it (apt-get install fish) to test its completion').toBe(true);
    const r = await runCli(['completion', 'fish']);
    const file = join(base, 'aerogrid.fish');
    writeFileSync(file, r.stdout);
    const run = (line: string) => {
      const f = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' });
      expect(f.status, f.stderr).toBe(0);
      return f.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
    };
    expect(run('aerogrid ')).toEqual(expect.arrayContaining(['init', 'validate', 'test', 'kafka']));
    expect(run('aerogrid kafka ')).toEqual(expect.arrayContaining(['up', 'down', 'status']));
    expect(run('aerogrid init --template ')).toEqual(expect.arrayContaining(['orders-sum', 'passthrough', 'top-n', 'blank']));
  });

  it('an unknown shell is a usage error naming the choices', async () => {
    const r = await runCli(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });
});

it('start-up loads no command\'s heavy dependencies: --help never imports yaml, ajv, inquirer, simple-git or execa', () => {
  const loader = join(base, 'trace.mjs');
  writeFileSync(loader, `
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/node_modules\\/(yaml|ajv|@inquirer|simple-git|execa|ora)\\//.test(r.url)) process.stderr.write('LOADED ' + r.url + '\\n');
  return r;
}
`);
  const r = spawnSync(process.execPath, ['--no-warnings', '--loader', loader, bin, '--help'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toContain('LOADED');
  // The probe works: validate does load yaml.
  const v = spawnSync(process.execPath, ['--no-warnings', '--loader', loader, bin, 'validate', connector, '--json'], { encoding: 'utf8' });
  expect(v.stderr).toContain('LOADED');
});
