import { afterAll } from 'vitest';
import { createKafkaClient, type KafkaClient, type ReadMessage, type TopicOptions } from '../../sidecar/src/kafka/client.js';
import { startConnector, type StartedConnector } from './connector.js';
import { testBroker } from './wait.js';

export interface ConnectorSuite {
  broker: string;
  kafka: KafkaClient;
  /** Every connector `start` ran; all are stopped after the suite. */
  connectors: StartedConnector[];
  /** Every message on a topic, from the start. */
  readAll(topic: string): Promise<ReadMessage[]>;
  /** Creates the source topic, then runs the fixture reading it (env ORDERS_TOPIC) for the tenant. */
  start(fixture: string, options: { topic: string; tenant: string; topicOptions?: TopicOptions; env?: NodeJS.ProcessEnv; deadLetterRetentionMs?: number }): Promise<StartedConnector>;
}

/**
 * The shared setup of suites that run connector fixtures on the test broker: a Kafka client and
 * the connectors started, closed and stopped after the suite. Call it inside `describe`.
 */
export function connectorSuite(clientId: string): ConnectorSuite {
  const broker = testBroker();
  const kafka = createKafkaClient({ brokers: [broker], clientId });
  const connectors: StartedConnector[] = [];

  afterAll(async () => {
    await Promise.all(connectors.map((c) => c.stop()));
    await kafka.close();
  });

  async function readAll(topic: string): Promise<ReadMessage[]> {
    const out: ReadMessage[] = [];
    await kafka.readTopic(topic, { onMessages: (_p, messages) => out.push(...messages) });
    return out;
  }

  async function start(fixture: string, options: Parameters<ConnectorSuite['start']>[1]): Promise<StartedConnector> {
    const { topic, tenant, topicOptions = { partitions: 1 }, env = {}, deadLetterRetentionMs } = options;
    await kafka.ensureTopic(topic, topicOptions);
    const connector = await startConnector(fixture, broker, { tenant, env: { ORDERS_TOPIC: topic, ...env }, deadLetterRetentionMs });
    connectors.push(connector);
    return connector;
  }

  return { broker, kafka, connectors, readAll, start };
}

/** A Kafka header's value as text (a dead letter's reason, source, offset), undefined when absent. */
export const headerText = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
