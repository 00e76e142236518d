/**
 * Before a restore: the app's changelog and dead-letter topics exist, and older instances of the
 * app are fenced, so that the changelog read next is final.
 */
import type { KafkaClient, TransactionalProducer } from '../kafka/client.js';
import type { Logger } from '../log.js';

/** Creates the compacted changelog topic and the dead-letter topic when missing, and says so. */
export async function ensureChangelogTopics(kafka: KafkaClient, logger: Logger, topics: { changelog: string; deadLetters: string; deadLetterRetentionMs?: number }): Promise<void> {
  if (await kafka.ensureTopic(topics.changelog, { partitions: 1, config: { 'cleanup.policy': 'compact' } })) {
    logger.info(`created the changelog topic '${topics.changelog}'`);
  }
  const retention = topics.deadLetterRetentionMs;
  if (await kafka.ensureTopic(topics.deadLetters, { partitions: 1, ...(retention ? { config: { 'retention.ms': String(retention) } } : {}) })) {
    logger.info(`created the dead-letter topic '${topics.deadLetters}'${retention ? ` (retention ${retention} ms)` : ''}`);
  }
}

/**
 * Connects the app's transactional producer and fences any older producer with the same
 * transactional id: its open transaction is aborted and it can no longer commit. Connecting alone
 * would not (kafkajs takes the transactional epoch only at the first transaction): an old writer
 * paused mid-transaction could then still commit after the changelog was read.
 */
export async function connectFencing(kafka: KafkaClient, transactionalId: string): Promise<TransactionalProducer> {
  const producer = kafka.createTransactionalProducer(transactionalId);
  try {
    await producer.connect();
    await producer.fence();
  } catch (err) {
    await producer.disconnect().catch(() => {});
    throw err;
  }
  return producer;
}
