// `aerogrid test`: the connector's own pytest tests, offline, with the SDK (and its testing
// harness, aerogrid.testing) on PYTHONPATH. No Kafka, no sidecar, nothing written to the folder.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { packageRoot, pythonSdkPath } from '../paths.js';
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
  const env = {
    ...process.env,
    PYTHONPATH: [pythonSdkPath, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  await checkAppLoads(dir, python, env);
  const reportDir = await mkdtemp(join(tmpdir(), 'aerogrid-test-'));
  const report = join(reportDir, 'junit.xml');
  // The counts for --json come from a JUnit report; without --json, pytest's own report is the output.
  const junit = options.json ? [`--junitxml=${report}`, '-o', 'junit_family=xunit2'] : [];
  const args = ['-m', 'pytest', '-p', 'no:cacheprovider', ...junit, ...(options.pytestArgs ?? [])];
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

const loadCheckScript = join(packageRoot, 'src', 'connector', 'load_check.py');

interface LoadCheck { ok: boolean; message?: string; line?: number | null; source?: string | null; hint?: string | null }

/**
 * Loads the app once before pytest: when it cannot load (a NameError in a Record, an exception at
 * module level), every test would fail with the same traceback through the SDK's loader, so the
 * cause is said once, at the user's file and line, and pytest does not run. A missing Python is
 * left to the pytest run to report.
 */
async function checkAppLoads(dir: string, python: string, env: NodeJS.ProcessEnv): Promise<void> {
  let entrypoint = 'app.py';
  try {
    const { loadSpec } = await import('../app-spec/load.js');
    entrypoint = (await loadSpec(dir))?.spec.entrypoint ?? entrypoint;
  } catch {
    // An invalid aerogrid.yaml is `aerogrid validate`'s to report; the tests may still run.
  }
  const file = join(dir, entrypoint);
  if (!existsSync(file)) return;
  const result = await new Promise<LoadCheck | null>((resolvePromise) => {
    execFile(python, ['-B', loadCheckScript, file], { cwd: dir, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      try {
        resolvePromise(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as LoadCheck);
      } catch {
        resolvePromise(error ? null : { ok: true });
      }
    });
  });
  if (!result || result.ok) return;
  const shown = relative(process.cwd(), file) || entrypoint;
  const message = (result.message ?? 'the app does not load').replace(file, shown);
  const excerpt = result.line && result.source ? `\n  ${String(result.line).padStart(4)} | ${result.source}` : '';
  throw new CliError(`${message}${excerpt}\nThe app does not load, so no test ran.`, {
    exitCode: ExitCode.failure,
    hint: `${result.hint ? `${result.hint}; then` : `fix ${shown}${result.line ? ` at line ${result.line}` : ''}, then`} run \`aerogrid test\` again (\`aerogrid validate\` finds such mistakes without running the app)`,
  });
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
