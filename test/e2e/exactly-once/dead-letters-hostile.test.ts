// Hostile records on real Kafka: a 200 KB value of nested brackets (RecursionError in any JSON
// reader), a handler calling sys.exit, and a note nested too deep for a grid cell each dead-letter
// their record with the reason; the runtime never crash-loops and the records behind them count.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/paths.js';
import { connectorSuite, headerText } from '../../helpers/connector-suite.js';
import { getJson, uniqueName, waitFor } from '../../helpers/wait.js';

const FIXTURE = join(packageRoot, 'test', 'fixtures', 'hostile-records');

describe('hostile records on real Kafka', () => {
  const { kafka, readAll, start } = connectorSuite('test-hostile-records');

  it('dead-letters deeply nested JSON, sys.exit in a handler and a too-deep grid cell; the records behind them are summed', async () => {
    const topic = uniqueName('hostile');
    const tenant = uniqueName('hst');
    const connector = await start(FIXTURE, { topic, tenant });
    const deepNote = '['.repeat(40) + ']'.repeat(40);
    const records = [
      { key: 'g-1', value: JSON.stringify({ product: 'apple', quantity: 1 }) },
      { key: 'deep', value: '['.repeat(100_000) + ']'.repeat(100_000) },
      { key: 'exit', value: JSON.stringify({ product: 'exit', quantity: 1 }) },
      { key: 'deep-note', value: `{"product": "pear", "quantity": 1, "note": ${deepNote}}` },
      { key: 'g-2', value: JSON.stringify({ product: 'apple', quantity: 2, note: [1, [2]] }) },
      { key: 'g-3', value: JSON.stringify({ product: 'pear', quantity: 4 }) },
    ];
    await kafka.produce(topic, records);
    const rows = await waitFor('the good records summed', async () => {
      const { body } = await getJson(`${connector.url}v1/grids/product_sum`);
      return body?.rows?.pear?.units_sold === 4 ? body.rows : null;
    }, 60_000);
    expect(rows).toEqual({ apple: { units_sold: 3, note: [1, [2]] }, pear: { units_sold: 4, note: null } });
    const dead = await waitFor('three dead letters', async () => {
      const all = await readAll(`aerogrid.${tenant}.hostileapp.dlq`);
      return all.length >= 3 ? all : null;
    });
    const byKey = Object.fromEntries(dead.map((d) => [d.key!.toString(), d]));
    expect(Object.keys(byKey).sort()).toEqual(['deep', 'deep-note', 'exit']);
    expect(headerText(byKey.deep!.headers!['aerogrid-kind'])).toBe('decode');
    expect(headerText(byKey.deep!.headers!['aerogrid-reason'])).toMatch(/nested too deeply/);
    expect(byKey.deep!.value!.length).toBe(200_000);
    expect(headerText(byKey.exit!.headers!['aerogrid-kind'])).toBe('handler');
    expect(headerText(byKey.exit!.headers!['aerogrid-reason'])).toMatch(/SystemExit: the handler called sys\.exit\(1\)/);
    expect(headerText(byKey['deep-note']!.headers!['aerogrid-reason'])).toMatch(/nested more than 32 levels deep/);
    const status = (await getJson(`${connector.url}v1/status`)).body;
    expect(status.state).toBe('running');
    expect(status.runtime.restarts).toBe(0);
    expect(connector.logs.join('\n')).not.toMatch(/RecursionError|the runtime exited/);
  }, 120_000);

  it('cuts a dead letter larger than the dead-letter topic takes instead of failing the commit forever, and says what it cut', async () => {
    const topic = uniqueName('hostile-big');
    const tenant = uniqueName('hst');
    // The source topic takes 3 MB records; the dead-letter topic keeps the broker's 1 MB default.
    const connector = await start(FIXTURE, { topic, tenant, topicOptions: { partitions: 1, config: { 'max.message.bytes': String(3 * 1024 * 1024) } } });
    const big = 'not json '.repeat(200_000); // 1.8 MB
    await kafka.produce(topic, [
      { key: 'big', value: big, headers: { 'trace-id': 'abc' } },
      { key: 'g-1', value: JSON.stringify({ product: 'apple', quantity: 5 }) },
    ]);
    await waitFor('the record behind it summed', async () => (await getJson(`${connector.url}v1/grids/product_sum`)).body?.rows?.apple?.units_sold === 5, 60_000);
    const dead = await waitFor('the big record dead-lettered', async () => {
      const all = await readAll(`aerogrid.${tenant}.hostileapp.dlq`);
      return all.length > 0 ? all : null;
    });
    expect(dead).toHaveLength(1);
    const d = dead[0]!;
    expect(d.key!.toString()).toBe('big');
    expect(headerText(d.headers!['aerogrid-kind'])).toBe('decode');
    expect(headerText(d.headers!['aerogrid-dropped'])).toMatch(/value: 1800000 bytes cut to \d+ \(the dead-letter topic's max\.message\.bytes\)/);
    expect(d.value!.length).toBeLessThan(1024 * 1024);
    expect(big.startsWith(d.value!.toString())).toBe(true);
    const status = await waitFor('committed', async () => {
      const { body } = await getJson(`${connector.url}v1/status`);
      return body.records.dead_lettered.decode === 1 ? body : null;
    });
    expect(status.commit.recoveries).toBe(0);
    expect(status.state).toBe('running');
  }, 120_000);
});
