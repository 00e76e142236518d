// The GitOps repo as Argo CD clones it: a URL, never a path of the machine that runs the CLI.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError, ExitCode } from '../errors.js';

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
/** git's scp-like form: git@github.com:acme/gitops.git */
const SCP_LIKE = /^[^/@\s]+@[^:\s/]+:/;

export function isRepoUrl(value: string): boolean {
  return URL_LIKE.test(value) || SCP_LIKE.test(value);
}

/**
 * `--repo-url` as Argo CD will use it. A path given there is taken at its word, as the repo on
 * the machine Argo CD runs on, and written as a file:// URL.
 */
export function explicitRepoUrl(value: string): string {
  if (!value || value.startsWith('-')) {
    throw new CliError(`--repo-url '${value}' is not a repository URL.`, { exitCode: ExitCode.usage, hint: 'Pass the URL Argo CD clones the GitOps repo from, e.g. --repo-url https://git.example.com/acme/gitops.git' });
  }
  return isRepoUrl(value) ? value : pathToFileURL(isAbsolute(value) ? value : resolve(value)).href;
}

/**
 * The repo URL for Argo CD when no --repo-url was given: the GitOps repo itself if it is a URL;
 * a filesystem path is refused, since Argo CD clones from its own machine.
 */
export function repoUrlFor(gitops: string, what: string): string {
  if (isRepoUrl(gitops)) return gitops;
  throw new CliError(`The GitOps repo ${gitops} is a path on this machine, but Argo CD clones ${what} by URL.`, {
    exitCode: ExitCode.usage,
    hint: `Pass the URL Argo CD reaches the repo at: --repo-url https://git.example.com/acme/gitops.git, or --repo-url ${pathToFileURL(resolve(gitops)).href} when Argo CD runs on this machine and reads this path.`,
  });
}
