// `aerogrid test`: the connector's own pytest tests, offline, with the SDK (and its testing
// harness, aerogrid.testing) on PYTHONPATH. No Kafka, no sidecar, nothing written to the folder.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { pythonSdkPath } from '../paths.js';
import { displayFile } from '../app-spec/display.js';
import { pythonCommand } from './python.js';

const SKIP_DIRS = new Set(['node_modules', '__pycache__', 'venv', 'site-packages', 'build', 'dist']);

/** Test files pytest would collect by default (test_*.py, *_test.py), a few levels down. */
export function findTestFiles(dir: string, depth = 4, base = dir): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth > 0 && !SKIP_DIRS.has(entry.name)) out.push(...findTestFiles(abs, depth - 1, base));
    } else if (/^test_.*\.py$|_test\.py$/.test(entry.name)) {
      out.push(abs.slice(base.length + 1));
    }
  }
  return out.sort();
}

export interface TestSummary {
  dir: string;
  ok: boolean;
  tests: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  /** pytest's own exit code. */
  pytestExitCode: number;
  files: string[];
}

export async function runConnectorTests(dirArg: string, options: { json?: boolean; pytestArgs?: string[] } = {}): Promise<TestSummary> {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CliError(`There is no folder ${dirArg}.`, { exitCode: ExitCode.notFound, hint: 'give the connector folder (the one holding app.py and tests/)' });
  }
  const files = findTestFiles(dir);
  if (files.length === 0) {
    throw new CliError(`No tests in ${displayFile(dir)}: no test_*.py or *_test.py files.`, {
      exitCode: ExitCode.notFound,
      hint: 'add tests/test_app.py (`aerogrid init` writes one; see README.md of a new connector for the testing harness, aerogrid.testing.load_app)',
    });
  }

  const python = pythonCommand(dir);
  const reportDir = await mkdtemp(join(tmpdir(), 'aerogrid-test-'));
  const report = join(reportDir, 'junit.xml');
  // The counts for --json come from a JUnit report; without --json, pytest's own report is the output.
  const junit = options.json ? [`--junitxml=${report}`, '-o', 'junit_family=xunit2'] : [];
  const args = ['-m', 'pytest', '-p', 'no:cacheprovider', ...junit, ...(options.pytestArgs ?? [])];
  const env = {
    ...process.env,
    PYTHONPATH: [pythonSdkPath, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  try {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolvePromise, reject) => {
      const child = spawn(python, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      // pytest's report is the output of this command; under --json it moves to stderr.
      child.stdout.pipe(options.json ? process.stderr : process.stdout, { end: false });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        if (!/No module named pytest/.test(err)) process.stderr.write(chunk);
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(new CliError(`${python} was not found.`, { exitCode: ExitCode.environment, hint: 'install Python 3.9 or newer (e.g. `apt-get install python3`), or set AEROGRID_PYTHON to its path' }));
        } else reject(error);
      });
      child.on('close', (status, signal) => resolvePromise({ code: status ?? (signal ? 128 + 2 : 1), stderr: err }));
    });
    if (/No module named pytest/.test(stderr)) {
      throw new CliError(`pytest is not installed for ${python}.`, {
        exitCode: ExitCode.environment,
        hint: 'install it: `pip install pytest` (or `apt-get install python3-pytest` on Debian and Ubuntu)',
      });
    }
    const counts = await readJunit(report);
    const summary: TestSummary = {
      dir,
      ok: code === 0,
      ...counts,
      passed: Math.max(0, counts.tests - counts.failed - counts.errors - counts.skipped),
      pytestExitCode: code,
      files,
    };
    if (code === 5) {
      throw new CliError(`pytest collected no tests in ${displayFile(dir)} (files: ${files.join(', ')}).`, { exitCode: ExitCode.notFound, hint: 'name test functions test_<something>, in files named test_*.py' });
    }
    return summary;
  } finally {
    await rm(reportDir, { recursive: true, force: true });
  }
}

async function readJunit(file: string): Promise<{ tests: number; failed: number; errors: number; skipped: number }> {
  const counts = { tests: 0, failed: 0, errors: 0, skipped: 0 };
  let xml: string;
  try {
    xml = await readFile(file, 'utf8');
  } catch {
    return counts;
  }
  for (const m of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(m[1]!)?.[1] ?? 0);
    counts.tests += attr('tests');
    counts.failed += attr('failures');
    counts.errors += attr('errors');
    counts.skipped += attr('skipped');
  }
  return counts;
}
