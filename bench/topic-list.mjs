#!/usr/bin/env node
// `aerogrid topic list` on a broker of many topics: it reads every topic's offsets, and kafkajs's
// admin grows quadratic in the topics it has been asked about. A broker of its own on
// 127.0.0.1:19592, on empty storage, with BENCH_TOPICS (default 2,000) one-partition topics;
// stopped and purged at the end. Prints one JSON line per run (3 runs): wall ms and ms per topic.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PORT = 19592;
const TOPICS = Number(process.env.BENCH_TOPICS ?? 2000);
const { kafkaUp, kafkaDown } = await import(join(root, 'dist/local-kafka/broker.js'));
const { Kafka, logLevel } = createRequire(join(root, 'sidecar', 'package.json'))('kafkajs');

const { bootstrap } = await kafkaUp({ port: PORT, freshData: true, onProgress: (m) => console.error(m) });
try {
  const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  for (let i = 0; i < TOPICS; i += 200) {
    const topics = Array.from({ length: Math.min(200, TOPICS - i) }, (_, j) => ({ topic: `bench-topic-${i + j}`, numPartitions: 1 }));
    await admin.createTopics({ topics, timeout: 60_000, waitForLeaders: false });
  }
  // Creation is asynchronous on the broker: wait until it lists them all (bounded).
  for (let tries = 0; (await admin.listTopics()).length < TOPICS; tries++) {
    if (tries > 120) throw new Error(`the broker lists fewer than ${TOPICS} topics after 60 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await admin.disconnect();
  for (let run = 1; run <= 3; run++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [join(root, 'bin', 'aerogrid'), 'topic', 'list', '--json', '--broker', bootstrap], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`topic list exited ${r.status}: ${r.stderr}`);
    const listed = JSON.parse(r.stdout).length;
    console.log(JSON.stringify({ bench: 'topic-list', run, topics: TOPICS, listed, ms: Math.round(ms), msPerTopic: +(ms / TOPICS).toFixed(2) }));
  }
} finally {
  await kafkaDown({ port: PORT, purge: true });
}
