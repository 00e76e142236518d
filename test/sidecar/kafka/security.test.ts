/**
 * Kafka credentials and the tenant's topic allowance, as the sidecar gets them in a cluster: a real
 * broker that requires a user (SASL PLAIN) on a port of its own, and the shared test broker.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type Sidecar } from '../../../sidecar/src/index.js';
import { createLogger } from '../../../sidecar/src/log.js';
import { createKafkaClient, type KafkaClient } from '../../../sidecar/src/kafka/client.js';
import { kafkaSecurityFromEnv, type KafkaSecurity } from '../../../sidecar/src/kafka/security.js';
import { kafkaDown, kafkaUp } from '../../../src/local-kafka/broker.js';
import { BROKER, FakeRuntime, ORDERS_GRIDS, OrdersModel, getJson, uniqueName, waitFor } from '../../helpers/sidecar.js';

const PORT = 19492;
const USER = { username: 'alice', password: 'alice-secret' };
const PLAIN: KafkaSecurity = { sasl: { mechanism: 'plain', ...USER } };

const sidecars: Sidecar[] = [];
const runtimes: FakeRuntime[] = [];

async function start(options: Parameters<typeof startSidecar>[0]): Promise<Sidecar> {
  const s = await startSidecar({ port: 0, topicPollMs: 200, logger: createLogger({ name: options?.app ?? 'test', write: () => {} }), ...options });
  sidecars.push(s);
  return s;
}

afterEach(async () => {
  for (const r of runtimes.splice(0)) r.destroy();
  for (const s of sidecars.splice(0)) await s.close();
});

describe('a broker that requires a user', () => {
  let broker: string;
  let admin: KafkaClient;

  beforeAll(async () => {
    broker = (await kafkaUp({ port: PORT, user: USER, freshData: true })).bootstrap;
    admin = createKafkaClient({ brokers: [broker], clientId: 'credentials-test', security: PLAIN });
  }, 120_000);

  afterAll(async () => {
    await admin?.close();
    await kafkaDown({ port: PORT, purge: true });
  });

  it('with the right user, the sidecar restores, consumes and commits: the grid follows the topic', async () => {
    const app = uniqueName('creds');
    const topic = uniqueName('orders');
    await admin.ensureTopic(topic, { partitions: 1 });
    const sidecar = await start({ broker, app, kafkaSecurity: PLAIN, allowedTopics: [topic] });
    const rt = await FakeRuntime.connect(sidecar.runtimeAddr);
    runtimes.push(rt);
    const model = new OrdersModel();
    await rt.hello({ app, grids: ORDERS_GRIDS, topics: [{ name: topic, streamed: true }] });
    rt.autoAck(model.handle);
    await admin.produce(topic, [
      { key: null, value: JSON.stringify({ product: 'tea', quantity: 3 }) },
      { key: null, value: JSON.stringify({ product: 'tea', quantity: 4 }) },
    ]);
    await waitFor(async () => (await getJson(sidecar.url + 'v1/grids/product_sum')).body.rows?.tea?.units_sold === 7, { what: 'the grid to reach 7' });
    // Rows show when the runtime acks them; the transaction with the offsets commits just after.
    const status = await waitFor(async () => {
      const body = (await getJson(sidecar.url + 'v1/status')).body;
      return body.last_commit ? body : null;
    }, { what: 'the first commit' });
    expect(status.state).toBe('running');
    expect(status.last_commit.offsets).toEqual([{ topic, partition: 0, offset: '2' }]);
  });

  it('with a wrong password, the sidecar waits and says Kafka refused the user; nothing is read', async () => {
    const app = uniqueName('badcreds');
    const sidecar = await start({ broker, app, kafkaSecurity: { sasl: { mechanism: 'plain', username: 'alice', password: 'wrong' } } });
    const readyz = await waitFor(async () => {
      const r = await getJson(sidecar.url + 'readyz');
      return r.body.state === 'waiting' && /authentication/i.test(r.body.message ?? '') ? r : null;
    }, { what: 'a waiting status naming the failed authentication' });
    expect(readyz.status).toBe(503);
    expect(readyz.body.message).toContain(broker);
  });
});

describe('the tenant\'s topic allowance', () => {
  it('refuses a runtime that streams a topic outside it, and says so in the status; an allowed prefix is fine', async () => {
    const app = uniqueName('allowed');
    const sidecar = await start({ broker: BROKER, app, tenant: 'sales', allowedTopics: ['orders', 'prices.*'] });
    const bad = await FakeRuntime.connect(sidecar.runtimeAddr);
    runtimes.push(bad);
    bad.send({ type: 'hello', protocol: 'aerogrid.runtime.v1', app, topics: [{ name: 'payroll', key_type: 'str', value_type: 'Order', streamed: true }], grids: ORDERS_GRIDS });
    const error = await bad.next('error');
    expect(error.code).toBe('topic_not_allowed');
    expect(error.message).toContain("tenant 'sales' may not read 'payroll'");
    expect(error.message).toContain('(allowed: orders, prices.*)');
    // Once the changelog is ready (it may still be restoring), the status says why the app cannot run.
    const status = await waitFor(async () => {
      const body = (await getJson(sidecar.url + 'v1/status')).body;
      return body.state === 'failing' ? body : null;
    }, { what: 'a failing status' });
    expect(status.message).toContain("may not read 'payroll'");
    expect(status.message).toContain('aerogrid tenant add --topics');
    expect(status.message).not.toContain('prices'); // the status is open to probes: it names no other topic

    const good = await FakeRuntime.connect(sidecar.runtimeAddr);
    runtimes.push(good);
    expect((await good.hello({ app, grids: ORDERS_GRIDS, topics: [{ name: 'prices.eu', streamed: true }] })).type).toBe('welcome');
  });
});

describe('credentials from the environment', () => {
  it('takes a user and password together, with a mechanism and TLS, and names what is missing or wrong', () => {
    expect(kafkaSecurityFromEnv({})).toEqual({});
    expect(kafkaSecurityFromEnv({ AEROGRID_KAFKA_USERNAME: 'a', AEROGRID_KAFKA_PASSWORD: 'p', AEROGRID_KAFKA_TLS: 'true' }))
      .toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'a', password: 'p' }, ssl: true });
    expect(() => kafkaSecurityFromEnv({ AEROGRID_KAFKA_USERNAME: 'a' })).toThrow('AEROGRID_KAFKA_USERNAME is set without AEROGRID_KAFKA_PASSWORD');
    expect(() => kafkaSecurityFromEnv({ AEROGRID_KAFKA_USERNAME: 'a', AEROGRID_KAFKA_PASSWORD: 'p', AEROGRID_KAFKA_SASL_MECHANISM: 'gssapi' }))
      .toThrow('use one of plain, scram-sha-256, scram-sha-512');
    expect(() => kafkaSecurityFromEnv({ AEROGRID_KAFKA_TLS: 'yes please' })).toThrow('use true or false');
  });
});
