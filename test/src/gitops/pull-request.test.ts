// `aerogrid deploy --pr` against a recorded GitHub API (GitHub cannot be reached here): a loopback
// server replays GitHub's documented response to "create a pull request" and records what the CLI
// sent. The branch itself is pushed to a real bare git repo.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, gitIn, tempDir, writeConnector } from '../../helpers/gitops.js';

interface Recorded { method: string; url: string; authorization?: string; body: any }

describe('deploy --pr against a recorded GitHub API (GitHub cannot be reached here)', () => {
  let server: Server;
  let api: string;
  const requests: Recorded[] = [];
  let home: string;
  let repo: string;
  let dir: string;

  beforeAll(async () => {
    const recording = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'fixtures', 'gitops', 'github-pulls-create.json'), 'utf8'));
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => { text += d; });
      req.on('end', () => {
        const body = text ? JSON.parse(text) : undefined;
        requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        if (req.method === 'POST' && req.url === '/repos/acme/gitops/pulls') {
          const reply = JSON.stringify(recording.body)
            .replaceAll('{{title}}', body.title).replaceAll('{{head}}', body.head).replaceAll('{{sha}}', '0'.repeat(40))
            .replaceAll('"{{body}}"', JSON.stringify(body.body));
          res.writeHead(recording.status, recording.headers).end(reply);
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    home = await tempDir('pr-home');
    repo = join(await tempDir('pr-remote'), 'gitops.git');
    await ensureLocalRepo(repo);
    expect((await runCli(['tenant', 'add', 'sales', '--topics', 'orders', '--gitops', repo], { env: cliEnv(home) })).code).toBe(0);
    dir = await writeConnector(join(await tempDir('pr-conn'), 'prapp'), { name: 'prapp', tenant: 'sales', topics: ['orders'] });
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('pushes a branch, leaves main alone and opens a pull request with the token from the environment', async () => {
    const main = gitIn(repo, ['rev-parse', 'main']).trim();
    const run = await runCli(['deploy', dir, '--gitops', repo, '--pr', '--github-repo', 'acme/gitops', '--json'], { env: { ...cliEnv(home), GITHUB_API_URL: api, GITHUB_TOKEN: 'ghp_fromenv' } });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.pullRequest).toMatchObject({ number: 42, url: 'https://github.com/acme/gitops/pull/42' });
    expect(gitIn(repo, ['rev-parse', 'main']).trim()).toBe(main);
    const branch = result.pullRequest.branch as string;
    expect(branch).toMatch(/^aerogrid\/deploy-sales-prapp-[0-9a-f]{12}$/);
    expect(gitIn(repo, ['rev-parse', branch]).trim()).toBe(result.commit);
    const sent = requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', url: '/repos/acme/gitops/pulls', authorization: 'token ghp_fromenv' });
    expect(sent.body).toMatchObject({ head: branch, base: 'main', title: 'Deploy sales/prapp' });
    expect(sent.body.body).toContain('AeroGrid-App: sales/prapp');
  });

  it('takes the token from stdin, and refuses to run without one', async () => {
    const env = { ...cliEnv(home), GITHUB_API_URL: api, GITHUB_TOKEN: '', GH_TOKEN: '' };
    const none = await runCli(['deploy', dir, '--gitops', repo, '--pr', '--github-repo', 'acme/gitops'], { env });
    expect(none.code).toBe(5);
    expect(none.stderr).toContain('GITHUB_TOKEN');
    const piped = await runCli(['deploy', dir, '--gitops', repo, '--pr', '--github-repo', 'acme/gitops', '--token-stdin', '--json'], { env, input: 'ghp_fromstdin\n' });
    expect(piped.code, piped.stderr).toBe(0);
    expect(requests.at(-1)!.authorization).toBe('token ghp_fromstdin');
  });
});
