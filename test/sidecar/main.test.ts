/**
 * The `aerogrid-sidecar` binary (sidecar/dist/main.js, built by `npx tsc -b sidecar`): flags and
 * environment, the listening line, logs on stderr, and a clean stop on SIGTERM.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { BROKER, FakeRuntime, ORDERS_GRIDS, OrdersModel, getJson, uniqueName, waitFor } from '../helpers/sidecar.js';

const MAIN = fileURLToPath(new URL('../../sidecar/dist/main.js', import.meta.url));
const kafka = createKafkaClient({ brokers: [BROKER], clientId: 'aerogrid-sidecar-tests' });
const topics: string[] = [];

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Run[] = [];

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the sidecar first (npx tsc -b sidecar)`);
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    stdout.push(...lines);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const r = { child, stdout, stderr: () => stderr, exit };
  running.push(r);
  return r;
}

async function listening(r: Run): Promise<{ event: string; http: string; runtime: string }> {
  const line = await waitFor(() => r.stdout[0], { what: `the listening line (stderr: ${r.stderr()})` });
  return JSON.parse(line);
}

afterEach(() => {
  for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

afterAll(async () => {
  for (const t of topics) await kafka.deleteTopic(t).catch(() => {});
  await kafka.close();
});

describe('aerogrid-sidecar', () => {
  it('prints the listening line, logs to stderr with the app name, and stops cleanly on SIGTERM', async () => {
    const topic = uniqueName('orders');
    topics.push(topic);
    await kafka.ensureTopic(topic, { partitions: 1 });
    await kafka.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: `o${i}`, value: JSON.stringify({ product: 'p', quantity: 1 }) })));
    const app = uniqueName('main');
    const r = run(['--broker', BROKER, '--port', '0', '--app', app]);
    const event = await listening(r);
    expect(event.event).toBe('listening');
    expect(event.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(event.http).not.toBe('http://127.0.0.1:0/');
    expect(event.runtime).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(r.stdout).toHaveLength(1);
    expect((await getJson(event.http + 'healthz')).body).toEqual({ ok: true });

    // A runtime that holds its batch until told to shut down, then acks it (as the protocol says).
    const rt = await FakeRuntime.connect(event.runtime);
    await rt.hello({ app, topics: [{ name: topic }], grids: ORDERS_GRIDS });
    const batch = await rt.next('batch', 20_000);
    expect(batch.records).toHaveLength(10);
    r.child.kill('SIGTERM');
    await rt.next('shutdown');
    rt.ackWith(batch, new OrdersModel().handle);
    const exit = await r.exit;
    expect(exit).toEqual({ code: 0, signal: null });
    // What was acked before the stop is committed.
    const [committed] = await kafka.committedOffsets(`aerogrid.default.${app}`, topic);
    expect(committed!.offset).toBe('10');
    const lines = r.stderr().trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line.startsWith(`[${app}] `)).toBe(true);
    expect(r.stderr()).toContain('SIGTERM: shutting down');
  }, 60_000);

  it('takes its settings from the environment', async () => {
    const app = uniqueName('env');
    const r = run([], { AEROGRID_BROKER: BROKER, AEROGRID_PORT: '0', AEROGRID_APP: app, AEROGRID_TENANT: 'team-a' });
    const event = await listening(r);
    const rt = await FakeRuntime.connect(event.runtime);
    rt.send({ type: 'hello', protocol: 'aerogrid.runtime.v1', app: 'someone-else', topics: [], grids: [] });
    expect((await rt.next('error')).code).toBe('wrong_app');
    const ok = await FakeRuntime.connect(event.runtime);
    await ok.hello({ app, grids: ORDERS_GRIDS });
    const ws = await getJson(event.http + 'v1/grids');
    expect(ws.body.app).toBe(app);
    r.child.kill('SIGINT');
    await ok.next('shutdown');
    await ok.close();
    expect((await r.exit).code).toBe(0);
  }, 30_000);

  it('rejects bad flags and names with a clear message and exit code 2', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--broker', BROKER, '--app', 'Orders_App'], {}, /invalid app name "Orders_App": must be a DNS-1123 label/],
      [['--broker', BROKER, '--tenant=-x'], {}, /invalid tenant name "-x"/],
      [['--port', '0'], {}, /no Kafka broker: pass --broker HOST:PORT or set AEROGRID_BROKER/],
      [['--broker', 'nohost'], {}, /invalid Kafka broker "nohost": expected HOST:PORT/],
      [['--broker', BROKER, '--runtime-addr', 'http://x'], {}, /invalid runtime address/],
      [['--broker', BROKER, '--port', 'eighty'], {}, /invalid port "eighty"/],
      [['--frobnicate'], {}, /Unknown option '--frobnicate'/],
      [['--broker', BROKER], { AEROGRID_KAFKA_USERNAME: 'alice' }, /AEROGRID_KAFKA_USERNAME is set without AEROGRID_KAFKA_PASSWORD: set both/],
    ];
    for (const [args, env, message] of cases) {
      const r = run(args, env);
      const { code } = await r.exit;
      expect(code, args.join(' ')).toBe(2);
      expect(r.stderr()).toMatch(message);
      expect(r.stdout).toEqual([]);
    }
    const help = run(['--help']);
    expect((await help.exit).code).toBe(0);
    expect(help.stdout.join('\n')).toContain('--runtime-addr');
  }, 30_000);

  it('refuses to start with a dead-letter topic that is a changelog, another app\'s dead letters or an internal name, naming the rule', async () => {
    const cases: [string[], RegExp][] = [
      [['--tenant', 'sales', '--app', 'attacker', '--dead-letter-topic', 'aerogrid.sales.victim.changelog'], /invalid dead-letter topic "aerogrid\.sales\.victim\.changelog": .*may not be an app's changelog/],
      [['--tenant', 'sales', '--dead-letter-topic', 'aerogrid.sales.victim.changelog'], /may not be an app's changelog/],
      [['--tenant', 'sales', '--app', 'attacker', '--dead-letter-topic', 'aerogrid.sales.victim.dlq'], /may not be another app's dead-letter topic/],
      [['--tenant', 'sales', '--app', 'attacker', '--dead-letter-topic', 'aerogrid.sales.victim.tx'], /may not be one of AeroGrid's internal names/],
      [['--tenant', 'sales', '--app', 'attacker', '--dead-letter-topic', 'aerogrid.sales.attacker.restore.1'], /may not be one of AeroGrid's internal names/],
      [['--tenant', 'sales', '--app', 'attacker', '--dead-letter-topic', 'aerogrid.billing.attacker.dlq'], /outside tenant sales's topics/],
    ];
    for (const [args, message] of cases) {
      const r = run(['--broker', BROKER, '--port', '0', ...args]);
      const { code } = await r.exit;
      expect(code, args.join(' ')).toBe(2);
      expect(r.stderr(), args.join(' ')).toMatch(message);
    }
  }, 30_000);

  it('fails with exit code 1 when its port is taken', async () => {
    const first = run(['--broker', BROKER, '--port', '0']);
    const { http } = await listening(first);
    const port = new URL(http).port;
    const second = run(['--broker', BROKER, '--port', port]);
    expect((await second.exit).code).toBe(1);
    expect(second.stderr()).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  }, 30_000);
});
