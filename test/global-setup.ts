// Starts (or reuses) the real local Kafka broker once for every suite; suites read its address
// from AEROGRID_TEST_BROKER. Point the tests at another broker by setting it yourself.
import { kafkaUp } from '../src/local-kafka/broker.js';

// Its own port, so the tests may recreate topics (like the seed app's 'orders') without touching
// the broker a developer runs the demo on.
const TEST_KAFKA_PORT = 19192;

export default async function setup(): Promise<void> {
  if (process.env.AEROGRID_TEST_BROKER) return;
  // Fresh storage whenever it starts: every run leaves its uniquely named topics behind, and a
  // broker of thousands of them makes whole-broker commands (topic list) slower run after run.
  const broker = await kafkaUp({ port: TEST_KAFKA_PORT, freshData: true, onProgress: (m) => process.stderr.write(`kafka: ${m}\n`) });
  process.env.AEROGRID_TEST_BROKER = broker.bootstrap;
}
