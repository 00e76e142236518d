// Shared set-up for the GitOps suites: connector folders, a GitOps repo (a real bare repo in a
// temp folder), and reading its main branch back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { startCli, type CliProcess } from './cli.js';
import { waitFor } from './wait.js';
import { appSource, appYaml } from './connector-files.js';

export { appSource, appYaml };

// Every folder a suite makes lives under one root, removed after the suite's own clean-up (hooks
// registered here, on import, run after the suite's: vitest runs after-hooks as a stack).
const root = mkdtempSync(join(tmpdir(), 'aerogrid-gitops-tests-'));
afterAll(() => rm(root, { recursive: true, force: true }));

// Library calls made in the test process itself (clones for ensureLocalRepo, cloneRepo) keep their
// state in a temp home too, never in the user's ~/.aerogrid.
process.env.AEROGRID_HOME = mkdtempSync(join(root, 'home-'));

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(root, `${prefix}-`));
}

export async function writeConnector(dir: string, options: Parameters<typeof appYaml>[0] & { factor?: number }): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'aerogrid.yaml'), appYaml(options));
  await writeFile(join(dir, 'app.py'), appSource(options.name, options.topics[0]!, options.factor));
  return dir;
}

export function gitIn(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@localhost', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@localhost' } });
}

/** Files at main's tip of a (bare) repo. */
export function treeOf(repo: string, under = ''): string[] {
  return gitIn(repo, ['ls-tree', '-r', '--name-only', 'main', ...(under ? ['--', under] : [])]).split('\n').filter(Boolean);
}

export function fileAt(repo: string, path: string, rev = 'main'): string {
  return gitIn(repo, ['show', `${rev}:${path}`]);
}

export function cliEnv(home: string): NodeJS.ProcessEnv {
  return { AEROGRID_HOME: home, NO_COLOR: '1', CI: '1' };
}

export const skeleton = join(packageRoot, 'gitops');

/**
 * Starts `aerogrid serve --run local` and waits until it serves (failing with its output if it exits).
 * Its directory listens on a free port unless args name one (suites run side by side).
 */
export async function startServe(args: string[], env: NodeJS.ProcessEnv): Promise<CliProcess> {
  const serve = startCli(['serve', '--run', 'local', ...(args.includes('--port') ? [] : ['--port', '0']), ...args], { env });
  await waitFor('serve to start', () => /Serving /.test(serve.output()) || serve.child.exitCode !== null, 30_000);
  if (serve.child.exitCode !== null) throw new Error(`serve exited (${serve.child.exitCode}):\n${serve.output()}`);
  return serve;
}

/** The directory's base URL (no trailing slash) a running serve printed. */
export function directoryUrl(serve: CliProcess): string {
  const url = /Directory and console: (http:\/\/\S+?)\/?$/m.exec(serve.output())?.[1];
  if (!url) throw new Error(`serve printed no directory URL:\n${serve.output()}`);
  return url;
}

/** Ctrl-C, then SIGKILL if it has not stopped within 15 s. */
export async function stopServe(serve: CliProcess | undefined): Promise<void> {
  if (!serve || serve.child.exitCode !== null) return;
  serve.child.kill('SIGINT');
  await Promise.race([serve.exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
}
