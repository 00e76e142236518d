// One writer per app, on real Kafka with real processes: two instances of the seed app on one
// topic (the active one killed with SIGKILL again and again, a second one started and stopped,
// the active one paused past its session), and rows so wide that one transaction's changelog
// records are many times the broker's request limit. Every grid ends exact, the changelog alone
// replays to it, and each bad record is dead-lettered exactly once.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type ReadMessage } from '../../../sidecar/src/kafka/client.js';
import { readChangelog } from '../../../sidecar/src/restore/restore.js';
import { expectedSums, randomOrder, type Order } from '../../../src/demo/orders.js';
import { packageRoot } from '../../../src/paths.js';
import { getJson, testBroker, uniqueName, waitFor } from '../../helpers/wait.js';
import { freePort, kill9, same, seeded, startRuntimeProcess, startSidecarProcess, type Proc } from '../../helpers/procs.js';

const broker = testBroker();
const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-single-writer', logger: { warn: () => {}, error: () => {} } });
const logs: string[] = [];
const instances: Instance[] = [];

afterAll(async () => {
  for (const i of instances) await i.kill();
  await kafka.close();
});

/** One instance of an app as a pod runs it: a sidecar and a supervised Python runtime. */
class Instance {
  sidecar: Proc | null = null;
  runtime: Proc | null = null;
  private supervise = false;
  url = '';

  private constructor(
    readonly name: string,
    private readonly args: { port: number; runtimePort: number; app: string; tenant: string; appFile: string; env: NodeJS.ProcessEnv },
  ) {
    this.url = `http://127.0.0.1:${args.port}/`;
  }

  static async create(name: string, a: { app: string; tenant: string; appFile: string; env: NodeJS.ProcessEnv }): Promise<Instance> {
    const i = new Instance(name, { ...a, port: await freePort(), runtimePort: await freePort() });
    instances.push(i);
    return i;
  }

  /** `host/pid` of the sidecar: what it writes into the changelog's writer header. */
  get writer(): string {
    return `${hostname()}/${this.sidecar?.child.pid}`;
  }

  start(): void {
    const { port, runtimePort, app, tenant, appFile, env } = this.args;
    this.sidecar = startSidecarProcess({ broker, port, runtimePort, app, tenant }, logs);
    this.supervise = true;
    const run = () => {
      const proc = startRuntimeProcess(appFile, runtimePort, broker, env, logs);
      this.runtime = proc;
      void proc.exited.then(async () => {
        await sleep(200);
        if (this.supervise && this.runtime === proc) run();
      });
    };
    run();
  }

  async kill(): Promise<void> {
    this.supervise = false;
    await kill9(this.runtime);
    await kill9(this.sidecar);
  }

  /** A graceful stop, as `kubectl delete pod` or Ctrl-C does it. */
  async stop(): Promise<void> {
    this.supervise = false;
    const s = this.sidecar;
    if (s && s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await Promise.race([s.exited, sleep(15_000)]);
    }
    await kill9(this.runtime);
    await kill9(s);
  }

  async status(): Promise<Record<string, any> | null> {
    try {
      return (await getJson(`${this.url}v1/status`)).body;
    } catch {
      return null;
    }
  }
}

async function activeOf(list: Instance[], what: string, timeoutMs = 60_000): Promise<Instance> {
  return waitFor(what, async () => {
    for (const i of list) {
      const s = await i.status();
      if (s?.role === 'active' && s.state === 'running') return i;
    }
    return null;
  }, timeoutMs, 50);
}

async function readAll(topic: string): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  await kafka.readTopic(topic, { onMessages: (_p, m) => void out.push(...m) });
  return out;
}

const header = (m: ReadMessage, name: string) => {
  const v = m.headers?.[name];
  return v === undefined ? undefined : String(Array.isArray(v) ? v[0] : v);
};

const appFile = join(packageRoot, 'test', 'fixtures', 'eo-orders', 'app.py');
const produceOrders = (topic: string, orders: Order[], from: number, to: number, bad = 0) =>
  kafka.produce(topic, [
    ...orders.slice(from, to).map((o, j) => ({ key: `order-${from + j}`, value: JSON.stringify(o) })),
    ...Array.from({ length: bad }, (_, j) => ({ key: `bad-${from}-${j}`, value: '{not json' })),
  ]);

/** Seeded orders on a new 3-partition topic, and two instances of the seed app: the first one started and active. */
async function firstOfTwo(prefix: string, seed: number, n: number) {
  const topic = uniqueName(prefix);
  const tenant = uniqueName('sw');
  const random = seeded(seed);
  const orders = Array.from({ length: n }, () => randomOrder(random));
  await kafka.ensureTopic(topic, { partitions: 3 });
  const a = await Instance.create('a', { app: 'ordersapp', tenant, appFile, env: { ORDERS_TOPIC: topic } });
  const b = await Instance.create('b', { app: 'ordersapp', tenant, appFile, env: { ORDERS_TOPIC: topic } });
  a.start();
  await activeOf([a], 'the first instance active');
  return { topic, tenant, random, orders, a, b };
}

