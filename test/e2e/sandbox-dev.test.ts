// `aerogrid dev` reads only the topics aerogrid.yaml lists (issue 15 item 3): a topic name computed
// in app.py is refused by the sidecar, as the local runner's and the cluster's sidecars refuse it.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { startCli, viewerUrl, type CliProcess } from '../helpers/cli.js';
import { appSource, appYaml } from '../helpers/connector-files.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

describe('aerogrid dev with aerogrid.yaml', () => {
  const broker = testBroker();
  const listed = uniqueName('devbox-listed');
  const other = uniqueName('devbox-other');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-dev-topics' });
  let cli: CliProcess;

  beforeAll(async () => {
    await kafka.ensureTopic(listed, { partitions: 1 });
    await kafka.ensureTopic(other, { partitions: 1 });
    await kafka.produce(other, [{ key: 'k', value: JSON.stringify({ name: 'x', value: 5 }) }]);
  }, 180_000);

  afterAll(async () => {
    if (cli && cli.child.exitCode === null) cli.child.kill('SIGINT');
    await kafka.close();
  }, 180_000);

  it('refuses a topic computed in app.py that spec.topics does not list, and shows no row of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aerogrid-devbox-'));
    // Names of this run only: a changelog of an earlier run would restore its rows.
    const name = `devbox${Date.now().toString(36)}`;
    await writeFile(join(dir, 'aerogrid.yaml'), appYaml({ name, tenant: 'devbox', topics: [listed] }));
    const [head, tail] = [other.slice(0, 3), other.slice(3)];
    await writeFile(join(dir, 'app.py'), appSource(name, listed).replace(`app.topic('${listed}'`, `app.topic(''.join(['${head}', '${tail}'])`));
    cli = startCli(['dev', dir, '--port', '0', '--broker', broker]);
    const url = await waitFor('the viewer URL', () => viewerUrl(cli.output()), 60_000);
    await waitFor('the sidecar to refuse the topic', () => cli.output().includes(`may not read '${other}'`), 30_000);
    expect((await getJson(`${url}v1/grids/totals`)).body?.rows?.x).toBeUndefined();
  }, 180_000);
});
