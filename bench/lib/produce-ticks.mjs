#!/usr/bin/env node
// Produces {key, sent} ticks at a steady rate in its own process, so that the benchmark's clients
// and the producer do not share one event loop. Usage: produce-ticks.mjs BROKER TOPIC RATE SECONDS KEYS
// TOPIC may be a comma-separated list: each topic gets RATE ticks/s, all topics' ticks of a moment
// in one produce request. Prints the number of records produced (per topic).
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { Kafka, logLevel } = createRequire(join(root, 'sidecar', 'package.json'))('kafkajs');
const [broker, topicList, rate, seconds, keys] = process.argv.slice(2);
const topics = topicList.split(',');
const producer = new Kafka({ brokers: [broker], clientId: 'bench-producer', logLevel: logLevel.NOTHING }).producer();
await producer.connect();
const tickMs = 10;
const perTick = (Number(rate) * tickMs) / 1000;
const end = Date.now() + Number(seconds) * 1000;
let n = 0;
let carry = 0;
let next = Date.now();
// Sends are pipelined (a slow acknowledgement does not hold the next tick back), at most 50 in flight.
const inFlight = new Set();
while (Date.now() < end) {
  carry += perTick;
  const messages = [];
  for (; carry >= 1; carry--, n++) {
    const key = `k${n % Number(keys)}`;
    messages.push({ key, value: JSON.stringify({ key, sent: Date.now() }) });
  }
  if (messages.length) {
    const sent = producer.sendBatch({ acks: -1, topicMessages: topics.map((topic) => ({ topic, messages })) });
    inFlight.add(sent);
    sent.then(() => inFlight.delete(sent), (e) => { console.error(`produce-ticks: ${e.message}`); process.exit(1); });
    if (inFlight.size >= 50) await Promise.race(inFlight);
  }
  next += tickMs;
  const wait = next - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
await Promise.all(inFlight);
await producer.disconnect();
process.stdout.write(`${n}\n`);
