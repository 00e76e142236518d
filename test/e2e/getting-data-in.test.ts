// The first steps as the README shows them, with nothing but the CLI: a connector from the
// orders-sum template run by `aerogrid dev` before its topic exists (the wait names the command
// that makes it), the topic made with `aerogrid topic create`, orders fed with `aerogrid produce`,
// and the app summing them in its grid.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startCli, viewerUrl, type CliProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const broker = testBroker();
const topic = uniqueName('first-orders');
let base: string;
let dev: CliProcess | undefined;

beforeAll(() => {
  base = tempDir('aerogrid-data-in-');
});
afterAll(() => {
  if (dev && dev.child.exitCode === null) dev.child.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

it('topic create and produce feed an app under aerogrid dev, and its grid shows the sums', async () => {
  const init = await runCli(['init', 'shop', '--template', 'orders-sum', '--tenant', uniqueName('team'), '--topic', topic, '--yes', '--no-git'], { cwd: base });
  expect(init.code, init.stderr).toBe(0);
  const app = join(base, 'shop');

  // dev first, as the analyst did: it waits for the topic and says which command makes it.
  dev = startCli(['dev', app, '--port', '0', '--broker', broker, '--no-watch']);
  const url = await waitFor('the viewer URL', () => viewerUrl(dev!.output()), 60_000);
  await waitFor('the hint that names the command', () => dev!.output().includes(`waiting for topic '${topic}' to exist (create it, e.g. \`aerogrid topic create ${topic}\``), 60_000);

  const create = await runCli(['topic', 'create', topic, '--partitions', '3', '--broker', broker]);
  expect(create.code, create.stderr).toBe(0);

  writeFileSync(join(base, 'orders.jsonl'), [
    { order_id: 'o-1', product: 'tea', quantity: 3 },
    { order_id: 'o-2', product: 'cake', quantity: 7 },
    { order_id: 'o-3', product: 'tea', quantity: 2 },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');
  const produce = await runCli(['produce', topic, join(base, 'orders.jsonl'), '--key-field', 'order_id', '--broker', broker]);
  expect(produce.code, produce.stderr).toBe(0);
  expect(produce.stderr).toContain(`Sent 3 records to '${topic}'`);

  // More through standard input, while the app runs.
  const more = await runCli(['produce', topic, '-', '--key-field', 'order_id', '--broker', broker], { input: '{"order_id": "o-4", "product": "cake", "quantity": 1}\n' });
  expect(more.code, more.stderr).toBe(0);
  expect(more.stderr).toContain(`Sent 1 record to '${topic}'`);

  let seen: unknown = null;
  const grid = await waitFor('the sums in the grid', async () => {
    const { body } = await getJson(`${url}v1/grids/product_sum`);
    seen = body;
    return body?.rows?.tea?.units_sold === 5 && body.rows.cake?.units_sold === 8 ? body : null;
  }, 60_000).catch(async (error: Error) => {
    throw new Error(`${error.message}\nthe grid: ${JSON.stringify(seen)}\nstatus: ${JSON.stringify((await getJson(`${url}v1/status`)).body)}\naerogrid dev said:\n${dev!.output()}`);
  });
  expect(Object.keys(grid.rows).sort()).toEqual(['cake', 'tea']);

  dev.child.kill('SIGINT');
  expect(await waitFor('dev to stop', async () => (dev!.child.exitCode !== null ? { code: dev!.child.exitCode } : null), 30_000)).toEqual({ code: 0 });
}, 240_000);