describe('one writer per app', () => {
  it('two instances, the active one killed -9 ten times mid-stream: exact grids, the changelog replays to them, each bad record dead-lettered once', async () => {
    const ORDERS = 100_000;
    const CHUNK = 10_000;
    const BAD_PER_CHUNK = 3;
    const topic = uniqueName('sw-kill');
    const tenant = uniqueName('sw');
    const random = seeded(11);
    const orders = Array.from({ length: ORDERS }, () => randomOrder(random));
    const expected = expectedSums(orders);
    await kafka.ensureTopic(topic, { partitions: 3 });
    const pair = [
      await Instance.create('a', { app: 'ordersapp', tenant, appFile, env: { ORDERS_TOPIC: topic } }),
      await Instance.create('b', { app: 'ordersapp', tenant, appFile, env: { ORDERS_TOPIC: topic } }),
    ];
    for (const i of pair) i.start();

    let kills = 0;
    for (let produced = 0; produced < ORDERS; produced += CHUNK) {
      const active = await activeOf(pair, `an active instance before kill ${kills + 1}`);
      const before = (await active.status())?.records.processed ?? 0;
      await produceOrders(topic, orders, produced, produced + CHUNK, BAD_PER_CHUNK);
      await waitFor(`progress before kill ${kills + 1}`, async () => ((await active.status())?.records.processed ?? 0) > before, 60_000, 20);
      await sleep(Math.floor(random() * 300));
      await active.kill();
      kills += 1;
      active.start();
    }
    expect(kills).toBe(10);

    const active = await activeOf(pair, 'an active instance after the stream');
    const grid = await waitFor('the exact sums on the active instance', async () => {
      const { body } = await getJson(`${active.url}v1/grids/product_sum`);
      return same(body?.rows, expected) ? body.rows : null;
    }, 120_000, 200);
    expect(grid).toEqual(expected);
    // The standby serves the same grid (it follows the changelog), marked as not the writer's.
    const standby = pair.find((i) => i !== active)!;
    await waitFor('the standby following to the exact sums', async () => {
      const { body } = await getJson(`${standby.url}v1/grids/product_sum`);
      return same(body?.rows, expected);
    }, 60_000, 200);
    const sb = await waitFor('the other instance standing by', async () => {
      const st = await standby.status();
      return st?.state === 'standby' && st.stale_since !== null ? st : null;
    }, 60_000, 100);
    expect(sb.role).toBe('standby');
    expect(sb.stale_since).not.toBeNull();

    const committed = await kafka.committedOffsets(`aerogrid.${tenant}.ordersapp`, topic);
    expect(committed.reduce((n, p) => n + Number(p.offset), 0)).toBe(ORDERS + 10 * BAD_PER_CHUNK);

    const changelog = await readChangelog({ kafka, topic: `aerogrid.${tenant}.ordersapp.changelog`, groupPrefix: 'test.sw', logger: { warn: () => {}, error: () => {} } });
    expect(Object.fromEntries(changelog.grids.get('product_sum')!)).toEqual(expected);

    const dead = await readAll(`aerogrid.${tenant}.ordersapp.dlq`);
    const where = dead.map((m) => `${header(m, 'aerogrid-source-partition')}@${header(m, 'aerogrid-source-offset')}`);
    expect(new Set(where).size).toBe(where.length);
    expect(dead.map((m) => m.key?.toString()).sort()).toEqual(
      Array.from({ length: ORDERS / CHUNK }, (_, c) => Array.from({ length: BAD_PER_CHUNK }, (_, j) => `bad-${c * CHUNK}-${j}`)).flat().sort(),
    );
    for (const i of pair) await i.kill();
  }, 420_000);

  it('a second instance started and stopped ten times during the stream never writes, and the grid stays exact', async () => {
    const { topic, tenant, random, orders, a, b } = await firstOfTwo('sw-second', 5, 50_000);
    const writer = a.writer;
    for (let round = 0; round < 10; round++) {
      await produceOrders(topic, orders, round * 5000, (round + 1) * 5000);
      b.start();
      await waitFor(`the second instance standing by (round ${round + 1})`, async () => (await b.status())?.state === 'standby', 60_000, 50);
      await sleep(Math.floor(random() * 500));
      await b.stop();
    }
    const rows = await waitFor('the exact sums', async () => {
      const { body } = await getJson(`${a.url}v1/grids/product_sum`);
      return same(body?.rows, expectedSums(orders)) ? body.rows : null;
    }, 90_000, 200);
    expect(rows).toEqual(expectedSums(orders));
    const s = (await a.status())!;
    expect(s.role).toBe('active');
    expect(s.commit.recoveries).toBe(0);
    const writers = new Set((await readAll(`aerogrid.${tenant}.ordersapp.changelog`)).map((m) => header(m, 'aerogrid-writer')));
    expect([...writers]).toEqual([writer]);
    await a.kill();
  }, 300_000);

  it('an active instance paused past its session writes nothing after it resumes; the standby took over and the grid is exact', async () => {
    const ORDERS = 40_000;
    const { topic, tenant, orders, a, b } = await firstOfTwo('sw-pause', 9, ORDERS);
    b.start();
    await waitFor('the second instance standing by', async () => (await b.status())?.state === 'standby', 60_000, 50);
    const paused = a.writer;
    await produceOrders(topic, orders, 0, 20_000);
    await waitFor('a first commit', async () => (await a.status())?.last_commit != null, 60_000, 20);
    a.sidecar!.child.kill('SIGSTOP');
    const took = await activeOf([b], 'the standby taking over from the paused writer', 60_000);
    const newWriter = took.writer;
    await produceOrders(topic, orders, 20_000, 30_000);
    await sleep(1000);
    a.sidecar!.child.kill('SIGCONT');
    await waitFor('the resumed instance standing by', async () => (await a.status())?.role === 'standby', 60_000, 100);
    await produceOrders(topic, orders, 30_000, ORDERS);
    const rows = await waitFor('the exact sums', async () => {
      const { body } = await getJson(`${b.url}v1/grids/product_sum`);
      return same(body?.rows, expectedSums(orders)) ? body.rows : null;
    }, 90_000, 200);
    expect(rows).toEqual(expectedSums(orders));
    // Committed changelog records in order: the paused writer's, then only the new writer's.
    const writers = (await readAll(`aerogrid.${tenant}.ordersapp.changelog`)).map((m) => header(m, 'aerogrid-writer'));
    const firstNew = writers.indexOf(newWriter);
    expect(firstNew).toBeGreaterThan(0);
    expect(writers.slice(0, firstNew).every((w) => w === paused)).toBe(true);
    expect(writers.slice(firstNew).every((w) => w === newWriter)).toBe(true);
    await a.kill();
    await b.kill();
  }, 300_000);

  it('rows of 4 KB over 20,000 keys: commits fit the broker\'s limits with no recovery; a row no request can hold is dead-lettered', async () => {
    const ORDERS = 60_000;
    const KEYS = 20_000;
    const topic = uniqueName('sw-wide');
    const tenant = uniqueName('sw');
    const random = seeded(13);
    await kafka.ensureTopic(topic, { partitions: 3 });
    const wide = await Instance.create('wide', { app: 'wideapp', tenant, appFile: join(packageRoot, 'test', 'fixtures', 'wide-rows', 'app.py'), env: { ORDERS_TOPIC: topic } });
    wide.start();
    await activeOf([wide], 'the wide app active');
    const units = new Map<string, number>();
    for (let from = 0; from < ORDERS; from += 10_000) {
      const batch = Array.from({ length: 10_000 }, (_, j) => {
        const product = `p${String((from + j) % KEYS).padStart(6, '0')}`;
        const quantity = 1 + Math.floor(random() * 9);
        units.set(product, (units.get(product) ?? 0) + quantity);
        return { key: `o-${from + j}`, value: JSON.stringify({ product, quantity }) };
      });
      if (from === 30_000) batch.push({ key: 'o-huge', value: JSON.stringify({ product: 'huge', quantity: 1 }) });
      await kafka.produce(topic, batch);
    }
    await waitFor('every wide row exact', async () => {
      const { body } = await getJson(`${wide.url}v1/grids/wide`);
      const rows = body?.rows as Record<string, { units: number; pad: string }> | undefined;
      if (!rows || Object.keys(rows).length !== KEYS) return false;
      return [...units].every(([k, n]) => rows[k]?.units === n && rows[k]!.pad.length === 4000);
    }, 240_000, 500);
    // Counters follow commits, which come a little after the grid shows the rows.
    const s = await waitFor('the huge row\'s record dead-lettered', async () => {
      const st = await wide.status();
      return st?.records.dead_lettered.handler === 1 && st.lag.every((l: { lag: number }) => l.lag === 0) ? st : null;
    }, 60_000, 200);
    expect(s.commit.recoveries).toBe(0);
    const dead = await readAll(`aerogrid.${tenant}.wideapp.dlq`);
    expect(dead.map((m) => m.key?.toString())).toEqual(['o-huge']);
    expect(header(dead[0]!, 'aerogrid-reason')).toMatch(/more than the \d+ bytes a row may have \(the changelog topic's max\.message\.bytes\)/);
    await wide.kill();
  }, 300_000);
});
