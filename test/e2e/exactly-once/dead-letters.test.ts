// Dead letters on real Kafka: every kind of poison record ends in the app's dead-letter topic with
// its original key, value and headers and the reason, source topic, partition and offset in
// headers; a handler that raises on one product dead-letters exactly that product's records; the
// `stop` policy stops at the first bad record instead. Good records are always summed exactly.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProduceMessage } from '../../../sidecar/src/kafka/client.js';
import { expectedSums, randomOrder, type Order } from '../../../src/demo/orders.js';
import { packageRoot } from '../../../src/paths.js';
import { connectorSuite, headerText } from '../../helpers/connector-suite.js';
import { metricValue } from '../../helpers/metrics.js';
import { getJson, uniqueName, waitFor } from '../../helpers/wait.js';
import { same, seeded } from '../../helpers/procs.js';

const FIXTURE = join(packageRoot, 'test', 'fixtures', 'badrecords');
const good = (product: string, quantity: number) => JSON.stringify({ product, quantity });

describe('dead letters on real Kafka', () => {
  const { kafka, readAll, start } = connectorSuite('test-dead-letters');

  async function run(partitions: number, env: NodeJS.ProcessEnv = {}) {
    const topic = uniqueName('poison');
    const tenant = uniqueName('dlq');
    const connector = await start(FIXTURE, { topic, tenant, topicOptions: { partitions }, env });
    return { topic, tenant, connector, dlq: `aerogrid.${tenant}.badrecords.dlq` };
  }

  it('puts poison records of every kind in the dead-letter topic with the right reasons; good records are exact', async () => {
    const { topic, connector, dlq } = await run(1);
    const poison: [ProduceMessage, string, RegExp][] = [
      [{ key: 'p-1', value: 'not json at all' }, 'decode', /invalid JSON/],
      [{ key: 'p-2', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'decode', /not valid UTF-8/],
      [{ key: Buffer.from([0xc3, 0x28]), value: good('apple', 1000) }, 'decode', /key is not valid UTF-8/],
      [{ key: 'p-4', value: '{"product": "apple"}', headers: { 'x-origin': 'unit-test' } }, 'validation', /quantity.*missing/],
      [{ key: 'p-5', value: good('apple', 'ten' as unknown as number) }, 'validation', /expected int, got str/],
      [{ key: 'p-6', value: '[1, 2, 3]' }, 'validation', /expected object/],
      [{ key: 'p-7', value: null }, 'validation', /tombstone/],
      [{ key: 'p-8', value: good('cursed', 2) }, 'handler', /ValueError: cursed product: p-8/],
    ];
    const goods: ProduceMessage[] = [
      { key: 'g-1', value: good('apple', 7) },
      { key: 'g-2', value: good('pear', 6), headers: { 'trace-id': 'abc' } },
      { key: 'g-3', value: good('apple', 10) },
    ];
    // Interleave: good, poison, poison, good, ...
    const records: ProduceMessage[] = [goods[0]!, ...poison.slice(0, 4).map((p) => p[0]), goods[1]!, ...poison.slice(4).map((p) => p[0]), goods[2]!];
    await kafka.produce(topic, records);

    const rows = await waitFor('the good records in the grid', async () => {
      const { body } = await getJson(`${connector.url}v1/grids/product_sum`);
      return same(body?.rows, { apple: { units_sold: 17 }, pear: { units_sold: 6 } }) ? body.rows : null;
    });
    expect(rows).toEqual({ apple: { units_sold: 17 }, pear: { units_sold: 6 } });

    const dead = await waitFor('every poison record dead-lettered', async () => {
      const all = await readAll(dlq);
      return all.length >= poison.length ? all : null;
    });
    expect(dead).toHaveLength(poison.length);
    for (const [message, kind, reason] of poison) {
      const offset = records.indexOf(message);
      const d = dead.find((m) => headerText(m.headers!['aerogrid-source-offset']) === String(offset));
      expect(d, `dead letter of offset ${offset}`).toBeDefined();
      expect(headerText(d!.headers!['aerogrid-kind'])).toBe(kind);
      expect(headerText(d!.headers!['aerogrid-reason'])).toMatch(reason);
      expect(headerText(d!.headers!['aerogrid-source-topic'])).toBe(topic);
      expect(headerText(d!.headers!['aerogrid-source-partition'])).toBe('0');
      // The original record, byte for byte.
      expect(d!.key).toEqual(message.key === null ? null : Buffer.from(message.key));
      expect(d!.value).toEqual(message.value === null ? null : Buffer.from(message.value));
    }
    const withHeader = dead.find((m) => headerText(m.headers!['aerogrid-source-offset']) === String(records.indexOf(poison[3]![0])));
    expect(headerText(withHeader!.headers!['x-origin'])).toBe('unit-test');
    const handler = dead.find((m) => headerText(m.headers!['aerogrid-kind']) === 'handler');
    expect(headerText(handler!.headers!['aerogrid-traceback'])).toMatch(/Traceback/);

    const count = (kind: string) => poison.filter((p) => p[1] === kind).length;
    const status = (await getJson(`${connector.url}v1/status`)).body;
    expect(status.records.rejected).toEqual({ decode: count('decode'), validation: count('validation'), handler: count('handler') });
    expect(status.records.dead_lettered).toEqual(status.records.rejected);
    expect(status.records.processed).toBe(goods.length);
    expect(status.dead_letter).toEqual({ policy: 'dlq', topic: dlq });
    expect(status.state).toBe('running');
    const metrics = await (await fetch(`${connector.url}metrics`)).text();
    for (const kind of ['decode', 'validation', 'handler']) {
      expect(metricValue(metrics, 'aerogrid_dead_letters_total', `kind="${kind}"`)).toBe(count(kind));
    }
  });

  it('dead-letters exactly the records of the one product whose handler raises; every other sum is exact', async () => {
    const { topic, connector, dlq } = await run(3);
    const random = seeded(11);
    const orders: Order[] = Array.from({ length: 6000 }, (_, i) => (i % 7 === 3 ? { product: 'cursed', quantity: 1 + (i % 5) } : randomOrder(random)));
    const cursed = orders.filter((o) => o.product === 'cursed').length;
    const expected = expectedSums(orders.filter((o) => o.product !== 'cursed'));
    await kafka.produce(topic, orders.map((o, i) => ({ key: `order-${i}`, value: JSON.stringify(o) })));
    const rows = await waitFor('the exact sums of the other products', async () => {
      const { body } = await getJson(`${connector.url}v1/grids/product_sum`);
      return same(body?.rows, expected) ? body.rows : null;
    }, 60_000);
    expect(rows.cursed).toBeUndefined();
    const dead = await waitFor('the cursed orders dead-lettered', async () => {
      const all = await readAll(dlq);
      return all.length >= cursed ? all : null;
    });
    expect(dead).toHaveLength(cursed);
    for (const d of dead) {
      expect(headerText(d.headers!['aerogrid-kind'])).toBe('handler');
      expect(JSON.parse(d.value!.toString()).product).toBe('cursed');
    }
    const keys = new Set(dead.map((d) => d.key!.toString()));
    expect(keys.size).toBe(cursed);
    const status = (await getJson(`${connector.url}v1/status`)).body;
    expect(status.records.rejected.handler).toBe(cursed);
    expect(status.records.processed).toBe(orders.length - cursed);
  });

  it('with the stop policy, stops at the first bad record, says why, and keeps serving the grid', async () => {
    const { topic, connector, dlq } = await run(1, { AEROGRID_DEAD_LETTER: 'stop' });
    await kafka.produce(topic, [
      { key: 'a', value: good('apple', 1) },
      { key: 'b', value: good('apple', 2) },
    ]);
    await waitFor('the first good records', async () => (await getJson(`${connector.url}v1/grids/product_sum`)).body?.rows?.apple?.units_sold === 3);
    await kafka.produce(topic, [
      { key: 'c', value: good('apple', 4) },
      { key: 'd', value: 'garbage' },
      { key: 'e', value: good('apple', 8) },
    ]);
    const status = await waitFor('the app to stop', async () => {
      const { body } = await getJson(`${connector.url}v1/status`);
      return body.state === 'failing' ? body : null;
    });
    expect(status.message).toMatch(/stopped at a bad record .*@3 \(decode\)/);
    expect(status.dead_letter.policy).toBe('stop');
    const ready = await getJson(`${connector.url}readyz`);
    expect(ready.status).toBe(503);
    // Nothing of the bad record's batch was applied or committed, nothing was dead-lettered.
    expect((await getJson(`${connector.url}v1/grids/product_sum`)).body.rows).toEqual({ apple: { units_sold: 3 } });
    expect(await readAll(dlq)).toEqual([]);
    const committed = await kafka.committedOffsets(`aerogrid.${status.tenant}.badrecords`, topic);
    expect(committed).toEqual([{ topic, partition: 0, offset: '2' }]);
    // Still served, and the grids tell clients they are stale while records wait.
    const stale = await waitFor('stale_since', async () => (await getJson(`${connector.url}v1/status`)).body.stale_since, 20_000);
    expect(Date.parse(stale)).toBeLessThanOrEqual(Date.now());
  });

  it('creates the dead-letter topic with the retention the connector runner hands the sidecar (--dead-letter-retention-ms)', async () => {
    const topic = uniqueName('poison');
    const tenant = uniqueName('dlq');
    const connector = await start(FIXTURE, { topic, tenant, deadLetterRetentionMs: 3 * 3_600_000 });
    await waitFor('the app running', async () => (await getJson(`${connector.url}v1/status`)).body?.state === 'running');
    expect(await kafka.topicConfig(`aerogrid.${tenant}.badrecords.dlq`, 'retention.ms')).toBe(String(3 * 3_600_000));
  });

  it('keeps a stopped-at record\'s content out of the open probes: /readyz and /metrics say why in general terms only', async () => {
    const { topic, connector } = await run(1, { AEROGRID_DEAD_LETTER: 'stop' });
    const secret = 'CARD-4111-1111-1111-1111';
    await kafka.produce(topic, [{ key: 'k', value: JSON.stringify({ product: 'apple', quantity: secret }) }]);
    const status = await waitFor('the app to stop', async () => {
      const { body } = await getJson(`${connector.url}v1/status`);
      return body.state === 'failing' ? body : null;
    });
    // The reason and the record's value stay in /v1/status (behind auth where auth is on).
    expect(status.message).toContain(secret);
    const ready = await getJson(`${connector.url}readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.state).toBe('failing');
    expect(ready.body.message).toBe("stopped at a bad record (dead-letter policy 'stop'); see /v1/status");
    expect(JSON.stringify(ready.body)).not.toContain('CARD-4111');
    expect(await (await fetch(`${connector.url}metrics`)).text()).not.toContain('CARD-4111');
    expect(JSON.stringify((await getJson(`${connector.url}healthz`)).body)).not.toContain('CARD-4111');
  });
});
