// A handler that blocks forever, on real Kafka with the real runtime: past the batch deadline the
// sidecar re-runs the batch one record at a time, dead-letters the record that hangs (policy dlq)
// or stops there (policy stop), says so in the status (`failing`, with the reason) and goes on.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/paths.js';
import { connectorSuite, headerText } from '../../helpers/connector-suite.js';
import { getJson, uniqueName, waitFor } from '../../helpers/wait.js';

const FIXTURE = join(packageRoot, 'test', 'fixtures', 'hanging-handler');
const DEADLINE_MS = 2000;

describe('a handler that hangs (real Kafka, real runtime)', () => {
  const { kafka, readAll, start } = connectorSuite('test-deadline');

  async function run(env: NodeJS.ProcessEnv = {}) {
    const topic = uniqueName('hang');
    const tenant = uniqueName('dl');
    const connector = await start(FIXTURE, { topic, tenant, env: { AEROGRID_BATCH_DEADLINE_MS: String(DEADLINE_MS), ...env } });
    await waitFor('the app running', async () => (await getJson(`${connector.url}v1/status`)).body?.state === 'running', 60_000);
    const orders = Array.from({ length: 30 }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify({ product: i === 11 ? 'hang' : `p${i % 3}`, quantity: i + 1 }) }));
    await kafka.produce(topic, orders);
    const status = async () => (await getJson(`${connector.url}v1/status`)).body;
    return { topic, tenant, connector, orders, status, dlq: `aerogrid.${tenant}.hangapp.dlq` };
  }

  it('dead-letters the record that hangs past the batch deadline, shows failing with the reason, sums the rest and recovers', async () => {
    const { connector, orders, status, dlq } = await run();
    const failing = await waitFor('failing with the reason', async () => {
      const s = await status();
      return s.state === 'failing' && /hung on record .*@11 /.test(s.message) ? s : null;
    }, 60_000, 100);
    expect(failing.message).toMatch(/a handler hung on record hang-[^\]]+\[0\]@11 for more than 2 s \(the batch deadline\): the record was dead-lettered/);
    const dead = await waitFor('the hanging record dead-lettered', async () => {
      const all = await readAll(dlq);
      return all.length > 0 ? all : null;
    }, 30_000);
    expect(dead.map((d) => d.key?.toString())).toEqual(['o-11']);
    expect(headerText(dead[0]!.headers!['aerogrid-reason'])).toBe('the handler did not finish within the batch deadline (2 s)');
    const expected: Record<string, { units_sold: number }> = {};
    orders.forEach((_, i) => { if (i !== 11) expected[`p${i % 3}`] = { units_sold: (expected[`p${i % 3}`]?.units_sold ?? 0) + i + 1 }; });
    await waitFor('every other order summed', async () => JSON.stringify((await getJson(`${connector.url}v1/grids/product_sum`)).body.rows) === JSON.stringify(expected), 30_000);
    // Back to running once a runtime stayed up for the settle time (30 s) after the hang.
    const s = await waitFor('running again', async () => {
      const st = await status();
      return st.state === 'running' ? st : null;
    }, 60_000, 500);
    expect(s.runtime.deadline_exceeded).toBe(2); // the whole batch, then its record alone
    expect(s.records.dead_lettered.handler).toBe(1);
    expect(s.records.processed).toBe(29);
    expect(s.commit.recoveries).toBe(0);
    expect(connector.logs.join('\n')).toMatch(/re-running its 30 records one at a time to find the one that hangs/);
  }, 150_000);

  it('with the stop policy, stops at the record that hangs and says why; the records before it are summed', async () => {
    const { connector, status, dlq } = await run({ AEROGRID_DEAD_LETTER: 'stop' });
    const s = await waitFor('stopped at the hanging record', async () => {
      const st = await status();
      return st.state === 'failing' && /stopped at a bad record/.test(st.message) ? st : null;
    }, 60_000, 100);
    expect(s.message).toMatch(/@11 \(handler\): the handler did not finish within the batch deadline \(2 s\)/);
    const rows = (await getJson(`${connector.url}v1/grids/product_sum`)).body.rows;
    // Records 0-10 were committed one at a time before the one that hangs.
    expect(rows).toEqual({ p0: { units_sold: 1 + 4 + 7 + 10 }, p1: { units_sold: 2 + 5 + 8 + 11 }, p2: { units_sold: 3 + 6 + 9 } });
    expect(await readAll(dlq)).toEqual([]);
  }, 120_000);
});
