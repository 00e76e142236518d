/**
 * The changelog reader thread: fetches and decodes the changelog (kafkajs, read committed) and
 * hands it to the main thread in packed chunks (`chunk.ts`), so that decoding the next records
 * overlaps folding the previous ones. At most `WINDOW` chunks wait for the main thread at a time.
 *
 * Messages to the main thread: `{type:'progress', total}` (before the first chunk),
 * `{type:'range', ends}` (the offsets it reads to), `{type:'chunk', chunk, total}`, `{type:'done', read}`,
 * `{type:'error', message}`, `{type:'log', level, message}`. From it: `'ack'` per folded chunk.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ReadMessage } from '../kafka/client.js';
import type { KafkaSecurity } from '../kafka/security.js';
import { packChunk, type RawRecord } from './chunk.js';
import { installLeanRecordDecoder } from './lean-records.js';

// Before kafkajs is loaded (below), which takes the record decoder when it loads.
installLeanRecordDecoder();
const { createKafkaClient } = await import('../kafka/client.js');

export interface ReaderData {
  brokers: string[];
  clientId: string;
  connectionTimeout: number;
  security: KafkaSecurity;
  topic: string;
  groupPrefix: string;
  stallMs?: number;
  chunkRecords?: number;
}

const WINDOW = 8;
/**
 * Small fetches: kafkajs decodes a whole fetch before delivering any of it, so with large ones
 * the main thread would wait idle for the first records (1 MiB measured best on 1M rows).
 */
const FETCH_BYTES = 1024 * 1024;

const port = parentPort!;
const data = workerData as ReaderData;
/** Records per chunk: small enough that the main thread starts folding early. */
const chunkRecords = data.chunkRecords ?? 16_384;
let waiting = 0;
let resume: (() => void) | null = null;
port.on('message', (m) => {
  if (m !== 'ack') return;
  waiting -= 1;
  resume?.();
  resume = null;
});

const kafka = createKafkaClient({
  brokers: data.brokers,
  clientId: data.clientId,
  connectionTimeout: data.connectionTimeout,
  security: data.security,
  logger: {
    warn: (message) => port.postMessage({ type: 'log', level: 'warn', message }),
    error: (message) => port.postMessage({ type: 'log', level: 'error', message }),
  },
});

let total = 0;

async function send(messages: ReadMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += chunkRecords) {
    while (waiting >= WINDOW) await new Promise<void>((r) => (resume = r));
    const chunk = packChunk(messages as unknown as RawRecord[], i, Math.min(messages.length, i + chunkRecords));
    waiting += 1;
    port.postMessage({ type: 'chunk', chunk, total }, [chunk.meta.buffer, chunk.values.buffer]);
  }
}

try {
  await kafka.readTopic(data.topic, {
    groupPrefix: data.groupPrefix,
    stallMs: data.stallMs,
    maxBytesPerPartition: FETCH_BYTES,
    onMessages: (_partition, messages) => send(messages),
    onProgress: (read, t) => {
      total = t;
      if (read === 0) port.postMessage({ type: 'progress', total });
    },
    onRange: (ends) => port.postMessage({ type: 'range', ends }),
    onEnd: (read) => port.postMessage({ type: 'done', read }),
  });
} catch (err) {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
} finally {
  await kafka.close();
  port.close();
}
