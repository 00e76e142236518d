#!/usr/bin/env node
// Produces {key, sent} ticks at a steady rate in its own process, so that the benchmark's clients
// and the producer do not share one event loop. Usage: produce-ticks.mjs BROKER TOPIC RATE SECONDS KEYS
// Prints the number of records produced.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));
const [broker, topic, rate, seconds, keys] = process.argv.slice(2);
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-producer' });
const tickMs = 10;
const perTick = (Number(rate) * tickMs) / 1000;
const end = Date.now() + Number(seconds) * 1000;
let n = 0;
let carry = 0;
let next = Date.now();
while (Date.now() < end) {
  carry += perTick;
  const batch = [];
  for (; carry >= 1; carry--, n++) {
    const key = `k${n % Number(keys)}`;
    batch.push({ key, value: JSON.stringify({ key, sent: Date.now() }) });
  }
  if (batch.length) await kafka.produce(topic, batch);
  next += tickMs;
  const wait = next - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
await kafka.close();
process.stdout.write(`${n}\n`);
