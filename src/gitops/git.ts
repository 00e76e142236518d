// A thin, fast wrapper over the git binary: one process per call, errors that carry git's output.
import { execFile } from 'node:child_process';
import { CliError, ExitCode } from '../errors.js';

/** A git command that failed; a CliError, so one that nothing handles still reads well. */
export class GitError extends CliError {
  constructor(readonly args: string[], readonly stderr: string, readonly code: number | string | undefined) {
    super(`git ${args.join(' ')} failed: ${stderr.trim()}`, { exitCode: ExitCode.environment, hint: 'Check that git can reach the GitOps repo (network, credentials) and that it has a main branch.' });
  }
}

/** Identity for commits made where git has none configured (CI runners, fresh machines). */
const fallbackIdentity = {
  GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? 'AeroGrid',
  GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? 'aerogrid@localhost',
  GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? 'AeroGrid',
  GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? 'aerogrid@localhost',
};

export function git(cwd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
    }, (error, stdout, stderr) => {
      if (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !stderr) {
          reject(new CliError('git is not installed.', { exitCode: ExitCode.environment, hint: 'Install git 2.30 or later.' }));
          return;
        }
        reject(new GitError(args, String(stderr || error.message), (error as any).code));
        return;
      }
      resolve(String(stdout));
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** git with an identity when none is configured. */
export async function gitCommitEnv(cwd: string): Promise<NodeJS.ProcessEnv> {
  const email = await git(cwd, ['config', 'user.email']).catch(() => '');
  return email.trim() ? {} : fallbackIdentity;
}

/** Whether commit `ancestor` is contained in `descendant` (both known to the repo at `cwd`). */
export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  if (ancestor === descendant) return true;
  return git(cwd, ['merge-base', '--is-ancestor', '--end-of-options', ancestor, descendant]).then(() => true, () => false);
}
