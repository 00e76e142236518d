// Errors and output a new user hit: each error names the problem and a `fix:`; a port in use is
// said before anything starts, with the next free port; `test -q` reaches pytest; status and
// tenant list are aligned tables with a header row; NO_COLOR and FORCE_COLOR are honoured; under
// --json an error is a JSON object on stdout as well. Real processes, a real bare GitOps repo,
// a real pseudo-terminal for the colour checks.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { ExitCode } from '../../../src/errors.js';
import { bin, runCli } from '../../helpers/cli.js';
import { ANSI } from '../../helpers/files.js';
import { cliEnv, tempDir, writeConnector } from '../../helpers/gitops.js';
import { atTerminal } from '../../helpers/terminal.js';

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('every error names the problem and the fix', () => {
  it('serve without --run says which --run to give (exit 2)', async () => {
    const r = await runCli(['serve']);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/^error: serve needs --run/m);
    expect(r.stderr).toMatch(/^fix: aerogrid serve --run local/m);
  });

  it('dev on a port in use says so before starting anything, and names the next free port and --port 0 (exit 5)', async () => {
    const taken = await listen();
    const port = (taken.address() as { port: number }).port;
    const alsoTaken = await listen(port + 1).catch(() => null);
    try {
      const home = await tempDir('port-home');
      const dir = await writeConnector(join(await tempDir('port-conn'), 'portapp'), { name: 'portapp', tenant: 'sales', topics: ['orders'] });
      // A broker nothing listens on: the port check must come first, so Kafka is never needed.
      const r = await runCli(['dev', dir, '--port', String(port), '--broker', '127.0.0.1:1'], { env: cliEnv(home) });
      expect(r.code, r.stderr).toBe(ExitCode.environment);
      expect(r.stderr).toContain(`error: Port ${port} on 127.0.0.1 is in use`);
      expect(r.stderr).not.toContain('EADDRINUSE');
      expect(r.stderr).not.toMatch(/Kafka|sidecar exited/);
      const next = /--port (\d+)/.exec(r.stderr.split('fix:')[1] ?? '')?.[1];
      expect(Number(next)).toBeGreaterThan(port + (alsoTaken ? 1 : 0));
      expect(r.stderr).toMatch(/fix: .*--port 0 for any free port/);
      const free = await listen(Number(next)); // the port it names is free indeed
      free.close();
    } finally {
      taken.close();
      alsoTaken?.close();
    }
  });

  it('usage errors (unknown command, unknown option, bad value) each have a fix line naming a command', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['valdate'], /fix: did you mean `aerogrid validate`\?/],
      [['validate', '--jsn'], /fix: did you mean --json\? \(`aerogrid validate --help` lists its options\)/],
      [['dev', '--port', 'abc'], /fix: `aerogrid dev --help` shows how to call it/],
      [['tenant', 'add', 'sales'], /fix: `aerogrid tenant add --help` shows how to call it/],
    ];
    for (const [args, fix] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(ExitCode.usage);
      expect(r.stderr, args.join(' ')).toMatch(/^error: /);
      expect(r.stderr, args.join(' ')).toMatch(fix);
    }
  });

  it('test -q hands -q to pytest instead of refusing it', async () => {
    const base = await tempDir('quiet');
    expect((await runCli(['init', 'quiet', '--yes', '--no-git'], { cwd: base })).code).toBe(0);
    const dir = join(base, 'quiet');
    const loud = await runCli(['test'], { cwd: dir });
    expect(loud.stdout).toContain('test session starts');
    const quiet = await runCli(['test', '-q'], { cwd: dir });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/\d+ passed/);
    expect(quiet.stdout).not.toContain('test session starts');
    const folder = await runCli(['test', dir, '-q', '--json', '--', '-k', 'carry_over']);
    expect(JSON.parse(folder.stdout)).toMatchObject({ ok: true, passed: 1 });
  });

  it('under --json an error is a JSON object on stdout, and the message is on stderr', async () => {
    const missing = join(await tempDir('json-err'), 'no-such-repo.git');
    const r = await runCli(['status', '--json', '--gitops', missing]);
    expect(r.code).toBe(ExitCode.environment);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ error: { message: expect.stringContaining('no-such-repo.git'), fix: expect.any(String), exitCode: ExitCode.environment } });
    expect(r.stderr).toContain(`error: ${out.error.message}`);
    const usage = await runCli(['validate', '--json', '--jsn']);
    expect(JSON.parse(usage.stdout)).toMatchObject({ error: { message: "unknown option '--jsn'.", exitCode: ExitCode.usage } });
  });
});

