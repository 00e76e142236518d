// The seed connector, verbatim, on a real Kafka broker with its real sidecar and Python runtime:
// 10,000 orders with known totals over 3 partitions must show up exactly, to every client.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { GridClient } from '../helpers/grid-client.mjs';
import { expectedSums, PRODUCTS, randomOrder, type Order } from '../../src/demo/orders.js';
import { packageRoot } from '../../src/paths.js';
import { startCli, viewerUrl } from '../helpers/cli.js';
import { metricValue } from '../helpers/metrics.js';
import { startConnector, type StartedConnector } from '../helpers/connector.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const ORDERS = 10_000;

describe('seed app on real Kafka', () => {
  const broker = testBroker();
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-seed' });
  let connector: StartedConnector;
  const clients: GridClient[] = [];
  let expected: Record<string, { units_sold: number }>;

  beforeAll(async () => {
    // The seed app reads the topic 'orders' by name; this broker is the tests' own, so start it empty.
    await kafka.deleteTopic('orders');
    await kafka.ensureTopic('orders', { partitions: 3 });
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const orders: Order[] = Array.from({ length: ORDERS }, () => randomOrder(random));
    expected = expectedSums(orders);
    connector = await startConnector(join(packageRoot, 'examples', 'ordersapp'), broker, { tenant: uniqueName('seed') });
    const first = await GridClient.connect(connector.url);
    first.subscribe('product_sum');
    clients.push(first);
    // Produce in chunks, keyed by order id, so the records spread over the 3 partitions.
    for (let i = 0; i < ORDERS; i += 1000) {
      await kafka.produce('orders', orders.slice(i, i + 1000).map((order, j) => ({ key: `order-${i + j}`, value: JSON.stringify(order) })));
    }
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await connector?.stop();
    await kafka.close();
  });

  it('the orders landed in all 3 partitions', async () => {
    const offsets = await kafka.topicOffsets('orders');
    expect(offsets).toHaveLength(3);
    for (const p of offsets) expect(Number(p.high)).toBeGreaterThan(ORDERS / 6);
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(ORDERS);
  });

  it('GET /v1/grids/product_sum equals the exact sums', async () => {
    const grid = await waitFor('the grid to hold every order', async () => {
      const { body } = await getJson(`${connector.url}v1/grids/product_sum`);
      return same(body.rows, expected) ? body : null;
    }, 60_000);
    expect(grid.grid).toBe('product_sum');
    expect(grid.columns).toEqual(['units_sold']);
    expect(sorted(grid.rows)).toEqual(sorted(expected));
  });

  it('a WebSocket client subscribed before the orders sees the exact sums', async () => {
    await waitFor('the live client to converge', () => same(clients[0]!.rows('product_sum'), expected), 30_000);
    expect(clients[0]!.errors).toEqual([]);
  });

  it('a second client and a late client get the same grid (snapshot, then deltas)', async () => {
    const late = await GridClient.connect(connector.url);
    clients.push(late);
    late.subscribe('product_sum');
    await waitFor('the late snapshot', () => late.rows('product_sum'));
    expect(sorted(late.rows('product_sum')!)).toEqual(sorted(expected));

    // New orders after the late join reach both clients as deltas.
    await kafka.produce('orders', [{ key: 'order-late', value: JSON.stringify({ product: 'Grids, Live', quantity: 7 }) }]);
    const after = { ...expected, 'Grids, Live': { units_sold: (expected['Grids, Live']?.units_sold ?? 0) + 7 } };
    await waitFor('both clients to see the new order', () => same(late.rows('product_sum'), after) && same(clients[0]!.rows('product_sum'), after));
  });

  it('status, health and metrics tell the truth', async () => {
    const ready = await getJson(`${connector.url}readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body.ready).toBe(true);
    expect((await getJson(`${connector.url}healthz`)).status).toBe(200);
    const list = await getJson(`${connector.url}v1/grids`);
    expect(list.body.grids).toEqual([expect.objectContaining({ name: 'product_sum', columns: ['units_sold'], rows: Object.keys(expected).length })]);
    const metrics = await (await fetch(`${connector.url}metrics`)).text();
    expect(metricValue(metrics, 'aerogrid_records_total')).toBe(ORDERS + 1);
  });
});

function sorted(rows: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rows).sort(([a], [b]) => a.localeCompare(b)));
}

function same(actual: Record<string, unknown> | undefined, expected: Record<string, unknown>): boolean {
  return actual !== undefined && JSON.stringify(sorted(actual)) === JSON.stringify(sorted(expected));
}

// Runs after the suite above in this file: both use the topic 'orders'.
describe('aerogrid demo', () => {
  it('runs the seed app on a stream of random orders until Ctrl-C', async () => {
    const cli = startCli(['demo', '--port', '0', '--rate', '200'], { env: { AEROGRID_BROKER: testBroker() } });
    try {
      const url = await waitFor('the viewer URL', () => viewerUrl(cli.output()), 60_000);
      const page = await fetch(url);
      expect(page.headers.get('content-type')).toContain('text/html');
      const client = await GridClient.connect(url);
      client.subscribe('product_sum');
      const first = await waitFor('a snapshot', () => client.rows('product_sum'));
      const total = (rows: Record<string, any>) => Object.values(rows).reduce((n, r) => n + r.units_sold, 0);
      // The demo keeps producing: the live total grows past what the first snapshot had.
      await waitFor('the total to grow', () => total(client.rows('product_sum')!) > total(first));
      for (const product of Object.keys(client.rows('product_sum')!)) expect(PRODUCTS).toContain(product);
      await client.close();
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });
});
