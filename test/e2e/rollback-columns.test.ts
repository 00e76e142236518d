// A rollback to code whose grid has fewer columns, through `aerogrid serve --run local` with real
// processes and a real Kafka: the grid restored from the changelog is served in the declared shape.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { appSource, appYaml, cliEnv, startServe, stopServe, tempDir } from '../helpers/gitops.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

/** appSource's app with a second column, 'count', in its grid. */
function withCount(name: string, topic: string): { yaml: string; code: string } {
  const code = appSource(name, topic)
    .replace("columns=['total'], default=lambda: {'total': 0}", "columns=['total', 'count'], default=lambda: {'total': 0, 'count': 0}")
    .replace("totals[tick.name] = {'total': totals[tick.name]['total'] + tick.value * 1}", "row = totals[tick.name]\n        totals[tick.name] = {'total': row['total'] + tick.value, 'count': row['count'] + 1}");
  expect(code).toContain("'count': row['count'] + 1");
  return { yaml: appYaml({ name, tenant: 'x', topics: [topic] }).replace('columns: [total]', 'columns: [total, count]'), code };
}

describe('rollback to code without a column', () => {
  const broker = testBroker();
  const tenant = uniqueName('shape').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('shape-ticks');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-rollback-columns' });
  let env: NodeJS.ProcessEnv;
  let serve: CliProcess;
  let dir: string;

  const status = async () => JSON.parse((await runCli(['status', 'shapeapp', '--json'], { env })).stdout);
  const liveAt = (commit: string) => waitFor(`commit ${commit.slice(0, 12)} live`, async () => { const s = await status(); return s.live.state === 'live' && s.live.runningCommit === commit ? s.live.url as string : null; }, 90_000, 250);
  const rows = async (url: string) => (await getJson(`${url}v1/grids/totals`)).body?.rows ?? {};
  const send = (values: number[], name: string) => kafka.produce(topic, values.map((value, i) => ({ key: `k${i}`, value: JSON.stringify({ name, value }) })));
  const deploy = async () => { const r = await runCli(['deploy', dir, '--json'], { env }); expect(r.code, r.stderr).toBe(0); return JSON.parse(r.stdout).commit as string; };

  beforeAll(async () => {
    const repo = join(await tempDir('shape-remote'), 'gitops.git');
    env = { ...cliEnv(await tempDir('shape-home')), AEROGRID_GITOPS: repo, AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(repo);
    await kafka.ensureTopic(topic, { partitions: 1 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
    dir = await tempDir('shape-conn');
    serve = await startServe(['--broker', broker, '--poll', '200'], env);
  });

  afterAll(async () => {
    await stopServe(serve);
    await kafka.close();
  });

  it('serves the restored rows without the column the rolled-back-to release does not declare', async () => {
    // Release 1: the grid has 'total' only.
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name: 'shapeapp', tenant, topics: [topic] }));
    await writeFile(join(dir, 'app.py'), appSource('shapeapp', topic));
    await liveAt(await deploy());
    // Release 2 adds 'count'; its rows carry both columns into the changelog.
    const v2 = withCount('shapeapp', topic);
    await writeFile(join(dir, 'aerogrid.yaml'), v2.yaml.replace('tenant: x', `tenant: ${tenant}`));
    await writeFile(join(dir, 'app.py'), v2.code);
    const url2 = await liveAt(await deploy());
    await send([5, 7], 'a');
    await waitFor('release 2 to write a with its count', async () => (await rows(url2)).a?.count === 2, 30_000);
    expect((await rows(url2)).a).toEqual({ total: 12, count: 2 });

    // Back to release 1: restored from the changelog, row 'a' is in release 1's shape.
    const back = await runCli(['rollback', 'shapeapp', '1', '--json'], { env });
    expect(back.code, back.stderr).toBe(0);
    const url1 = await liveAt(JSON.parse(back.stdout).commit);
    const grid = await waitFor('the restored grid', async () => { const g = (await getJson(`${url1}v1/grids/totals`)).body; return g?.rows?.a ? g : null; }, 30_000);
    expect(grid.columns).toEqual(['total']);
    expect(grid.rows.a).toEqual({ total: 12 });
    // And release 1's code goes on from the restored total.
    await send([1], 'a');
    await waitFor('release 1 to add to a', async () => (await rows(url1)).a?.total === 13, 30_000);
    expect((await rows(url1)).a).toEqual({ total: 13 });
  }, 240_000);
});
