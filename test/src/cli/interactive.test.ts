// `aerogrid init` at a real terminal: a pseudo-terminal made by Python's pty module
// (test/src/cli/pty_driver.py) runs the CLI and types answers, arrow keys and Ctrl-C into it.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bin, runCli } from '../../helpers/cli.js';
import { atTerminal as runAtTerminal, type PtyResult, type Step } from '../../helpers/terminal.js';
import { ANSI, read, tempDir } from '../../helpers/files.js';

let base: string;

beforeAll(() => { base = tempDir(); });
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Runs aerogrid on a pseudo-terminal in the suite's folder. */
function atTerminal(args: string[], steps: Step[], options: { cwd?: string; env?: Record<string, string> } = {}): PtyResult {
  return runAtTerminal(args, steps, { cwd: base, ...options });
}

const DOWN = '\u001b[B';
const BACKSPACE = '\u007f';

it('asks for everything, checks each answer as it is typed, and creates the connector', async () => {
  const r = atTerminal(['init'], [
    { expect: 'App name', send: 'Ticker_Feed\r' },
    { expect: 'uppercase', send: `${BACKSPACE.repeat('Ticker_Feed'.length)}ticker\r` },
    { expect: 'Template', send: `${DOWN}\r` }, // the second template: passthrough
    { expect: 'Tenant', send: 'trading\r' },
    { expect: 'Kafka topic', send: '\r' }, // the template's default topic
  ]);
  expect(r.error, r.text).toBeNull();
  expect(r.exitCode, r.text).toBe(0);
  expect(r.text).toContain("(try 'ticker-feed')");
  expect(r.text).toMatch(/Created ticker from the passthrough template \(app ticker, tenant trading, topic prices/);
  expect(r.output).toMatch(ANSI); // colour and prompts drawn for a terminal

  const dir = join(base, 'ticker');
  const spec = read(dir, 'aerogrid.yaml');
  expect(spec).toMatch(/name: ticker\n\s+tenant: trading/);
  expect(spec).toMatch(/topics:\n\s+- prices\n/);
  expect(read(dir, 'app.py')).toContain("latest = app.Grid('latest'");
  expect(execFileSync('git', ['log', '--oneline'], { cwd: dir, encoding: 'utf8' }).trim().split('\n')).toHaveLength(1);
  const valid = await runCli(['validate', dir, '--json']);
  expect(JSON.parse(valid.stdout).valid).toBe(true);
});

it('asks only for what the flags leave out', () => {
  const r = atTerminal(['init', 'quotes', '--template', 'top-n'], [
    { expect: 'Tenant', send: '\r' },
    { expect: 'Kafka topic', send: `${BACKSPACE.repeat(10)}trades\r` },
  ]);
  expect(r.error, r.text).toBeNull();
  expect(r.exitCode, r.text).toBe(0);
  expect(r.text).not.toContain('App name');
  expect(r.text).not.toContain('Template');
  const spec = read(join(base, 'quotes'), 'aerogrid.yaml');
  expect(spec).toContain('tenant: my-team');
  expect(spec).toMatch(/- trades\n/);
  expect(spec).toContain('- name: top');
});

it('with --yes at a terminal, asks nothing', () => {
  const r = atTerminal(['init', 'quiet', '--yes'], []);
  expect(r.exitCode, r.text).toBe(0);
  expect(r.text).not.toMatch(/App name|Template|Tenant|Kafka topic/);
  expect(read(join(base, 'quiet'), 'aerogrid.yaml')).toContain('tenant: my-team');
});

it('Ctrl-C at a prompt cancels with exit 130 and creates nothing', () => {
  const dir = tempDir();
  const r = atTerminal(['init'], [
    { expect: 'App name', send: 'half' },
    { expect: 'half', send: '\u0003' },
  ], { cwd: dir });
  expect(r.exitCode, r.text).toBe(130);
  expect(r.text).toContain('Cancelled; nothing was created.');
  expect(readdirSync(dir)).toEqual([]);
  rmSync(dir, { recursive: true });
});

it('under CI, even at a terminal, never asks: it names the missing flags and creates nothing', () => {
  const dir = tempDir();
  const r = atTerminal(['init', 'ci-app'], [], { cwd: dir, env: { CI: 'true' } });
  expect(r.exitCode).toBe(2);
  expect(r.text).toContain('Missing --template, --tenant and --topic (CI is set, so nothing is asked); nothing was created.');
  expect(r.text).toMatch(/fix: aerogrid init ci-app --template orders-sum --tenant <team> --topic <topic>, or add --yes/);
  expect(r.text).not.toContain('App name');
  expect(readdirSync(dir)).toEqual([]);
  rmSync(dir, { recursive: true });
});

it('validate colours its report at a terminal, and not with NO_COLOR', () => {
  const dir = tempDir();
  const setup = spawnSync(process.execPath, [bin, 'init', 'c', '--yes', '--no-git', '--dir', join(dir, 'c')], { encoding: 'utf8' });
  expect(setup.status, setup.stderr).toBe(0);
  rmSync(join(dir, 'c', 'app.py'));
  const coloured = atTerminal(['validate', join(dir, 'c')], []);
  expect(coloured.exitCode).toBe(3);
  expect(coloured.output).toMatch(ANSI);
  expect(coloured.text).toContain('the entrypoint app.py does not exist');
  const plain = atTerminal(['validate', join(dir, 'c')], [], { env: { NO_COLOR: '1' } });
  expect(plain.exitCode).toBe(3);
  expect(plain.output).not.toMatch(ANSI);
  expect(plain.text).toContain('the entrypoint app.py does not exist');
  rmSync(dir, { recursive: true });
});