describe('tables with a header row', () => {
  let home: string;
  let repo: string;
  beforeAll(async () => {
    home = await tempDir('table-home');
    repo = join(await tempDir('table-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
    for (const [tenant, topics] of [['sales', 'orders,prices.*'], ['research-and-development', 'ticks']] as const) {
      const add = await runCli(['tenant', 'add', tenant, '--topics', topics, '--gitops', repo], { env: cliEnv(home) });
      expect(add.code, add.stderr).toBe(0);
    }
    for (const [name, tenant, topic] of [['a', 'sales', 'orders'], ['long-named-app', 'research-and-development', 'ticks']] as const) {
      const dir = await writeConnector(join(await tempDir('table-conn'), name), { name, tenant, topics: [topic] });
      const d = await runCli(['deploy', dir, '--gitops', repo], { env: cliEnv(home) });
      expect(d.code, d.stderr).toBe(0);
    }
  });

  /** Each line's columns start where the header's do. */
  function expectAligned(lines: string[], headers: string[]): void {
    const starts = headers.map((h) => lines[0]!.indexOf(h));
    expect(starts.every((s, i) => s >= 0 && (i === 0 || s > starts[i - 1]!))).toBe(true);
    for (const line of lines.slice(1)) {
      for (const start of starts.slice(1)) {
        if (line.length > start) expect(line[start - 1], `${line}\n${lines[0]}`).toBe(' ');
        if (line.length > start) expect(line[start], `${line}\n${lines[0]}`).not.toBe(' ');
      }
    }
  }

  it('status prints APP, DESIRED, LIVE, COMMIT... with every row under its header', async () => {
    const r = await runCli(['status', '--gitops', repo], { env: cliEnv(home) });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^APP +DESIRED +LIVE +COMMIT/);
    expect(lines).toHaveLength(3);
    expectAligned(lines, ['APP', 'DESIRED', 'LIVE', 'COMMIT']);
  });

  it('tenant list prints TENANT, TOPICS, KAFKA aligned, without tabs', async () => {
    const r = await runCli(['tenant', 'list', '--gitops', repo], { env: cliEnv(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\t');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TENANT +TOPICS +KAFKA$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['research-and-development', 'sales']);
    expectAligned(lines, ['TENANT', 'TOPICS', 'KAFKA']);
  });
});

describe('colour conventions at a terminal', () => {
  const invalid = ['validate', '/nonexistent-aerogrid-folder'];

  it('colours errors at a terminal by default, and not with FORCE_COLOR=0, FORCE_COLOR=false or NO_COLOR', () => {
    const plain = atTerminal(invalid, []);
    expect(plain.text).toMatch(/error/);
    expect(plain.output, 'colour by default at a terminal').toMatch(ANSI);
    for (const env of [{ FORCE_COLOR: '0' }, { FORCE_COLOR: 'false' }, { NO_COLOR: '1' }]) {
      const r = atTerminal(invalid, [], { env });
      expect(r.text, JSON.stringify(env)).toMatch(/error/);
      expect(r.output, JSON.stringify(env)).not.toMatch(ANSI);
    }
  });

  it('FORCE_COLOR=1 colours even off a terminal', () => {
    const env = { ...process.env, FORCE_COLOR: '1' };
    delete env.NO_COLOR;
    const r = spawnSync(process.execPath, [bin, ...invalid], { env, encoding: 'utf8' });
    expect(r.stderr).toMatch(ANSI);
  });
});
