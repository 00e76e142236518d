// `deploy --pr`: push the deploy commit to its own branch and open a pull request on GitHub
// (through @octokit/rest, loaded only here), for GitOps repos whose main branch is protected.
import { CliError, ExitCode } from '../errors.js';
import { git, GitError } from './git.js';
import { BRANCH, type WorkingCopy } from './repo.js';

export interface PullRequestOptions {
  /** owner/name on GitHub; default: parsed from the GitOps repo's URL. */
  githubRepo?: string;
  /** From $GITHUB_TOKEN / $GH_TOKEN or stdin; never from a flag. */
  token: string;
  /** GitHub's API (GitHub Enterprise: https://HOST/api/v3); default $GITHUB_API_URL or api.github.com. */
  apiUrl?: string;
}

export function githubRepoOf(url: string): { owner: string; repo: string } | undefined {
  const match = /github\.com[:/]([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  return match ? { owner: match[1]!, repo: match[2]! } : undefined;
}

export async function openPullRequest(work: WorkingCopy, options: PullRequestOptions & { tenant: string; app: string; commit: string }): Promise<{ url: string; number: number; branch: string }> {
  const target = options.githubRepo
    ? (() => { const [owner, repo] = options.githubRepo.split('/'); return owner && repo ? { owner, repo } : undefined; })()
    : githubRepoOf(work.repo);
  if (!target) {
    throw new CliError(`Cannot tell which GitHub repository ${work.repo} is.`, { exitCode: ExitCode.usage, hint: 'Pass --github-repo OWNER/NAME.' });
  }
  const branch = `aerogrid/deploy-${options.tenant}-${options.app}-${options.commit.slice(0, 12)}`;
  try {
    await git(work.dir, ['push', '--quiet', '--no-verify', '--force', 'origin', `HEAD:refs/heads/${branch}`]);
  } catch (error) {
    throw new CliError(`Pushing the branch ${branch} failed: ${error instanceof GitError ? error.stderr.trim() : String(error)}`, { exitCode: ExitCode.environment, hint: 'Check that this machine may push branches to the GitOps repo.' });
  }
  const { Octokit } = await import('@octokit/rest');
  const octokit = new Octokit({ auth: options.token, baseUrl: options.apiUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com', userAgent: 'aerogrid-cli', request: { retries: 0 } });
  const subject = (await git(work.dir, ['log', '-1', '--format=%s'])).trim();
  const body = (await git(work.dir, ['log', '-1', '--format=%b'])).trim();
  try {
    const { data } = await octokit.rest.pulls.create({ ...target, head: branch, base: BRANCH, title: subject, body: `${body}\n\nOpened by \`aerogrid deploy --pr\`. Merging it deploys the app.` });
    return { url: data.html_url, number: data.number, branch };
  } catch (error: any) {
    if (error?.status === 422) {
      // Already open for this very commit: hand back that one.
      const { data } = await octokit.rest.pulls.list({ ...target, head: `${target.owner}:${branch}`, state: 'open' });
      if (data[0]) return { url: data[0].html_url, number: data[0].number, branch };
    }
    const status = error?.status ? ` (HTTP ${error.status})` : '';
    throw new CliError(`GitHub did not open the pull request${status}: ${error?.message ?? error}`, {
      exitCode: error?.status === 401 || error?.status === 403 ? ExitCode.environment : ExitCode.failure,
      hint: error?.status === 401 || error?.status === 403
        ? 'Check the token in $GITHUB_TOKEN (or given on stdin): it needs permission to open pull requests on the GitOps repo.'
        : `The branch ${branch} was pushed; open the pull request by hand, or run the command again.`,
    });
  }
}
