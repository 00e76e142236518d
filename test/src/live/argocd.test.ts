// status and deploy --wait against a recorded Argo CD API (no cluster or Argo CD can run here): a
// loopback server replays Argo CD's Application response, moving from OutOfSync/Progressing to
// Synced/Healthy at the GitOps repo's latest commit after a few polls, as Argo CD does after a push.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { runCli } from '../../helpers/cli.js';
import { cliEnv, gitIn, tempDir, writeConnector } from '../../helpers/gitops.js';

describe('status and deploy --wait against a recorded Argo CD API (no cluster can run here)', () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;
  let repo: string;
  let dir: string;
  const seen: Array<{ url: string; authorization?: string }> = [];
  let pollsUntilSynced = 0;

  beforeAll(async () => {
    const recording = await readFile(join(import.meta.dirname, '..', '..', 'fixtures', 'gitops', 'argocd-application.json'), 'utf8');
    {
      repo = join(await tempDir('argo-remote'), 'gitops.git');
      await ensureLocalRepo(repo);
    }
    server = createServer((req, res) => {
      seen.push({ url: req.url!, authorization: req.headers.authorization });
      const match = /^\/api\/v1\/applications\/(argo)-([a-z0-9-]+)$/.exec(req.url ?? '');
      if (!match) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found","code":5}');
      if (req.headers.authorization !== 'Bearer argo-token') return void res.writeHead(401).end('{"error":"invalid session","code":16}');
      const synced = pollsUntilSynced-- <= 0;
      const head = gitIn(repo, ['rev-parse', 'main']).trim();
      const body = recording
        .replaceAll('{{name}}', `${match[1]}-${match[2]}`).replaceAll('{{tenant}}', match[1]!).replaceAll('{{app}}', match[2]!)
        .replaceAll('{{sync}}', synced ? 'Synced' : 'OutOfSync').replaceAll('{{health}}', synced ? 'Healthy' : 'Progressing')
        .replaceAll('{{revision}}', synced ? head : gitIn(repo, ['rev-parse', 'main~1']).trim());
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const home = await tempDir('argo-home');
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AEROGRID_ARGOCD_TOKEN: 'argo-token' };
    expect((await runCli(['tenant', 'add', 'argo', '--topics', 'ticks'], { env })).code).toBe(0);
    dir = await writeConnector(join(await tempDir('argo-conn'), 'argoapp'), { name: 'argoapp', tenant: 'argo', topics: ['ticks'] });
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('deploy --wait returns once Argo CD reports the new commit synced and healthy', async () => {
    pollsUntilSynced = 3;
    const run = await runCli(['deploy', dir, '--wait', '--timeout', '30', '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.live.source).toBe('argocd');
    expect(result.commit).toBe(gitIn(repo, ['rev-parse', 'main']).trim());
    expect(seen.filter((s) => s.url === '/api/v1/applications/argo-argoapp').length).toBeGreaterThanOrEqual(4);
    expect(seen.every((s) => s.authorization === 'Bearer argo-token')).toBe(true);
  });

  it('status shows Argo CD\'s sync and health beside the desired state, also once other apps\' commits land', async () => {
    const other = await writeConnector(join(await tempDir('argo-conn'), 'otherapp'), { name: 'otherapp', tenant: 'argo', topics: ['ticks'] });
    expect((await runCli(['deploy', other], { env })).code).toBe(0);
    pollsUntilSynced = 0;
    const live = JSON.parse((await runCli(['status', 'argoapp', '--json'], { env })).stdout);
    expect(live).toMatchObject({ desired: 'running', live: { source: 'argocd', state: 'live', sync: 'Synced', health: 'Healthy', runningCommit: gitIn(repo, ['rev-parse', 'main']).trim() } });
    expect(live.commit).not.toBe(live.live.runningCommit);
    pollsUntilSynced = 1;
    const behind = JSON.parse((await runCli(['status', 'argoapp', '--json'], { env })).stdout);
    expect(behind.live).toMatchObject({ source: 'argocd', state: 'starting', sync: 'OutOfSync', health: 'Progressing' });
  });

  it('a bad Argo CD token is an environment error with a fix', async () => {
    const run = await runCli(['status', '--json'], { env: { ...env, AEROGRID_ARGOCD_TOKEN: 'wrong' } });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('Argo CD answered HTTP 401');
    expect(run.stderr).toContain('AEROGRID_ARGOCD_TOKEN');
  });
});
