// `aerogrid dev` as a user runs it: a connector folder with only app.py, a topic that does not
// exist yet, live reload of app.py, and Ctrl-C stopping every process it started.
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { startCli, viewerUrl, type CliProcess } from '../helpers/cli.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const appSource = (topic: string, factor: number) => `import aerogrid

app = aerogrid.App('devapp', broker=BROKER_URI)

class Tick(aerogrid.Record):
    name: str
    value: int

ticks = app.topic('${topic}', key_type=str, value_type=Tick)
totals = app.Grid('totals', columns=['total'], default=lambda: {'total': 0})

@app.stream(ticks)
async def add(stream):
    async for key, tick in stream.items():
        totals[tick.name] = {'total': totals[tick.name]['total'] + tick.value * ${factor}}
`;

describe('aerogrid dev', () => {
  const broker = testBroker();
  const topic = uniqueName('dev-ticks');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-dev' });
  let dir: string;
  let cli: CliProcess;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerogrid-dev-'));
    await writeFile(join(dir, 'app.py'), appSource(topic, 1));
    cli = startCli(['dev', dir, '--port', '0', '--broker', broker, '--tenant', uniqueName('t')]);
    url = await waitFor('the viewer URL', () => viewerUrl(cli.output()), 60_000);
  });

  afterAll(async () => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await kafka.close();
  });

  it('shows a missing topic as a waiting status, not a crash', async () => {
    const ready = await waitFor('the waiting status', async () => {
      const r = await getJson(`${url}readyz`);
      return r.body?.state === 'waiting' && String(r.body.message).includes(topic) ? r : null;
    });
    expect(ready.status).toBe(503);
    expect(ready.body.message).toMatch(/waiting for topic/);
    expect(cli.child.exitCode).toBeNull();
  });

  it('starts streaming once the topic exists', async () => {
    await kafka.ensureTopic(topic, { partitions: 2 });
    await kafka.produce(topic, [
      { key: 'a', value: JSON.stringify({ name: 'x', value: 2 }) },
      { key: 'b', value: JSON.stringify({ name: 'y', value: 3 }) },
    ]);
    await waitFor('the grid', async () => {
      const { body } = await getJson(`${url}v1/grids/totals`);
      return body?.rows?.x?.total === 2 && body.rows.y?.total === 3;
    }, 60_000);
    expect((await getJson(`${url}readyz`)).status).toBe(200);
  });

  it('restarts the runtime when app.py changes, keeping the grid', async () => {
    await writeFile(join(dir, 'app.py'), appSource(topic, 100));
    await waitFor('the restart message', () => /app\.py changed: restarting the runtime/.test(cli.output()));
    await waitFor('the runtime to be back', async () => (await getJson(`${url}readyz`)).status === 200);
    await kafka.produce(topic, [{ key: 'c', value: JSON.stringify({ name: 'x', value: 1 }) }]);
    // 2 from before the change (kept), plus 1 × 100 by the new code.
    await waitFor('the new code to count', async () => (await getJson(`${url}v1/grids/totals`)).body?.rows?.x?.total === 102);
    expect((await readFile(join(dir, 'app.py'), 'utf8'))).toContain('* 100');
  });

  it('stops everything on Ctrl-C', async () => {
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    await expect(fetch(`${url}healthz`)).rejects.toThrow();
    // No runtime left behind: no process still runs this folder's app.py.
    const left = spawnSync('pgrep', ['-f', join(dir, 'app.py')], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
  });
});
