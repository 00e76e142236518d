// Starts (or reuses) the real local Kafka broker once for every suite; suites read its address
// from AEROGRID_TEST_BROKER. Point the tests at another broker by setting it yourself.
import { kafkaUp } from '../src/local-kafka/broker.js';

// Its own port, so the tests may recreate topics (like the seed app's 'orders') without touching
// the broker a developer runs the demo on.
const TEST_KAFKA_PORT = 19192;

export default async function setup(): Promise<void> {
  if (process.env.AEROGRID_TEST_BROKER) return;
  const broker = await kafkaUp({ port: TEST_KAFKA_PORT, onProgress: (m) => process.stderr.write(`kafka: ${m}\n`) });
  process.env.AEROGRID_TEST_BROKER = broker.bootstrap;
}
