// A broker that goes away in the middle of the stream and comes back: the sidecar waits for it,
// reconnects, re-runs whatever was not committed, and the sums are exact afterwards. The test
// runs a broker of its own (the shared test broker is used by other suites in parallel).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaClient } from '../../../sidecar/src/kafka/client.js';
import { kafkaDown, kafkaUp } from '../../../src/local-kafka/broker.js';
import { expectedSums, randomOrder, type Order } from '../../../src/demo/orders.js';
import { packageRoot } from '../../../src/paths.js';
import { startConnector, type StartedConnector } from '../../helpers/connector.js';
import { getJson, uniqueName, waitFor } from '../../helpers/wait.js';
import { same, seeded } from '../../helpers/procs.js';

const PORT = 19392;
const ORDERS = 40_000;

describe('broker stop and start in the middle of the stream', () => {
  let broker: string;
  let kafka: KafkaClient;
  let connector: StartedConnector | undefined;

  beforeAll(async () => {
    broker = (await kafkaUp({ port: PORT, freshData: true })).bootstrap; // not what a killed run left
    kafka = createKafkaClient({ brokers: [broker], clientId: 'test-broker-restart', logger: { warn: () => {}, error: () => {} } });
  }, 180_000);

  afterAll(async () => {
    await connector?.stop();
    await kafka?.close();
    await kafkaDown({ port: PORT, purge: true });
  }, 60_000);

  it('ends at the exact sums', async () => {
    const topic = uniqueName('eo-broker');
    const tenant = uniqueName('broker');
    const random = seeded(3);
    const orders: Order[] = Array.from({ length: ORDERS }, () => randomOrder(random));
    const expected = expectedSums(orders);
    const produce = async (from: number, to: number) => {
      for (let i = from; i < to; i += 10_000) {
        await kafka.produce(topic, orders.slice(i, Math.min(to, i + 10_000)).map((o, j) => ({ key: `order-${i + j}`, value: JSON.stringify(o) })));
      }
    };
    await kafka.ensureTopic(topic, { partitions: 3 });
    connector = await startConnector(join(packageRoot, 'test', 'fixtures', 'eo-orders'), broker, { tenant, env: { ORDERS_TOPIC: topic } });
    const url = connector.url;
    await produce(0, ORDERS / 2);
    await waitFor('processing to start', async () => (await getJson(`${url}v1/status`)).body.records.processed > 0, 60_000, 20);

    // Stop the broker mid-stream, keep it away for a while, start it again (same data).
    await kafkaDown({ port: PORT });
    await sleep(3000);
    const away = (await getJson(`${url}v1/status`)).body;
    expect(away.records.processed).toBeLessThanOrEqual(ORDERS / 2);
    await kafkaUp({ port: PORT });
    await produce(ORDERS / 2, ORDERS);

    const units = (rows: Record<string, { units_sold: number }> = {}) => Object.values(rows).reduce((n, r) => n + r.units_sold, 0);
    const rows = await waitFor('the exact sums after the broker came back', async () => {
      const { body } = await getJson(`${url}v1/grids/product_sum`);
      if (same(body?.rows, expected)) return body.rows;
      // What a timeout reports: short of the sums (still catching up or lost) or past them (counted twice).
      const { body: status } = await getJson(`${url}v1/status`);
      throw new Error(`${units(body?.rows)} of ${units(expected)} units summed; state ${status?.state}, processed ${status?.records?.processed}, lag ${JSON.stringify(status?.lag)}`);
    }, 150_000, 250);
    expect(rows).toEqual(expected);
    const committed = await waitFor('all offsets committed', async () => {
      const c = await kafka.committedOffsets(`aerogrid.${tenant}.ordersapp`, topic);
      return c.reduce((n, p) => n + Number(p.offset), 0) === ORDERS ? c : null;
    }, 30_000);
    expect(committed).toHaveLength(3);
    const status = await waitFor('running again', async () => {
      const { body } = await getJson(`${url}v1/status`);
      return body.state === 'running' && body.stale_since === null ? body : null;
    }, 30_000);
    expect(status.restore.state).toBe('done');
  }, 300_000);
});
