// Secrets for GitHub and Argo CD come from the environment or from stdin, never from flags (which
// end up in shell history and process lists) and never from committed files.
import { CliError, ExitCode } from '../errors.js';

export async function readStdinToken(what: string): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError(`--token-stdin reads the ${what} token from standard input, which is a terminal here.`, { exitCode: ExitCode.usage, hint: `Pipe it in, e.g. printenv MY_TOKEN | aerogrid ... --token-stdin` });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const token = Buffer.concat(chunks).toString('utf8').trim();
  if (!token) throw new CliError(`No ${what} token on standard input.`, { exitCode: ExitCode.usage, hint: 'Pipe the token in, or set it in the environment instead.' });
  return token;
}

export async function githubToken(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readStdinToken('GitHub');
  const token = process.env.GITHUB_TOKEN || process.env.GH_TOKEN;
  if (!token) {
    throw new CliError('--pr needs a GitHub token to open the pull request.', { exitCode: ExitCode.environment, hint: 'Set GITHUB_TOKEN (or GH_TOKEN), or pipe the token in with --token-stdin.' });
  }
  return token;
}
