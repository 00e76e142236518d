// A row over the changelog's limit in an ack, on real Kafka with the real runtime (its connector
// switches the SDK's own row cap off): the sidecar refuses the ack, re-runs the batch one record at
// a time and dead-letters only the record that wrote the row; the app goes on, nothing is
// re-committed, and the status does not stick in `failing`.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/paths.js';
import { connectorSuite, headerText } from '../../helpers/connector-suite.js';
import { getJson, uniqueName, waitFor } from '../../helpers/wait.js';

const FIXTURE = join(packageRoot, 'test', 'fixtures', 'row-cap-bypass');

describe('a row over the cap in an ack (real Kafka, real runtime)', () => {
  const { kafka, readAll, start } = connectorSuite('test-row-cap');

  it('dead-letters only the record whose 2 MB row the ack carried; the batch\'s other records and later ones are summed', async () => {
    const topic = uniqueName('rowcap');
    const tenant = uniqueName('cap');
    const connector = await start(FIXTURE, { topic, tenant });
    await waitFor('the app running', async () => (await getJson(`${connector.url}v1/status`)).body?.state === 'running', 60_000);
    const orders = Array.from({ length: 40 }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify({ product: i === 17 ? 'huge' : `p${i % 4}`, quantity: i + 1 }) }));
    await kafka.produce(topic, orders);
    const expected: Record<string, number> = {};
    orders.forEach((o, i) => { if (i !== 17) expected[`p${i % 4}`] = (expected[`p${i % 4}`] ?? 0) + i + 1; });

    const dead = await waitFor('the huge row\'s record dead-lettered', async () => {
      const all = await readAll(`aerogrid.${tenant}.bypassapp.dlq`);
      return all.length > 0 ? all : null;
    }, 60_000);
    expect(dead.map((d) => d.key?.toString())).toEqual(['o-17']);
    expect(headerText(dead[0]!.headers!['aerogrid-kind'])).toBe('handler');
    expect(headerText(dead[0]!.headers!['aerogrid-reason'])).toMatch(/the row for key 'huge' of grid 'wide' is larger than the \d+ bytes a changelog record may have/);
    const status = await waitFor('every other order committed and the app running', async () => {
      const { body } = await getJson(`${connector.url}v1/status`);
      return body.state === 'running' && body.lag.every((l: { lag: number }) => l.lag === 0) && body.records.processed === 39 ? body : null;
    }, 60_000);
    const rows = (await getJson(`${connector.url}v1/grids/wide`)).body.rows as Record<string, { units: number }>;
    expect(Object.fromEntries(Object.entries(rows).map(([k, r]) => [k, r.units]))).toEqual(expected);
    expect(status.records.dead_lettered).toEqual({ decode: 0, validation: 0, handler: 1 });
    expect(status.commit.recoveries).toBe(0);

    // And on: a later order is summed, with the status still running.
    await kafka.produce(topic, [{ key: 'late', value: JSON.stringify({ product: 'p0', quantity: 1000 }) }]);
    await waitFor('the late order', async () => (await getJson(`${connector.url}v1/grids/wide`)).body.rows.p0?.units === expected.p0! + 1000);
    expect((await getJson(`${connector.url}v1/status`)).body.state).toBe('running');
    expect(await readAll(`aerogrid.${tenant}.bypassapp.dlq`)).toHaveLength(1);
  }, 150_000);

  it('re-runs one record at a time a batch whose ack is over the 64 MiB a runtime message may have; every record is committed', async () => {
    const topic = uniqueName('wideack');
    const tenant = uniqueName('cap');
    const connector = await start(join(packageRoot, 'test', 'fixtures', 'wide-acks'), { topic, tenant });
    await waitFor('the app running', async () => (await getJson(`${connector.url}v1/status`)).body?.state === 'running', 60_000);
    const ORDERS = 120; // 120 rows of 700 KB: an ack of 84 MB
    await kafka.produce(topic, Array.from({ length: ORDERS }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify({ product: 'p', quantity: i + 1 }) })));
    const status = await waitFor('every order committed', async () => {
      const { body } = await getJson(`${connector.url}v1/status`);
      return body.records.processed === ORDERS && body.lag.every((l: { lag: number }) => l.lag === 0) ? body : null;
    }, 120_000, 500);
    expect(status.records.dead_lettered).toEqual({ decode: 0, validation: 0, handler: 0 });
    expect(status.commit.recoveries).toBe(0);
    expect(status.state).toBe('running');
    const grid = (await getJson(`${connector.url}v1/grids/wide`)).body;
    expect(Object.keys(grid.rows)).toHaveLength(ORDERS);
    expect(connector.logs.join('\n')).toMatch(/the runtime's ack is a line longer than 67108864 bytes .*re-running the batch's 120 records one at a time/);
  }, 180_000);
});
