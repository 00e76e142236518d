/**
 * The fence a takeover relies on, on real Kafka: once `connectFencing` resolved, an older writer of
 * the same transactional id (here paused with a transaction open, as a SIGSTOPped sidecar would be)
 * can no longer commit, and what it had written in that transaction never becomes visible. Only
 * then is the changelog the new writer reads next final.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type ReadMessage } from '../../../sidecar/src/kafka/client.js';
import { connectFencing } from '../../../sidecar/src/restore/fence.js';
import { BROKER, uniqueName } from '../../helpers/sidecar.js';

const kafka = createKafkaClient({ brokers: [BROKER], clientId: 'test-fence', logger: { warn: () => {}, error: () => {} } });

afterAll(async () => {
  await kafka.close();
});

describe('connectFencing', () => {
  it('fences an older writer that has a transaction open: its commit fails and its records stay invisible', async () => {
    const topic = uniqueName('fence');
    const transactionalId = `aerogrid.${uniqueName('fence')}.app.tx`;
    await kafka.ensureTopic(topic, { partitions: 1 });
    const old = new Kafka({ brokers: [BROKER], clientId: 'test-old-writer', logLevel: logLevel.NOTHING })
      .producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, retry: { retries: 2 } });
    await old.connect();
    const tx = await old.transaction();
    await tx.send({ topic, messages: [{ key: 'k', value: 'from the old writer' }] });

    const producer = await connectFencing(kafka, transactionalId);
    try {
      await expect(tx.commit()).rejects.toThrow();
      const seen: ReadMessage[] = [];
      await kafka.readTopic(topic, { onMessages: (_p, messages) => seen.push(...messages) });
      expect(seen).toEqual([]);
      // The new writer commits as usual.
      await producer.commit({ messages: [{ topic, messages: [{ key: 'k', value: 'from the new writer' }] }], consumerGroupId: 'unused', offsets: [] });
      await kafka.readTopic(topic, { onMessages: (_p, messages) => seen.push(...messages) });
      expect(seen.map((m) => m.value?.toString())).toEqual(['from the new writer']);
    } finally {
      await producer.disconnect();
      await old.disconnect().catch(() => {});
    }
  }, 60_000);
});
