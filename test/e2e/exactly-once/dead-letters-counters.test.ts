// Status counters on real Kafka follow committed work only: when a commit fails (here: another
// producer fences the app's transactional id, as a second instance taking over would) the batch is
// re-run from the committed offsets, and its records are counted once, not once per run.
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/paths.js';
import { connectorSuite } from '../../helpers/connector-suite.js';
import { metricValue } from '../../helpers/metrics.js';
import { getJson, uniqueName, waitFor } from '../../helpers/wait.js';

const FIXTURE = join(packageRoot, 'test', 'fixtures', 'badrecords');
const good = (product: string, quantity: number) => JSON.stringify({ product, quantity });

describe('status counters after a failed commit (real Kafka)', () => {
  const { broker, kafka, readAll, start } = connectorSuite('test-dead-letter-counters');

  it('counts rejected and processed records once when their batch is re-run after a fenced commit', async () => {
    const topic = uniqueName('counters');
    const tenant = uniqueName('cnt');
    const connector = await start(FIXTURE, { topic, tenant });
    const status = async () => (await getJson(`${connector.url}v1/status`)).body;

    // A first commit, so that the app's producer has its epoch: the fence below then bumps it.
    await kafka.produce(topic, [{ key: 'g-0', value: good('apple', 1) }]);
    await waitFor('the first commit', async () => (await status()).last_commit !== null, 60_000);

    // Fence the app's transactional id: its next commit fails and the pipeline re-runs.
    const fencer = new Kafka({ brokers: [broker], clientId: 'test-fencer', logLevel: logLevel.NOTHING })
      .producer({ transactionalId: `aerogrid.${tenant}.badrecords.tx`, idempotent: true, maxInFlightRequests: 1 });
    await fencer.connect();
    await (await fencer.transaction()).abort();
    await fencer.disconnect();

    await kafka.produce(topic, [
      { key: 'p-1', value: 'not json' },
      { key: 'g-1', value: good('apple', 2) },
      { key: 'p-2', value: '{"product": "apple"}' },
      { key: 'p-3', value: good('cursed', 1) },
      { key: 'g-2', value: good('pear', 5) },
    ]);
    const s = await waitFor('the re-run committed', async () => {
      const st = await status();
      return st.commit.recoveries >= 1 && st.records.dead_lettered.decode === 1 && st.records.dead_lettered.handler === 1 &&
        st.lag.every((l: { lag: number }) => l.lag === 0) && st.state === 'running' ? st : null;
    }, 90_000, 200);
    expect((await getJson(`${connector.url}v1/grids/product_sum`)).body.rows).toEqual({ apple: { units_sold: 3 }, pear: { units_sold: 5 } });
    expect(await readAll(`aerogrid.${tenant}.badrecords.dlq`)).toHaveLength(3);
    expect(s.records.dead_lettered).toEqual({ decode: 1, validation: 1, handler: 1 });
    expect(s.records.rejected).toEqual(s.records.dead_lettered);
    expect(s.records.processed).toBe(3);
    const metrics = await (await fetch(`${connector.url}metrics`)).text();
    expect(metricValue(metrics, 'aerogrid_records_rejected_total', 'kind="decode"')).toBe(1);
    expect(metricValue(metrics, 'aerogrid_records_total')).toBe(3);
  }, 150_000);
});
