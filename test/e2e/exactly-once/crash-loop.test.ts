// Exactly-once under crashes: the seed app over 100,000 orders while the sidecar and the runtime
// are killed with SIGKILL at random moments in the middle of the stream (so also in the middle of
// a batch's transaction), each restarted; the grid must end at the exact sums, and the changelog
// alone must rebuild the same grid.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../sidecar/src/kafka/client.js';
import { expectedSums, randomOrder, type Order } from '../../../src/demo/orders.js';
import { packageRoot } from '../../../src/paths.js';
import { getJson, testBroker, uniqueName, waitFor } from '../../helpers/wait.js';
import { freePort, kill9, same, seeded, startRuntimeProcess, startSidecarProcess, type Proc } from '../../helpers/procs.js';

const ORDERS = 100_000;
const CHUNK = 10_000;
// What each kill hits: the sidecar, the runtime, or both at once.
const KILLS: ('sidecar' | 'runtime' | 'both')[] = ['sidecar', 'runtime', 'both', 'runtime', 'sidecar', 'runtime', 'both', 'runtime', 'sidecar', 'runtime', 'both', 'runtime'];

describe('crash loop on real Kafka', () => {
  const broker = testBroker();
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-crash-loop' });
  const topic = uniqueName('eo-orders');
  const tenant = uniqueName('crash');
  const logs: string[] = [];
  let sidecar: Proc | null = null;
  let runtime: Proc | null = null;
  let superviseRuntime = true;

  afterAll(async () => {
    superviseRuntime = false;
    await kill9(runtime);
    await kill9(sidecar);
    await kafka.close();
  });

  it('ends at the exact sums after 12 kills of sidecar and runtime, and the changelog replays to the same grid', async () => {
    const random = seeded(7);
    const orders: Order[] = Array.from({ length: ORDERS }, () => randomOrder(random));
    const expected = expectedSums(orders);
    await kafka.ensureTopic(topic, { partitions: 3 });
    const [port, runtimePort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}/`;
    const args = { broker, port, runtimePort, app: 'ordersapp', tenant };
    const appFile = join(packageRoot, 'test', 'fixtures', 'eo-orders', 'app.py');

    const startRuntime = () => {
      const proc = startRuntimeProcess(appFile, runtimePort, broker, { ORDERS_TOPIC: topic }, logs);
      runtime = proc;
      // Restarted when it dies, as its supervisor would.
      void proc.exited.then(async () => {
        await sleep(200);
        if (superviseRuntime && runtime === proc) startRuntime();
      });
    };
    sidecar = startSidecarProcess(args, logs);
    startRuntime();

    const processed = async (): Promise<number> => {
      try {
        return (await getJson(`${url}v1/status`)).body.records.processed as number;
      } catch {
        return -1;
      }
    };

    let produced = 0;
    let kills = 0;
    for (const [i, target] of KILLS.entries()) {
      const before = await processed();
      if (produced < ORDERS) {
        await kafka.produce(topic, orders.slice(produced, produced + CHUNK).map((o, j) => ({ key: `order-${produced + j}`, value: JSON.stringify(o) })));
        produced += CHUNK;
        // Kill while records are being processed: after this incarnation made progress, at a random moment.
        await waitFor(`progress before kill ${i + 1}`, async () => (await processed()) > Math.max(0, before), 90_000, 50);
        await sleep(Math.floor(random() * 400));
      } else {
        // Every order is out: the last kills hit whatever runs then (restore, re-run, catching up).
        await sleep(500 + Math.floor(random() * 2000));
      }
      if (target !== 'runtime') {
        await kill9(sidecar);
        sidecar = startSidecarProcess(args, logs);
      }
      if (target !== 'sidecar') await kill9(runtime);
      kills += 1;
    }
    expect(produced).toBe(ORDERS);
    expect(kills).toBeGreaterThanOrEqual(10);

    const grid = await waitFor('the exact sums after the crash loop', async () => {
      const { body } = await getJson(`${url}v1/grids/product_sum`);
      return same(body?.rows, expected) ? body.rows : null;
    }, 120_000, 200);
    expect(grid).toEqual(expected);
    const status = await waitFor('every partition committed', async () => {
      const { body } = await getJson(`${url}v1/status`);
      return body.lag.length === 3 && body.lag.every((l: { lag: number }) => l.lag === 0) ? body : null;
    }, 30_000);
    expect(status.commit.mode).toBe('transaction');
    const committed = await kafka.committedOffsets(`aerogrid.${tenant}.ordersapp`, topic);
    expect(committed.reduce((n, p) => n + Number(p.offset), 0)).toBe(ORDERS);
    // Every sidecar after the first restored the grids from the changelog before consuming.
    const restores = logs.filter((l) => /restored \d+ rows? in \d+ grids? from 'aerogrid\./.test(l));
    expect(restores.length).toBe(1 + KILLS.filter((k) => k !== 'runtime').length);
    expect(restores.some((l) => !/restored 0 rows/.test(l))).toBe(true);

    // The changelog alone rebuilds the same grid: a new sidecar with no runtime serves it.
    superviseRuntime = false;
    await kill9(runtime);
    await kill9(sidecar);
    sidecar = startSidecarProcess(args, logs);
    const replayed = await waitFor('the restored grid', async () => {
      const ready = await getJson(`${url}readyz`);
      if (ready.body?.restore?.state !== 'done') return null;
      return (await getJson(`${url}v1/grids/product_sum`)).body;
    }, 60_000);
    expect(replayed.rows).toEqual(expected);
  }, 300_000);
});
