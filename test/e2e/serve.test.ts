// `aerogrid serve --gitops <repo> --run local` following every commit with real processes: the
// sidecar and Python runtime per app (runConnector), a real Kafka broker and a real bare GitOps repo.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';
import { appSource, cliEnv, directoryUrl, startServe, stopServe, tempDir, writeConnector } from '../helpers/gitops.js';
import { call, watch, type Watcher } from '../helpers/directory.js';

describe('aerogrid serve --run local', () => {
  const broker = testBroker();
  const tenant = uniqueName('serve').replace(/[^a-z0-9-]/g, '');
  const topic = uniqueName('serve-ticks');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-serve' });
  let env: NodeJS.ProcessEnv;
  let serve: CliProcess;
  let dir: string;
  let home: string;
  let directory: string;
  let watcher: Watcher;

  const status = async () => {
    const run = await runCli(['status', 'serveapp', '--json'], { env });
    if (run.code !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout);
  };
  const total = async (url: string, row = 'x') => (await getJson(`${url}v1/grids/totals`)).body?.rows?.[row]?.total;
  // The directory's view of the app (auth is off: every tenant, no token).
  const listed = async () => {
    const r = await call(`${directory}/v1/apps`);
    expect(r.body.tenant).toBeNull();
    return r.body.apps.find((a: any) => a.tenant === tenant && a.name === 'serveapp');
  };
  const send = (values: number[], name = 'x') => kafka.produce(topic, values.map((value, i) => ({ key: `k${i}`, value: JSON.stringify({ name, value }) })));

  beforeAll(async () => {
    home = await tempDir('serve-home');
    const repo = join(await tempDir('serve-remote'), 'gitops.git');
    env = { ...cliEnv(home), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    await kafka.ensureTopic(topic, { partitions: 2 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
    dir = await writeConnector(join(await tempDir('serve-conn'), 'serveapp'), { name: 'serveapp', tenant, topics: [topic] });
    await appendFile(join(dir, 'aerogrid.yaml'), `  deadLetter: {policy: stop, topic: aerogrid.${tenant}.serveapp-rejects}\n`);
    serve = await startServe(['--broker', broker, '--poll', '200'], env);
    directory = directoryUrl(serve);
    watcher = await watch(directory);
  });

  afterAll(async () => {
    watcher?.close();
    await stopServe(serve);
    await kafka.close();
  });

  it('runs each deployed version, starts it again when it dies, stops and restarts it on stop and start, keeps running through a rollback to release 1, and removes a deleted app', async () => {
    // A second runner for the same home is refused.
    const rival = await runCli(['serve', '--run', 'local', '--broker', broker], { env });
    expect(rival.code).toBe(5);
    expect(rival.stderr).toContain('aerogrid serve already runs for this $AEROGRID_HOME');
    // Without auth it stays on loopback, says so, and refuses any other address.
    expect(serve.output()).toContain('auth: off — listening on loopback only');
    expect(directory).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const open = await runCli(['serve', '--run', 'local', '--broker', broker, '--host', '0.0.0.0'], { env: { ...env, AEROGRID_HOME: await tempDir('serve-open') } });
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('binding to 0.0.0.0 without auth is refused');
    // The watch needs no token then: the apps at once (none yet).
    expect(await watcher.next('the apps', (m) => m.type === 'apps')).toMatchObject({ tenant: null, apps: [] });

    // deploy: the app runs and its grid is live with the topic's data.
    const first = JSON.parse((await runCli(['deploy', dir, '--json'], { env })).stdout);
    await send([5, 7]);
    const live = await waitFor('the app live', async () => { const s = await status(); return s.live.state === 'live' && s.live.runningCommit === first.commit ? s : null; }, 60_000);
    await waitFor('the grid to sum 12', async () => (await total(live.live.url)) === 12, 30_000);
    // The directory lists it, desired and live, with the sidecar to use; the watch said it is ready.
    const entry = await waitFor('the directory to list it ready', async () => { const a = await listed(); return a?.ready ? a : null; }, 30_000);
    expect(entry).toMatchObject({ desired: 'running', status: 'running', revision: first.commit, url: live.live.url.replace(/\/$/, ''), grids: [{ name: 'totals', columns: ['total'] }] });
    await watcher.next('ready', (m) => m.type === 'ready' && m.app.name === 'serveapp');
    // The sidecar runs with the spec's dead-letter policy and topic.
    expect((await getJson(`${live.live.url}v1/status`)).body.dead_letter).toEqual({ policy: 'stop', topic: `aerogrid.${tenant}.serveapp-rejects` });

    // An app whose sidecar dies is started again.
    const state = JSON.parse(await readFile(join(home, 'serve', 'state.json'), 'utf8'));
    process.kill(state.apps[`${tenant}/serveapp`].pids.sidecar, 'SIGKILL');
    const revived = await waitFor('the app restarted', async () => { const s = await status(); return s.live.state === 'live' && s.live.url !== live.live.url ? s : null; }, 60_000);
    expect(revived.live.runningCommit).toBe(first.commit);

    // A new version replaces the running one: new records go through the new code.
    // deploy --wait returns once that version is live.
    await writeFile(join(dir, 'app.py'), appSource('serveapp', topic, 10));
    const waited = await runCli(['deploy', dir, '--wait', '--timeout', '60', '--json'], { env });
    expect(waited.code, waited.stderr).toBe(0);
    const second = JSON.parse(waited.stdout);
    expect(second.live.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const updated = await status();
    expect(updated.live).toMatchObject({ state: 'live', runningCommit: second.commit, url: second.live.url });
    expect(updated.live.url).not.toBe(live.live.url);
    await send([1], 'y');
    await waitFor('the new code to count y ten times', async () => (await total(updated.live.url, 'y')) === 10, 30_000);
    // Same tenant and app, so the same consumer group and changelog: the grid carries on.
    expect(await total(updated.live.url, 'x')).toBe(12);

    // logs: both containers, prefixed; --container keeps one.
    const logs = await runCli(['logs', 'serveapp'], { env });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^\[sidecar\] /m);
    expect(logs.stdout).toMatch(/^\[runtime\] /m);
    const runtimeOnly = (await runCli(['logs', `${tenant}/serveapp`, '--container', 'runtime'], { env })).stdout.split('\n').filter(Boolean);
    expect(runtimeOnly.length).toBeGreaterThan(0);
    expect(runtimeOnly.every((line) => line.startsWith('[runtime] '))).toBe(true);
    expect(runtimeOnly).toContain('[runtime] serveapp loaded, factor 10');
    const follow = startCli(['logs', 'serveapp', '--follow'], { env });

    // stop: the grid is gone, and the follower sees it.
    expect((await runCli(['stop', 'serveapp'], { env })).code).toBe(0);
    await waitFor('logs --follow to show the stop', () => follow.output().includes(`[serve] stopped ${tenant}/serveapp`), 30_000);
    follow.child.kill('SIGINT');
    expect(await follow.exited).toBe(0);
    await waitFor('the app stopped', async () => (await status()).live.state === 'stopped', 30_000);
    expect(await waitFor('the directory to show it stopped', async () => { const a = await listed(); return a.status === 'stopped' ? a : null; }, 30_000)).toMatchObject({ desired: 'stopped', url: null, ready: false });
    await expect(fetch(`${updated.live.url}v1/grids/totals`)).rejects.toThrow();

    // start: live again, its grid restored, consuming where it stopped.
    expect((await runCli(['start', 'serveapp'], { env })).code).toBe(0);
    const restarted = await waitFor('the app live again', async () => { const s = await status(); return s.live.state === 'live' ? s : null; }, 60_000);
    await send([3], 'z');
    await waitFor('the restarted app to count z', async () => (await total(restarted.live.url, 'z')) === 30, 30_000);
    await waitFor('the directory to show it running', async () => { const a = await listed(); return a.desired === 'running' && a.status === 'running' && a.url === restarted.live.url.replace(/\/$/, ''); }, 30_000);
    expect(await total(restarted.live.url, 'x')).toBe(12);

    // rollback: release 1's code runs again, and the app stays running (stop and start are not releases).
    const back = await runCli(['rollback', 'serveapp', '--json'], { env });
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ release: 1, changed: true });
    const rolledBack = await waitFor('release 1 live again', async () => { const s = await status(); return s.live.state === 'live' && s.live.runningCommit === JSON.parse(back.stdout).commit ? s : null; }, 60_000);
    await send([4], 'w');
    await waitFor('release 1\'s code to count w once', async () => (await total(rolledBack.live.url, 'w')) === 4, 30_000);

    // delete: the runner lets go of it.
    const again = await waitFor('live before delete', async () => { const s = await status(); return s.live.state === 'live' ? s : null; }, 60_000);
    expect((await runCli(['delete', 'serveapp', '--confirm', 'serveapp'], { env })).code).toBe(0);
    await waitFor('the deleted app to be gone', async () => {
      try { await fetch(`${again.live.url}readyz`); return false; } catch { return true; }
    }, 30_000);
    expect(serve.output()).toMatch(/serveapp deleted/);
    await waitFor('the directory to drop it', async () => (await listed()) === undefined, 30_000);
    await watcher.next('removed', (m) => m.type === 'removed' && m.tenant === tenant && m.name === 'serveapp');
  }, 240_000);
});
