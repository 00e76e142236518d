// Bad input never stops an app: records that are not JSON or do not fit their Record, and records
// whose handler raises, are counted, logged with topic/partition/offset and skipped; the sums of the
// good records stay exact and the app keeps serving.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { GridClient } from '../helpers/grid-client.mjs';
import { packageRoot } from '../../src/paths.js';
import { startConnector, type StartedConnector } from '../helpers/connector.js';
import { metricValue } from '../helpers/metrics.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const good = (product: string, quantity: number) => JSON.stringify({ product, quantity });

// [value, what kind of reject it must be counted as, or null for a good record]
const RECORDS: Array<[string | null, 'decode' | 'validation' | 'handler' | null]> = [
  [good('apple', 3), null],
  ['this is not json', 'decode'],
  ['{"product": "apple", "quantity": ', 'decode'],
  [good('pear', 5), null],
  ['{"product": "apple"}', 'validation'], // missing field
  ['{"product": "apple", "quantity": "ten"}', 'validation'], // wrong type
  ['{"product": "apple", "quantity": 2.5}', 'validation'], // a float is not an int
  ['{"product": "apple", "quantity": true}', 'validation'], // nor is a bool
  ['[1, 2, 3]', 'validation'], // not an object
  [null, 'validation'], // a tombstone where an Order is expected
  [good('apple', 4), null],
  [good('cursed', 1), 'handler'], // the handler raises on this product
  [good('pear', 1), null],
  [good('cursed', 2), 'handler'],
  [good('apple', 10), null],
];

describe('bad records on real Kafka', () => {
  const broker = testBroker();
  const topic = uniqueName('bad-orders');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-bad' });
  let connector: StartedConnector;

  beforeAll(async () => {
    await kafka.ensureTopic(topic, { partitions: 1 });
    connector = await startConnector(join(packageRoot, 'test', 'fixtures', 'badrecords'), broker, { env: { ORDERS_TOPIC: topic }, tenant: uniqueName('bad') });
    await kafka.produce(topic, RECORDS.map(([value], i) => ({ key: `order-${i}`, value })));
  });

  afterAll(async () => {
    await connector?.stop();
    await kafka.close();
  });

  it('sums the good records exactly and skips the bad ones', async () => {
    const expected = { apple: { units_sold: 17 }, pear: { units_sold: 6 } };
    const { body } = await waitFor('the good records in the grid', async () => {
      const r = await getJson(`${connector.url}v1/grids/product_sum`);
      return r.body?.rows?.apple?.units_sold === 17 && r.body.rows.pear?.units_sold === 6 ? r : null;
    });
    expect(body.rows).toEqual(expected);
  });

  it('counts each bad record by kind in /metrics', async () => {
    const count = (kind: string) => RECORDS.filter(([, k]) => k === kind).length;
    const metrics = await waitFor('all rejects counted', async () => {
      const text = await (await fetch(`${connector.url}metrics`)).text();
      return metricValue(text, 'aerogrid_records_rejected_total', 'kind="handler"') === count('handler') ? text : null;
    });
    expect(metricValue(metrics, 'aerogrid_records_rejected_total', 'kind="decode"')).toBe(count('decode'));
    expect(metricValue(metrics, 'aerogrid_records_rejected_total', 'kind="validation"')).toBe(count('validation'));
    expect(metricValue(metrics, 'aerogrid_records_total')).toBe(RECORDS.filter(([, k]) => k === null).length);
  });

  it('logs every rejected record with its topic, partition, offset and reason', () => {
    const log = connector.logs.join('\n');
    RECORDS.forEach(([, kind], offset) => {
      if (!kind) return;
      const line = connector.logs.find((l) => l.includes(topic) && new RegExp(`\\b${offset}\\b`).test(l) && /reject/i.test(l));
      expect(line, `a log line for the ${kind} reject at offset ${offset}`).toBeDefined();
    });
    expect(log).toMatch(/quantity/); // the validation reason names the field
    expect(log).toMatch(/ValueError: cursed product/); // the handler's exception ...
    expect(log).toMatch(/Traceback/); // ... with its traceback
  });

  it('keeps running and serving: later good records still count', async () => {
    await kafka.produce(topic, [{ key: 'order-late', value: good('pear', 100) }]);
    await waitFor('the late record', async () => (await getJson(`${connector.url}v1/grids/product_sum`)).body.rows.pear?.units_sold === 106);
  });

  it('answers a malformed WebSocket message with an error and stays usable', async () => {
    const client = await GridClient.connect(connector.url);
    try {
      client.send('{not json');
      client.send({ op: 'subscribe' });
      client.send({ op: 'dance', id: 'x' });
      client.send({ op: 'subscribe', id: 'nope', grid: 'no_such_grid' });
      await waitFor('four errors', () => client.errors.length >= 4);
      expect(client.errors.map((e) => e.code)).toEqual(['bad_json', 'bad_request', 'unknown_op', 'unknown_grid']);
      client.subscribe('product_sum');
      await waitFor('a snapshot after the errors', () => client.rows('product_sum')?.pear);
    } finally {
      await client.close();
    }
  });
});
